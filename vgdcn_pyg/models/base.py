r"""Interface shared by VGDCN and its baselines."""
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from torch import Tensor
from torch.nn import Module

from ..nn import DeepAutoEncoder

LossDict = Dict[str, Tensor]


@dataclass
class Batch:
    r"""What a model's :meth:`~DeepClusteringModel.loss` is evaluated on: the
    whole data set (and graph), a mini-batch of rows, or a sampled subgraph
    around a batch of seed nodes.

    Args:
        x (Tensor): Features of the batch's nodes, seeds first.
        edge_index (Tensor, optional): The graph among them: an
            :obj:`edge_index`, or the normalised adjacency
            :math:`\hat{\mathbf{A}}` as a sparse CSR tensor (see
            :meth:`~vgdcn_pyg.nn.FusedGCN.normalized_adjacency`).
        edge_weight (Tensor, optional): Edge weights of :obj:`edge_index`.
        n_id (Tensor, optional): Global row of every node, which indexes
            per-sample training state such as the target :math:`P`.
            :obj:`None`: the batch is the whole data set, in order.
        num_seeds (int, optional): The first :obj:`num_seeds` nodes are the
            seeds, the only ones that enter the loss (the others complete
            their neighbourhoods). :obj:`None`: all nodes.
        row_scale (Tensor, optional): Per node, the factor that restores the
            aggregate of a node whose neighbourhood the subgraph cuts (see
            :func:`~vgdcn_pyg.graph.sampling.subgraph_row_scale`).
    """
    x: Tensor
    edge_index: Optional[Tensor] = None
    edge_weight: Optional[Tensor] = None
    n_id: Optional[Tensor] = None
    num_seeds: Optional[int] = None
    row_scale: Optional[Tensor] = None

    @property
    def seed_count(self) -> int:
        r"""Number of nodes that enter the loss."""
        return self.x.size(0) if self.num_seeds is None else self.num_seeds

    @property
    def is_whole(self) -> bool:
        r"""Whether the batch is the whole data set in order."""
        return self.n_id is None and self.num_seeds is None

    def seeds(self, values: Tensor) -> Tensor:
        r"""The seed rows of a per-node tensor of this batch."""
        return values if self.num_seeds is None else values[:self.num_seeds]

    def rows_of(self, state: Optional[Tensor]) -> Optional[Tensor]:
        r"""The seed rows of per-sample state of the whole data set (e.g.
        the target :math:`P`), found by their global ids."""
        if state is None or self.n_id is None:
            return state
        return state[self.seeds(self.n_id)]


