r"""Interface shared by VGDCN and its baselines."""
import warnings
from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from torch import Tensor
from torch.nn import Module

from ..exceptions import ModelError
from ..graph.knn import knn_search
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
                      edge_weight: Optional[Tensor] = None) -> np.ndarray:
        r"""Initialises the clustering parameters from the pretrained
        embedding :obj:`z` (graph models also get the kNN graph) and returns
        the initial labels."""
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


#: UMAP's neighbours in :func:`umap_gmm` (N2D's setting).
UMAP_NEIGHBORS = 20


def umap_knn(z: np.ndarray, n_neighbors: int) -> Tuple[np.ndarray,
                                                         np.ndarray]:
    r"""The exact :obj:`n_neighbors`-NN lists of :obj:`z` in the form UMAP
    takes as :obj:`precomputed_knn`: every row starts with the sample itself
    at distance 0, then its :obj:`n_neighbors - 1` nearest other samples
    (:func:`~vgdcn_pyg.graph.knn_search`) with their Euclidean distances.

    Below 4096 samples UMAP would otherwise compute all :math:`N^2`
    distances, through a Python callback per pair, and above that an
    approximate NN-descent whose compilation every new process pays; this
    search holds :math:`O(Nk)` and finds the exact neighbours the small-data
    path finds (up to exact ties)."""
    num_nodes = len(z)
    index, sqdist = knn_search(np.ascontiguousarray(z, dtype=np.float32),
                               n_neighbors - 1)
    rows = np.arange(num_nodes, dtype=np.int64)[:, None]
    indices = np.concatenate([rows, index.cpu().numpy()], axis=1)
    dists = np.concatenate([np.zeros((num_nodes, 1), dtype=np.float32),
                            sqdist.cpu().numpy().clip(min=0) ** 0.5], axis=1)
    return indices, dists


def umap_gmm(z: np.ndarray, num_clusters: int, random_state: int,
             n_neighbors: int = UMAP_NEIGHBORS,
             knn: Optional[Tuple[np.ndarray, np.ndarray]] = None
             ) -> np.ndarray:
    r"""N2D's partition of an embedding (`McConville et al., ICPR 2020
    <https://arxiv.org/abs/1908.05968>`_): UMAP (McInnes et al., 2018) of
    :obj:`z` into :math:`K` dimensions, with :obj:`n_neighbors` neighbours
    and :obj:`min_dist=0` so that the manifold's clusters are packed
    tightly, then a full-covariance Gaussian mixture there. Returns the
    mixture's posterior, shape :obj:`[N, K]`.

    UMAP's graph is built from the exact kNN lists :obj:`knn`
    (:func:`umap_knn`, computed here when not given, so that restarts can
    share them): memory :math:`O(Nk)`. With a :obj:`random_state` UMAP runs
    on one thread and is reproducible.
    """
    try:
        import umap
    except ImportError:  # pragma: no cover - a core dependency
        raise ModelError('this model needs umap-learn: pip install '
                         'umap-learn') from None
    n_neighbors = min(n_neighbors, len(z) - 1)
    if knn is None:
        knn = umap_knn(z, n_neighbors)
    with warnings.catch_warnings():
        # "n_jobs overridden to 1 by setting random_state": wanted.
        warnings.filterwarnings('ignore', message='n_jobs value',
                                category=UserWarning)
        # No search index comes with the lists: only transform() needs one.
        warnings.filterwarnings('ignore', message='precomputed_knn',
                                category=UserWarning)
        embedding = umap.UMAP(n_components=num_clusters,
                              n_neighbors=n_neighbors, min_dist=0.0,
                              metric='euclidean', random_state=random_state,
                              precomputed_knn=(*knn, None)).fit_transform(z)
    gmm = GaussianMixture(num_clusters, covariance_type='full',
                          random_state=random_state).fit(embedding)
    return gmm.predict_proba(embedding)


#: Rows of the fixed subsample :func:`latent_silhouette` scores on.
SILHOUETTE_ROWS = 3000


def latent_silhouette(z: np.ndarray, labels: np.ndarray,
                      random_state: int = 0,
                      max_rows: int = SILHOUETTE_ROWS) -> float:
    r"""The mean silhouette (Rousseeuw, 1987) of the partition
    :obj:`labels` of :obj:`z`,

    .. math::
        s = \frac{1}{n} \sum_i \frac{b_i - a_i}{\max(a_i, b_i)},

    where :math:`a_i` is the mean distance of sample :math:`i` to its own
    cluster and :math:`b_i` to the nearest other one, on a fixed random
    subsample of at most :obj:`max_rows` rows (so the cost is bounded:
    scikit-learn computes the distances in row chunks, never all
    :math:`n^2` of them at once). A label-free score: -1 for a single
    cluster, where it is undefined."""
    labels = np.asarray(labels)
    rows = np.arange(len(z))
    if len(z) > max_rows:
        rows = np.random.RandomState(random_state).choice(len(z), max_rows,
                                                          replace=False)
    if np.unique(labels[rows]).size < 2:
        return -1.0
    return float(silhouette_score(z[rows], labels[rows]))


def umap_gmm_restarts(z: np.ndarray, num_clusters: int, random_state: int,
                      restarts: int = 1) -> np.ndarray:
    r""":func:`umap_gmm` with :obj:`restarts` UMAP seeds
    (:obj:`random_state`, :obj:`random_state + 1000`, ...), keeping the
    posterior whose partition has the highest :func:`latent_silhouette` in
    :obj:`z` (ties: the earlier seed). UMAP's stochastic layout sometimes
    merges two clusters of the embedding and splits another; such a
    partition cuts through dense regions of :obj:`z` and scores a lower
    silhouette there (``benchmarks/results/restart_selection.md``). One
    restart is :func:`umap_gmm` itself."""
    if restarts < 1:
        raise ValueError(f'restarts must be at least 1, got {restarts}')
    best, best_score = None, -np.inf
    knn = umap_knn(z, min(UMAP_NEIGHBORS, len(z) - 1))  # the same graph for every seed
    for j in range(restarts):
        proba = umap_gmm(z, num_clusters, random_state + 1000 * j, knn=knn)
        if restarts == 1:
            return proba
        # The same subsample for every restart.
        score = latent_silhouette(z, proba.argmax(1))
        if score > best_score:
            best, best_score = proba, score
    return best
