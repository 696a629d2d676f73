r"""SDCN and VGDCN: an auto-encoder and a GCN branch over the kNN graph."""
from typing import Optional

import torch
from torch import Tensor

from ..nn import (DeepAutoEncoder, FusedGCN, kl_to_target, student_t,
                  target_distribution)
from .base import LossDict
from .dec import DECModel
from .vade import VaDEModel


def _gcn_for(autoencoder: DeepAutoEncoder, num_clusters: int, eps: float,
             latent_activation: bool = True) -> FusedGCN:
    return FusedGCN(autoencoder.in_channels, autoencoder.hidden_channels,
                    autoencoder.latent_channels, num_clusters, eps,
                    latent_activation)


class SDCNModel(DECModel):
    r"""Structural Deep Clustering Network (`Bo et al., WWW 2020
    <https://arxiv.org/abs/2002.01633>`_): a plain auto-encoder, DEC's
    Student-t head and a :class:`~vgdcn_pyg.nn.FusedGCN` branch trained with

    .. math::
        \mathcal{L} = \mathcal{L}_{\mathrm{rec}} + 0.1\, \mathrm{KL}(P \,\|\,
        Q) + 0.01\, \mathrm{KL}(P \,\|\, \mathbf{Z}_G),

    clustering with :math:`\arg\max \mathbf{Z}_G`.

    Args:
        autoencoder (DeepAutoEncoder): A pretrained plain auto-encoder.
        num_clusters (int): :math:`K`.
        eps (float): Fusion weight :math:`\epsilon`. (default: :obj:`0.5`)
        q_weight (float): Weight of :math:`\mathrm{KL}(P \| Q)`.
        gcn_weight (float): Weight of :math:`\mathrm{KL}(P \| \mathbf{Z}_G)`.
    """
    requires_graph = True

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 eps: float = 0.5, q_weight: float = 0.1,
                 gcn_weight: float = 0.01, alpha: float = 1.0):
        super().__init__(autoencoder, num_clusters, recon_weight=1.0,
                         alpha=alpha, q_weight=q_weight)
        self.gcn_weight = gcn_weight
        self.gcn = _gcn_for(autoencoder, num_clusters, eps)

    def loss(self, x: Tensor, edge_index: Optional[Tensor] = None,
             edge_weight: Optional[Tensor] = None,
             index: Optional[Tensor] = None) -> LossDict:
        enc, p, terms = self._dec_terms(x, index)
        log_zg = self.gcn(x, edge_index, edge_weight, enc.hidden + [enc.mu])
        terms['kl_gcn'] = self.gcn_weight * kl_to_target(p, log_zg)
        return terms

    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None) -> Tensor:
        enc = self.autoencoder.encode(x)
        return self.gcn(x, edge_index, edge_weight,
                        enc.hidden + [enc.mu]).exp()


