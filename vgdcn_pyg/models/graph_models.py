r"""SDCN and VGDCN: an auto-encoder and a GCN branch over the kNN graph."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..graph.spectral import spectral_clustering
from ..nn import (DeepAutoEncoder, FusedGCN, kl_to_target, student_t,
                  target_distribution)
from .base import Batch, LossDict, embed_rows
from .umap_partition import umap_consensus, umap_gmm_restarts
from .dec import DECModel
from .vade import VaDEModel


def _gcn_for(autoencoder: DeepAutoEncoder, num_clusters: int, eps: float,
             latent_activation: bool = True) -> FusedGCN:
    return FusedGCN(autoencoder.in_channels, autoencoder.hidden_channels,
                    autoencoder.latent_channels, num_clusters, eps,
                    latent_activation)


class GraphBranch:
    r"""What SDCN and VGDCN share: a :class:`~vgdcn_pyg.nn.FusedGCN` branch
    :obj:`gcn` fed by every encoder layer, whose softmax output
    :math:`\mathbf{Z}_G` is the clustering."""
    requires_graph = True
    default_n_neighbors = 3
    default_graph_space = 'input'

    def log_zg(self, batch: Batch) -> Tensor:
        r""":math:`\log \mathbf{Z}_G` of the seed nodes of :obj:`batch` (all
        nodes take part: the GCN fuses the encoder features of each)."""
        enc = self.autoencoder.encode(batch.x)
        return self._log_zg(batch, enc)

    def _log_zg(self, batch: Batch, enc) -> Tensor:
        return batch.seeds(self.gcn(batch.x, batch.edge_index,
                                    batch.edge_weight, enc.hidden + [enc.mu],
                                    batch.row_scale))

    @torch.no_grad()
    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        r""":math:`\mathbf{Z}_G` of all nodes. With :obj:`batch_size`, it is
        computed layer by layer in row batches
        (:meth:`~vgdcn_pyg.nn.FusedGCN.inference`), for graphs whose
        full-batch forward pass does not fit in memory."""
        if edge_index is None:
            raise ValueError(f'{self.__class__.__name__} needs the graph')
        if batch_size is None:
            return self.log_zg(Batch(x, edge_index, edge_weight)).exp()
        adj_t = edge_index
        if adj_t.layout != torch.sparse_csr:
            adj_t = FusedGCN.normalized_adjacency(edge_index, edge_weight,
                                                  x.size(0))
        return self.gcn.inference(x, adj_t, self.autoencoder.encoder_layers(),
                                  batch_size).exp()


class SDCNModel(GraphBranch, DECModel):
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
    name = 'sdcn'
    # As published: 200 epochs at a constant learning rate.
    default_epochs = 200
    default_lr_decay = 1.0
    options = ('eps', 'gcn_weight')

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 eps: float = 0.5, q_weight: float = 0.1,
                 gcn_weight: float = 0.01, alpha: float = 1.0):
        super().__init__(autoencoder, num_clusters, recon_weight=1.0,
                         alpha=alpha, q_weight=q_weight)
        self.gcn_weight = gcn_weight
        self.gcn = _gcn_for(autoencoder, num_clusters, eps)

    def loss(self, batch: Batch) -> LossDict:
        enc, p, terms = self._dec_terms(batch)
        terms['kl_gcn'] = self.gcn_weight * kl_to_target(
            p, self._log_zg(batch, enc))
        return terms


#: The most samples on which VGDCN's default start takes the graph's vote.
#: Its spectral embedding (ARPACK in shift-invert mode, which factorises the
#: graph's Laplacian) grows much faster than the graph, and the iterative
#: LOBPCG solver, cheap on large graphs, left a poor embedding of well
#: separated points there. Above this the start is the consensus of the
#: UMAP starts alone, as before the vote, so that large data stays O(N k).
GRAPH_VOTE_MAX_SAMPLES = 20_000


class VGDCNModel(GraphBranch, VaDEModel):
    r"""The Variational Graph convolution Deep Clustering Network of the
    thesis (Algorithm 2): VaDE plus a :class:`~vgdcn_pyg.nn.FusedGCN` branch
    fed by every encoder layer, trained with

    .. math::
        \mathcal{L} = -\mathcal{L}_{\mathrm{ELBO}} + \lambda\,
        \mathrm{KL}(P \,\|\, \mathbf{Z}_G),

    where :math:`P` is the target distribution (eq. 3.14) of a soft
    assignment; samples are clustered by :math:`\arg\max \mathbf{Z}_G`
    (eq. 3.12).

    The thesis's choices are all available; the defaults differ where the
    ablations of ``docs/method.rst`` said so:

    * :obj:`init`: :obj:`"gmm"` fits the mixture prior by a diagonal GMM on
      the pretrained means (the thesis, VaDE); :obj:`"spectral"` partitions
      the kNN graph by spectral clustering and moment-matches the prior to
      that partition; :obj:`"umap"` (the default) takes N2D's partitions
      (:func:`~vgdcn_pyg.models.umap_partition.umap_gmm`: UMAP, then a
      full-covariance GMM) of the pretrained means and of the input, and
      the graph's vote on them (:obj:`graph_votes`), and moment-matches the
      prior to their consensus, which follows the data's manifold rather
      than the embedding's Gaussian blobs.
    * The graph (the estimator's :obj:`graph_space`): by default both kNN
      graphs are built, and the one the initial partition cuts least is
      kept (:func:`~vgdcn_pyg.phases.choose_graph`).
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
    * :obj:`posterior`: :obj:`"gmm"` (the thesis) uses VaDE's
      :math:`\gamma = p(c \mid \mathbf{z})` as :math:`q(c \mid
      \mathbf{x})` in the ELBO; :obj:`"graph"` (the default) uses the GCN's
      :math:`\mathbf{Z}_G` (detached), a valid variational choice that lets
      the graph pull each latent code toward the mixture component of its
      neighbourhood. ``benchmarks/results/ablation.md`` compares them.

    Args:
        autoencoder (DeepAutoEncoder): A variational auto-encoder.
        num_clusters (int): :math:`K`.
        eps (float): Fusion weight :math:`\epsilon`. (default: :obj:`0.5`)
        gcn_weight (float): :math:`\lambda`. The negative ELBO is a sum
            over the input's features, hundreds of nats a sample, and the
            self-supervision term a fraction of a nat; at :math:`\lambda = 1`
            the ELBO's gradient, through the encoder layers the GCN fuses,
            reshuffled the initial partition in the first epochs.
            (default: :obj:`1000.0`)
        alpha (float): Student-t degrees of freedom. (default: :obj:`1.0`)
        init (str): :obj:`"umap"` (default), :obj:`"spectral"` or
            :obj:`"gmm"`.
        init_restarts (int): With :obj:`init="umap"`, the UMAP seeds tried
            on the embedding; without input starts the partition of highest
            latent silhouette is kept
            (:func:`~vgdcn_pyg.models.umap_partition.umap_gmm_restarts`).
            (default: :obj:`2`)
        input_starts (int): With :obj:`init="umap"`, UMAP seeds tried on
            the input features as well; with any, the initial partition is
            the consensus of all starts
            (:func:`~vgdcn_pyg.models.umap_partition.umap_consensus`)
            instead of the silhouette's pick. The default gives both views
            an equal say in as many layouts as three embedding starts and
            one input start. (default: :obj:`2`)
        umap_epochs (int, optional): With :obj:`init="umap"`, UMAP's
            layout epochs per seed; :obj:`None` is umap-learn's choice (500
            below 10,000 samples, 200 above). (default: :obj:`None`)
        gmm_starts (int): With :obj:`init="umap"`, the EM starts of the
            Gaussian mixture in each UMAP embedding, the one of highest
            likelihood kept; :obj:`1` is N2D's (and this model's before).
            (default: :obj:`10`)
        input_spectral (bool): With :obj:`input_starts`, also takes the
            spectral partition (:func:`~vgdcn_pyg.graph.spectral_clustering`)
            of the input's kNN graph into the consensus, as a fifth member.
            (default: :obj:`False`)
        graph_votes (int): With :obj:`input_starts`, the votes in the
            consensus of the graph's view of the UMAP starts
            (:func:`~vgdcn_pyg.models.umap_partition.graph_vote`: spectral
            clustering of the input's kNN graph, or the model's graph where
            the input's is not built, with each edge weighted by the share
            of starts that keep its ends together); :obj:`0` leaves it out,
            as does a call of :meth:`init_clusters` given no graph.
            :obj:`None`: 2, as many votes as each UMAP view has starts, up
            to :data:`GRAPH_VOTE_MAX_SAMPLES` samples, and none above.
            (default: :obj:`None`)
        gcn_init (str): :obj:`"encoder"` or :obj:`"random"`.
        target (str): :obj:`"gcn"` or :obj:`"latent"`.
        posterior (str): :obj:`"graph"` (default) or :obj:`"gmm"`.
    """
    name = 'vgdcn'
    variational = True
    supports_subgraphs = True
    refreshes_target_in_loss = True
    default_n_neighbors = 10
    # The graph the initial partition cuts least, of the input's and the
    # embedding's (benchmarks/results/ablation_graph_auto.md): the
    # consensus start takes both views, and the GCN smooths over the graph.
    default_graph_space = 'auto'
    # The GCN warm-up and the joint phase start a fresh Adam on pretrained
    # weights (see make_adam); the baselines keep their published schedule.
    default_lr_warmup = 10
    # Once under 0.1% of the samples change cluster between refreshes, the
    # remaining epochs hardly move the result (benchmarks/results/
    # ablation.md, the tol=0 row).
    default_tol = 1e-3
    # gcn_weight's default: at lambda = 1 the clustering term was a
    # thousandth of the loss, and the ELBO's gradient reshuffled the initial
    # partition in the first joint epochs; 30 to 1000 kept it and scored
    # alike, 1000 with every cluster on the small many-cluster subsets and
    # room for inputs wider than COIL-20's 1024 features
    # (benchmarks/results/ablation_gcn_weight.md, docs/method.rst).
    options = ('eps', 'gcn_weight', 'init', 'init_restarts', 'input_starts',
               'umap_epochs', 'gmm_starts', 'input_spectral',
               'graph_votes', 'gcn_init',
               'target', 'posterior')
    choices = {'init': ('spectral', 'umap', 'gmm'), 'gcn_init': ('encoder', 'random'),
               'target': ('gcn', 'latent'), 'posterior': ('graph', 'gmm')}
    training_tensors = ('target', 'init_target', '_posterior')

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 eps: float = 0.5, gcn_weight: float = 1000.0,
                 alpha: float = 1.0, init: str = 'umap',
                 init_restarts: int = 2, input_starts: int = 2,
                 umap_epochs: Optional[int] = None, gmm_starts: int = 10,
                 input_spectral: bool = False,
                 graph_votes: Optional[int] = None,
                 gcn_init: str = 'encoder',
                 target: str = 'gcn',
                 posterior: str = 'graph'):
        super().__init__(autoencoder, num_clusters)
        for name, value in (('init', init), ('gcn_init', gcn_init),
                            ('target', target), ('posterior', posterior)):
            if value not in self.choices[name]:
                raise ValueError(f'{name} must be one of '
                                 f'{self.choices[name]}, got {value!r}')
        for name, value, least in (('init_restarts', init_restarts, 1),
                                   ('input_starts', input_starts, 0),
                                   ('gmm_starts', gmm_starts, 1),
                                   ('graph_votes', graph_votes, 0)):
            if value is not None and value < least:
                raise ValueError(f'{name} must be at least {least}, got '
                                 f'{value}')
        self.gcn_weight = gcn_weight
        self.alpha = alpha
        self.init = init
        self.init_restarts = init_restarts
        self.input_starts = input_starts
        self.umap_epochs = umap_epochs
        self.gmm_starts = gmm_starts
        self.input_spectral = bool(input_spectral)
        self.graph_votes = graph_votes
        self.gcn_init = gcn_init
        self.target_source = target
        self.posterior = posterior
        self.gcn = _gcn_for(autoencoder, num_clusters, eps,
                            latent_activation=gcn_init == 'random')
        self.target: Optional[Tensor] = None
        self.init_target: Optional[Tensor] = None
        self._posterior: Optional[Tensor] = None
        self._refresh_pending = False

    def _partition(self, z: np.ndarray, random_state: int,
                   edge_index: Optional[Tensor],
                   edge_weight: Optional[Tensor],
                   x: Optional[Tensor],
                   input_graph: Optional[Tuple[Tensor, Tensor]] = None
                   ) -> np.ndarray:
        r"""The initial partition of :obj:`init="spectral"` or
        :obj:`"umap"` (with :obj:`input_starts`, the consensus that also
        takes UMAP starts on the input :obj:`x` and, with
        :obj:`graph_votes`, their vote on the input's kNN graph
        :obj:`input_graph`, else on the model's graph)."""
        if self.init == 'spectral':
            if edge_index is None:
                raise ValueError("init='spectral' needs the graph")
            return spectral_clustering(edge_index, edge_weight, len(z),
                                       self.num_clusters, random_state)
        if self.input_starts == 0:
            return umap_gmm_restarts(z, self.num_clusters, random_state,
                                     self.init_restarts, self.umap_epochs,
                                     self.gmm_starts).argmax(1)
        if x is None:
            raise ValueError('input_starts > 0 needs the input features x')
        extra = []
        if self.input_spectral:
            if input_graph is None:
                raise ValueError("input_spectral=True needs the input's kNN "
                                 "graph (graph_space 'auto' or 'input')")
            extra.append(spectral_clustering(
                input_graph[0], input_graph[1], len(z), self.num_clusters,
                random_state))
        graph = input_graph
        if graph is None and edge_index is not None:
            graph = (edge_index, edge_weight)
        return umap_consensus(z, x.detach().cpu().numpy(), self.num_clusters,
                              random_state, self.init_restarts,
                              self.input_starts, self.umap_epochs,
                              self.gmm_starts, extra=extra, graph=graph,
                              graph_votes=0 if graph is None
                              else self.votes(len(z)))

    def votes(self, num_samples: int) -> int:
        r"""The graph's votes in the consensus start on :obj:`num_samples`
        samples: :obj:`graph_votes`, or where it is :obj:`None`, 2 up to
        :data:`GRAPH_VOTE_MAX_SAMPLES` samples and 0 above."""
        if self.graph_votes is not None:
            return self.graph_votes
        return 2 if num_samples <= GRAPH_VOTE_MAX_SAMPLES else 0

    def init_clusters(self, z, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      x: Optional[Tensor] = None,
                      input_graph: Optional[Tuple[Tensor, Tensor]] = None):
        if self.init == 'gmm':
            labels = super().init_clusters(z, random_state)
        else:
            labels = self._partition(z, random_state, edge_index,
                                     edge_weight, x, input_graph)
            # Every partition, whichever start made it, moment-matches the
            # prior (the GCN's cluster layer below starts from it).
            self.init_prior_from_labels(z, labels)
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

    @torch.no_grad()
    def fit_cluster_layer(self, batch: Batch, steps: int = 300,
                          lr: float = 0.05):
        r"""Fits the GCN's last layer alone to the initial partition before
        the warm-up: with the encoder and the other GCN layers fixed,
        :math:`\log \mathbf{Z}_G` is a multinomial logistic regression on
        fixed features (:meth:`~vgdcn_pyg.nn.FusedGCN.cluster_features`,
        :math:`N \times d_z`), so :obj:`steps` full-batch Adam steps on
        :math:`\mathrm{KL}(P_0 \,\|\, \mathbf{Z}_G)` cost little. The
        mixture posterior the layer starts as is a poor copy of a partition
        that is not a set of Gaussian blobs in the latent space (UMAP's).
        The fitted layer is kept only if its arg-max agrees with the
        partition better than the mixture posterior's does (a label-free
        test): where the posterior already copies the partition, softening
        its saturated output toward :math:`P_0` destabilised the
        self-training (two of three blobs merged).

        Both the loss and the agreement weigh each sample by the inverse
        size of its cluster in the partition, so that every cluster counts
        alike (the agreement is the mean of the per-cluster recalls). With
        equal weights a cluster of a few samples, which the consensus of
        starts can make on small data with many clusters, was left out of
        the copy, and the fit ended with a cluster fewer. Returns whether
        the fitted layer was kept."""
        enc = self.autoencoder.encode(batch.x)
        features = batch.seeds(self.gcn.cluster_features(
            batch.x, batch.edge_index, batch.edge_weight,
            enc.hidden + [enc.mu])).float()
        target = batch.rows_of(self.init_target)
        labels = target.argmax(-1)
        sizes = torch.bincount(labels, minlength=self.num_clusters)
        balance = 1.0 / sizes[labels].to(features.dtype)
        layer = self.gcn.cluster_conv
        weight = layer.lin.weight.detach().clone().requires_grad_()
        bias = layer.bias.detach().clone().requires_grad_()

        def agreement() -> float:
            hit = (features @ weight.t() + bias).argmax(-1) == labels
            return float((balance * hit).sum())
        before = agreement()
        optimizer = torch.optim.Adam([weight, bias], lr=lr)
        with torch.enable_grad():
            for _ in range(steps):
                optimizer.zero_grad()
                log_zg = torch.log_softmax(features @ weight.t() + bias, -1)
                kl_to_target(target, log_zg, balance).backward()
                optimizer.step()
        if agreement() <= before:
            return False
        layer.lin.weight.copy_(weight)
        layer.bias.copy_(bias)
        return True

    def warmup_loss(self, batch: Batch) -> LossDict:
        r"""Fits the GCN branch alone (encoder frozen) to the initial
        partition: :math:`\mathrm{KL}(P_0 \,\|\, \mathbf{Z}_G)`, on the seed
        nodes of :obj:`batch`."""
        with torch.no_grad():
            enc = self.autoencoder.encode(batch.x)
        return {'kl_init': kl_to_target(batch.rows_of(self.init_target),
                                        self._log_zg(batch, enc))}

    def soft_assignment(self, z: Tensor) -> Tensor:
        r""":math:`Q`: Student-t kernel between :obj:`z` and the GMM means."""
        return student_t(z, self.prior.mu_c, self.alpha)

    @torch.no_grad()
    def update_target(self, batch: Batch,
                      inference_batch_size: Optional[int] = None):
        r"""Refreshes :math:`P` (and the graph posterior) from an inference
        pass over the whole graph :obj:`batch`; with
        :obj:`inference_batch_size`, layer by layer in row batches (see
        :meth:`predict_proba`)."""
        was_training = self.training
        self.eval()
        needs_zg = self.target_source == 'gcn' or self.posterior == 'graph'
        zg = mu = None
        if inference_batch_size is None:
            enc = self.autoencoder.encode(batch.x)
            zg, mu = self._log_zg(batch, enc).exp(), enc.mu
        else:
            if needs_zg:
                zg = self.predict_proba(batch.x, batch.edge_index,
                                        batch.edge_weight,
                                        inference_batch_size)
            if self.target_source == 'latent':
                mu = embed_rows(self.autoencoder, batch.x,
                                inference_batch_size)
        self.train(was_training)
        self._refresh(zg, mu)

    def schedule_target_refresh(self):
        r"""Refreshes :math:`P` (and the graph posterior) inside the next
        :meth:`loss` on the whole graph, from that forward pass: the GCN is
        fed the deterministic :math:`\boldsymbol\mu` in training as in
        evaluation, so its output there equals :meth:`update_target`'s with
        the same parameters, and a separate inference pass is saved."""
        self._refresh_pending = True

    def _refresh(self, zg: Optional[Tensor], mu: Optional[Tensor]):
        if self.target_source == 'gcn':
            self.target = target_distribution(zg)
        else:
            self.target = target_distribution(self.soft_assignment(mu))
        if self.posterior == 'graph':
            self._posterior = zg
        self._refresh_pending = False

    def loss(self, batch: Batch) -> LossDict:
        r"""The negative ELBO and :math:`\lambda\,\mathrm{KL}(P \,\|\,
        \mathbf{Z}_G)` of the seed nodes of :obj:`batch`. On a sampled
        subgraph every node is encoded, since the GCN fuses the encoder
        features of all of them, but only the seeds enter the loss: the
        others lack part of their neighbourhood. :math:`P` and the graph
        posterior are read at the seeds' global ids."""
        if self._refresh_pending and not batch.is_whole:
            raise RuntimeError('an in-loss target refresh needs the whole '
                               'graph as batch')
        ae = self.autoencoder
        x = batch.x
        enc = ae.encode(x)
        z = batch.seeds(ae.reparametrize(enc.mu, enc.logvar))
        decoded = ae.decode(z)
        # The GCN gets mu, not the sampled z: the branch is deterministic,
        # so its training output is the clustering output.
        log_zg = self._log_zg(batch, enc)
        if self._refresh_pending:
            self._refresh(log_zg.detach().exp(), enc.mu.detach())
        if self.target is None:
            raise RuntimeError('call update_target() before loss()')
        if self.posterior == 'graph':
            gamma = batch.rows_of(self._posterior)
        else:
            gamma = self.prior.responsibilities(z)
        return {
            'recon': ae.recon_loss(batch.seeds(x), decoded),
            'kl': self.prior.kl_divergence(batch.seeds(enc.mu),
                                           batch.seeds(enc.logvar), gamma),
            'kl_gcn': self.gcn_weight * kl_to_target(
                batch.rows_of(self.target), log_zg),
        }