class DeepClusteringModel(Module):
    r"""Base class of the deep clustering models.

    Every model owns a :class:`~vgdcn_pyg.nn.DeepAutoEncoder` and goes through
    the same three phases, driven by :mod:`vgdcn_pyg.training`:

    1. :meth:`pretrain_loss` — reconstruction of mini-batches through the
       deterministic mean code (as VaDE and DEC pretrain);
    2. :meth:`init_clusters` — k-means, a GMM or (VGDCN) spectral clustering of
       the kNN graph, on the pretrained embedding;
    3. :meth:`loss` — the model's own joint objective, returned term by term,
       with :meth:`update_target` called every few epochs to refresh the
       self-supervision target.

    :meth:`predict_proba` gives the soft assignment the model clusters with.
    Every training call takes a :class:`Batch`: the whole data set, rows of
    it, or (models with :attr:`supports_subgraphs`) a sampled subgraph.

    A model also declares what the estimator
    (:class:`~vgdcn_pyg.cluster.DeepClustering`) needs to build and train
    it: its registry :attr:`name`, whether its auto-encoder is
    :attr:`variational`, the default graph and schedule, and the estimator
    parameters it takes (:attr:`options`). Adding a model is one subclass
    plus one entry in :data:`vgdcn_pyg.models.MODELS`.
    """
    #: Name in :data:`vgdcn_pyg.models.MODELS` and on the command line.
    name: str = ''
    #: Whether the model needs a variational auto-encoder.
    variational: bool = False
    #: Whether :meth:`loss` and :meth:`predict_proba` need the kNN graph.
    requires_graph: bool = False
    #: Whether :meth:`loss` accepts a sampled subgraph, so that the model can
    #: be trained in mini-batches of seed nodes.
    supports_subgraphs: bool = False
    #: Default :math:`M` (neighbours per sample) of the model's graph.
    default_n_neighbors: Optional[int] = None
    #: Default space of the graph: :obj:`"input"` or :obj:`"latent"`.
    default_graph_space: Optional[str] = None
    #: Default number of joint epochs and learning-rate decay.
    default_epochs: int = 50
    default_lr_decay: float = 0.9
    #: Default optimizer steps of linear learning-rate warm-up in the
    #: joint phase (see :func:`~vgdcn_pyg.training.trainer.make_adam`).
    default_lr_warmup: int = 0
    #: Default :obj:`tol` of the joint phase's stopping rule (0: never).
    default_tol: float = 0.0
    #: Estimator parameters passed on to the constructor when not
    #: :obj:`None`.
    options: Tuple[str, ...] = ()
    #: Allowed values of the string :attr:`options`.
    choices: Dict[str, Tuple[str, ...]] = {}
    #: Whether the model has a joint training phase after initialisation.
    has_joint_phase: bool = True
    #: Whether full-batch :meth:`loss` can refresh the target from its own
    #: forward pass (see :meth:`schedule_target_refresh`).
    refreshes_target_in_loss: bool = False
    #: Attributes holding tensors (or :obj:`None`) that are training state
    #: but not parameters, e.g. the target :math:`P` refreshed every few
    #: epochs; :meth:`training_state` saves them for a checkpoint.
    training_tensors: Tuple[str, ...] = ()

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int):
        super().__init__()
        self.autoencoder = autoencoder
        self.num_clusters = num_clusters
        #: The clusters at the last target refresh, which the trainer's
        #: stopping rule compares the next refresh with.
        self.last_labels: Optional[Tensor] = None

    def reset_parameters(self):
        for module in self.children():
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def training_state(self) -> Dict[str, Optional[Tensor]]:
        r"""The non-parameter training state (:attr:`training_tensors`),
        which a checkpoint stores next to :meth:`state_dict` so that a resumed
        run continues exactly. Kept out of :meth:`state_dict` because a fitted
        model does not need it."""
        state = {name: getattr(self, name) for name in self.training_tensors}
        state['last_labels'] = self.last_labels
        return state

    def load_training_state(self, state: Dict[str, Optional[Tensor]]):
        r"""Restores what :meth:`training_state` returned, on the model's
        device."""
        device = next(self.parameters()).device
        for name in self.training_tensors + ('last_labels', ):
            value = state.get(name)
            setattr(self, name, None if value is None else value.to(device))

    def pretrain_loss(self, x: Tensor) -> LossDict:
        r"""Reconstruction through :math:`\boldsymbol\mu` (no sampling)."""
        ae = self.autoencoder
        return {'recon': ae.recon_loss(x, ae.decode(ae.encode(x).mu))}

    @torch.no_grad()
    def embed(self, x: Tensor) -> Tensor:
        r"""The latent means :math:`\boldsymbol\mu` of :obj:`x`."""
        return embed_rows(self.autoencoder, x)

    def init_clusters(self, z: np.ndarray, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      x: Optional[Tensor] = None,
                      input_graph: Optional[Tuple[Tensor, Tensor]] = None
                      ) -> np.ndarray:
        r"""Initialises the clustering parameters from the pretrained
        embedding :obj:`z` (graph models also get the kNN graph, and the
        input features :obj:`x` and, where it was built, the input's kNN
        graph :obj:`input_graph` (edge index, weights) for models that
        partition them too) and returns the initial labels."""
        raise NotImplementedError

    @torch.no_grad()
    def update_target(self, batch: Batch,
                      inference_batch_size: Optional[int] = None):
        r"""Refreshes the self-supervision target from the whole data set
        :obj:`batch`, computed in row batches of
        :obj:`inference_batch_size` where the model can (:obj:`None`: all
        rows at once)."""

    def schedule_target_refresh(self):
        r"""For models with :attr:`refreshes_target_in_loss`: the next
        :meth:`loss` on the whole data set refreshes the target from its
        forward pass, in place of an :meth:`update_target` inference pass."""
        raise NotImplementedError

    def loss(self, batch: Batch) -> LossDict:
        r"""The joint objective on :obj:`batch`, term by term (their sum is
        minimised)."""
        raise NotImplementedError

    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        r"""Soft cluster assignment, shape :obj:`[N, K]`, computed in row
        batches of :obj:`batch_size` where the model can."""
        raise NotImplementedError

    def cluster_centers(self) -> Tensor:
        r"""The cluster centres in the latent space, shape :obj:`[K, d]`."""
        raise NotImplementedError


@torch.no_grad()
def embed_rows(autoencoder: DeepAutoEncoder, x: Tensor,
               batch_size: Optional[int] = None) -> Tensor:
    r"""The latent means :math:`\boldsymbol\mu` of :obj:`x`, in row batches
    of :obj:`batch_size` (:obj:`None`: all rows at once), so that no
    activation larger than a batch is held."""
    if batch_size is None or batch_size >= x.size(0):
        return autoencoder.encode(x).mu
    return torch.cat([autoencoder.encode(part).mu
                      for part in x.split(batch_size)])


def kmeans(z: np.ndarray, num_clusters: int, random_state: int,
           n_init: int = 20):
    r"""k-means on an embedding (the initialisation of DEC, IDEC and SDCN)."""
    return KMeans(num_clusters, n_init=n_init,
                  random_state=random_state).fit(z)


def diagonal_gmm(z: np.ndarray, num_clusters: int, random_state: int):
    r"""A diagonal Gaussian mixture on an embedding (VaDE's initialisation),
    started from the best of 20 k-means runs: EM from a single k-means run
    lands in a poor optimum far more often."""
    centers = kmeans(z, num_clusters, random_state).cluster_centers_
    return GaussianMixture(num_clusters, covariance_type='diag',
                           reg_covar=1e-4, means_init=centers,
                           random_state=random_state).fit(z)