class VGDCNModel(VaDEModel):
    r"""The Variational Graph convolution Deep Clustering Network of the
    thesis (Algorithm 2): VaDE plus a :class:`~vgdcn_pyg.nn.FusedGCN` branch
    fed by every encoder layer, trained with

    .. math::
        \mathcal{L} = -\mathcal{L}_{\mathrm{ELBO}} + \lambda\,
        \mathrm{KL}(P \,\|\, \mathbf{Z}_G),

    where :math:`P` is the target distribution (eq. 3.14) of a soft
    assignment; samples are clustered by :math:`\arg\max \mathbf{Z}_G`
    (eq. 3.12).

    The thesis's choices are all available; the defaults differ where
    measurements on USPS said so (see ``docs/method.rst``):

    * :obj:`init`: :obj:`"gmm"` fits the mixture prior by a diagonal GMM on
      the pretrained means (the thesis, VaDE); :obj:`"spectral"` partitions
      the kNN graph by spectral clustering and moment-matches the prior to
      that partition, which uses the structural information from the start
      (USPS, seed 0: 77% ACC for k-means on the embedding, 84-88% for the
      graph's spectral partition).
    * :obj:`gcn_init`: :obj:`"encoder"` starts the GCN layers, which have
      the encoder's widths, as copies of the pretrained encoder, the last one
      as the posterior of the initial mixture
      (:meth:`~vgdcn_pyg.nn.FusedGCN.init_from_encoder`), and then fits the
      branch alone to the initial partition (the trainer's
      :obj:`warmup_steps`);
      :obj:`"random"` is the thesis's initialisation.
    * :obj:`target`: :obj:`"latent"` derives :math:`P` from the Student-t
      assignment :math:`Q` of the latent means to the GMM means (eq. 3.13,
      the thesis); :obj:`"gcn"` from :math:`\mathbf{Z}_G` itself, so that the
      graph-smoothed assignment is self-trained.
    * :obj:`posterior`: :obj:`"gmm"` uses VaDE's :math:`\gamma = p(c \mid
      \mathbf{z})` as :math:`q(c \mid \mathbf{x})` in the ELBO; :obj:`"graph"`
      uses the GCN's :math:`\mathbf{Z}_G` (detached), a valid variational
      choice that lets the graph pull each latent code toward the mixture
      component of its neighbourhood.

    Args:
        autoencoder (DeepAutoEncoder): A variational auto-encoder.
        num_clusters (int): :math:`K`.
        eps (float): Fusion weight :math:`\epsilon`. (default: :obj:`0.5`)
        gcn_weight (float): :math:`\lambda`. (default: :obj:`1.0`)
        alpha (float): Student-t degrees of freedom. (default: :obj:`1.0`)
        init (str): :obj:`"spectral"` or :obj:`"gmm"`.
        gcn_init (str): :obj:`"encoder"` or :obj:`"random"`.
        target (str): :obj:`"gcn"` or :obj:`"latent"`.
        posterior (str): :obj:`"graph"` or :obj:`"gmm"`.
    """
    requires_graph = True
    refreshes_target_in_loss = True
    training_tensors = ('target', 'init_target', '_posterior')

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 eps: float = 0.5, gcn_weight: float = 1.0,
                 alpha: float = 1.0, init: str = 'spectral',
                 gcn_init: str = 'encoder', target: str = 'gcn',
                 posterior: str = 'graph'):
        super().__init__(autoencoder, num_clusters)
        for name, value, choices in (
                ('init', init, ('spectral', 'gmm')),
                ('gcn_init', gcn_init, ('encoder', 'random')),
                ('target', target, ('gcn', 'latent')),
                ('posterior', posterior, ('graph', 'gmm'))):
            if value not in choices:
                raise ValueError(f'{name} must be one of {choices}, got '
                                 f'{value!r}')
        self.gcn_weight = gcn_weight
        self.alpha = alpha
        self.init = init
        self.gcn_init = gcn_init
        self.target_source = target
        self.posterior = posterior
        self.gcn = _gcn_for(autoencoder, num_clusters, eps,
                            latent_activation=gcn_init == 'random')
        self.target: Optional[Tensor] = None
        self.init_target: Optional[Tensor] = None
        self._posterior: Optional[Tensor] = None
        self._refresh_pending = False

    def init_clusters(self, z, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None):
        if self.init == 'spectral':
            if edge_index is None:
                raise ValueError("init='spectral' needs the graph")
            from ..graph.spectral import spectral_clustering
            labels = spectral_clustering(edge_index, edge_weight, len(z),
                                         self.num_clusters, random_state)
            self.init_prior_from_labels(z, labels)
        else:
            labels = super().init_clusters(z, random_state)
        if self.gcn_init == 'encoder':
            self.gcn.init_from_encoder(self.autoencoder)
            prior = self.prior
            self.gcn.init_cluster_layer(
                prior.mu_c.detach(), float(prior.logvar_c.detach().exp()
                                           .mean()),
                torch.log_softmax(prior.pi_logits.detach(), 0))
        # The warm-up target: the initial partition, softened a little.
        device = self.prior.mu_c.device
        one_hot = torch.nn.functional.one_hot(
            torch.as_tensor(labels, device=device), self.num_clusters).float()
        self.init_target = 0.9 * one_hot + 0.1 / self.num_clusters
        return labels

    def warmup_loss(self, x: Tensor, edge_index: Tensor,
                    edge_weight: Optional[Tensor]) -> LossDict:
        r"""Fits the GCN branch alone (encoder frozen) to the initial
        partition: :math:`\mathrm{KL}(P_0 \,\|\, \mathbf{Z}_G)`."""
        with torch.no_grad():
            enc = self.autoencoder.encode(x)
        log_zg = self.gcn(x, edge_index, edge_weight, enc.hidden + [enc.mu])
        return {'kl_init': kl_to_target(self.init_target, log_zg)}

    def soft_assignment(self, z: Tensor) -> Tensor:
        r""":math:`Q`: Student-t kernel between :obj:`z` and the GMM means."""
        return student_t(z, self.prior.mu_c, self.alpha)

    @torch.no_grad()
    def update_target(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None):
        was_training = self.training
        self.eval()
        enc = self.autoencoder.encode(x)
        log_zg = self.gcn(x, edge_index, edge_weight, enc.hidden + [enc.mu])
        self.train(was_training)
        self._refresh(log_zg, enc.mu)

    def schedule_target_refresh(self):
        r"""Refreshes :math:`P` (and the graph posterior) inside the next
        full-batch :meth:`loss`, from that forward pass: the GCN is fed the
        deterministic :math:`\boldsymbol\mu` in training as in evaluation,
        so its output there equals :meth:`update_target`'s with the same
        parameters, and a separate inference pass (a fifth of an epoch's
        time) is saved."""
        self._refresh_pending = True

    def _refresh(self, log_zg: Tensor, mu: Tensor):
        zg = log_zg.detach().exp()
        if self.target_source == 'gcn':
            self.target = target_distribution(zg)
        else:
            self.target = target_distribution(
                self.soft_assignment(mu.detach()))
        if self.posterior == 'graph':
            self._posterior = zg
        self._refresh_pending = False

    def loss(self, x: Tensor, edge_index: Optional[Tensor] = None,
             edge_weight: Optional[Tensor] = None,
             index: Optional[Tensor] = None) -> LossDict:
        if index is not None:
            raise ValueError(f'{self.__class__.__name__} trains full batch')
        ae = self.autoencoder
        enc, z, decoded = ae(x)
        # The GCN gets mu, not the sampled z: the branch is deterministic,
        # so its training output is the clustering output.
        log_zg = self.gcn(x, edge_index, edge_weight, enc.hidden + [enc.mu])
        if self._refresh_pending:
            self._refresh(log_zg, enc.mu)
        if self.target is None:
            raise RuntimeError('call update_target() before loss()')
        if self.posterior == 'graph':
            gamma = self._posterior
        else:
            gamma = self.prior.responsibilities(z)
        return {
            'recon': ae.recon_loss(x, decoded),
            'kl': self.prior.kl_divergence(enc.mu, enc.logvar, gamma),
            'kl_gcn': self.gcn_weight * kl_to_target(self.target, log_zg),
        }

    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None) -> Tensor:
        enc = self.autoencoder.encode(x)
        return self.gcn(x, edge_index, edge_weight,
                        enc.hidden + [enc.mu]).exp()

    # Mini-batch training (vgdcn_pyg.training.minibatch) ------------------
    @torch.no_grad()
    def predict_proba_batched(self, x: Tensor, adj_t: Tensor,
                              batch_size: int) -> Tensor:
        r""":meth:`predict_proba` over the whole graph, computed layer by
        layer in row batches (:meth:`~vgdcn_pyg.nn.FusedGCN.inference`);
        :obj:`adj_t` is :math:`\hat{\mathbf{A}}` of the whole graph as a
        sparse CSR tensor."""
        return self.gcn.inference(x, adj_t, self.autoencoder.encoder_layers(),
                                  batch_size).exp()

    @torch.no_grad()
    def update_target_batched(self, x: Tensor, adj_t: Tensor,
                              batch_size: int):
        r""":meth:`update_target` from a full inference pass done in row
        batches of :obj:`batch_size` (see :meth:`predict_proba_batched`)."""
        needs_zg = self.target_source == 'gcn' or self.posterior == 'graph'
        zg = self.predict_proba_batched(x, adj_t, batch_size) if needs_zg \
            else None
        if self.target_source == 'gcn':
            self.target = target_distribution(zg)
        else:
            q = torch.cat([self.soft_assignment(self.embed(part))
                           for part in x.split(batch_size)])
            self.target = target_distribution(q)
        if self.posterior == 'graph':
            self._posterior = zg

    def subgraph_loss(self, x: Tensor, adj_t: Tensor, n_id: Tensor,
                      num_seeds: int,
                      row_scale: Optional[Tensor] = None) -> LossDict:
        r""":meth:`loss` of the :obj:`num_seeds` seed nodes of a sampled
        subgraph. :obj:`x` holds the features of the subgraph's nodes, seeds
        first, :obj:`n_id` their global ids (which index the target
        :math:`P` and the posterior) and :obj:`adj_t` the subgraph's
        normalised adjacency (see
        :func:`~vgdcn_pyg.graph.sampling.subgraph_adjacency`). Every node
        is encoded, since the GCN fuses the encoder features of all of them,
        but only the seeds enter the loss: the others lack part of their
        neighbourhood. :obj:`row_scale` (see
        :func:`~vgdcn_pyg.graph.sampling.subgraph_row_scale`) restores the
        border nodes' aggregates. With the whole graph as subgraph and all
        nodes as seeds this is :meth:`loss`."""
        if self.target is None:
            raise RuntimeError('call update_target() before subgraph_loss()')
        ae = self.autoencoder
        enc = ae.encode(x)
        z = ae.reparametrize(enc.mu, enc.logvar)
        log_zg = self.gcn(x, adj_t, None, enc.hidden + [enc.mu],
                          row_scale)[:num_seeds]
        seeds = n_id[:num_seeds]
        z_seed = z[:num_seeds]
        if self.posterior == 'graph':
            gamma = self._posterior[seeds]
        else:
            gamma = self.prior.responsibilities(z_seed)
        return {
            'recon': ae.recon_loss(x[:num_seeds], ae.decode(z_seed)),
            'kl': self.prior.kl_divergence(enc.mu[:num_seeds],
                                           enc.logvar[:num_seeds], gamma),
            'kl_gcn': self.gcn_weight * kl_to_target(self.target[seeds],
                                                     log_zg),
        }

    def subgraph_warmup_loss(self, x: Tensor, adj_t: Tensor, n_id: Tensor,
                             num_seeds: int,
                             row_scale: Optional[Tensor] = None) -> LossDict:
        r""":meth:`warmup_loss` of the seed nodes of a sampled subgraph (see
        :meth:`subgraph_loss`)."""
        with torch.no_grad():
            enc = self.autoencoder.encode(x)
        log_zg = self.gcn(x, adj_t, None, enc.hidden + [enc.mu],
                          row_scale)[:num_seeds]
        return {'kl_init': kl_to_target(self.init_target[n_id[:num_seeds]],
                                        log_zg)}
