r"""N2D's initial partition (UMAP of the pretrained means, then a Gaussian
mixture), its restarts, the label-free latent silhouette that picks among
them, and the consensus of starts on the embedding, on the input and on
the kNN graph."""
import functools
import importlib
import os
import threading
import types
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Sequence, Tuple

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits

from ..exceptions import ModelError
from ..graph.knn import knn_search
from ..graph.spectral import edge_weight_array, spectral_clustering


def _import_umap():
    try:
        import umap
    except ImportError:  # pragma: no cover - a core dependency
        raise ModelError('this model needs umap-learn: pip install '
                         'umap-learn') from None
    _cache_umap_kernels()
    _limit_numba_threads()
    return umap


def _limit_numba_threads():
    r"""Gives numba, if its thread pool is not running yet and no threading
    layer was asked for (:envvar:`NUMBA_THREADING_LAYER`), its own
    :obj:`"workqueue"` layer instead of OpenMP.

    umap-learn's parallel kernels start that pool. In OpenMP it shares the
    runtime of the compiled graph extensions, and after UMAP the joint
    phase's sparse products ran on a second thread in a fit set to one
    thread, which oversubscribes the cores when several fits share them.
    UMAP runs its layout on one thread anyway (a :obj:`random_state` is
    always given)."""
    import numba
    from numba.np.ufunc import parallel
    if getattr(parallel, '_is_initialized', True) or \
            'NUMBA_THREADING_LAYER' in os.environ:
        return  # already running, chosen by the user, or an unknown numba
    numba.config.THREADING_LAYER = 'workqueue'


#: The numba kernels of umap-learn that a fit of :func:`umap_gmm` compiles
#: and that umap-learn does not cache: (module, attribute).
UMAP_KERNELS = (('umap.umap_', 'smooth_knn_dist'),
                ('umap.umap_', 'compute_membership_strengths'),
                ('umap.layouts', '_nb_optimize_layout_euclidean_single_epoch'))


#: Serialises umap-learn's parallel kernels (:data:`UMAP_KERNELS` compiled
#: with :obj:`parallel=True`) across threads: numba's :obj:`"workqueue"`
#: layer (:func:`_limit_numba_threads`) aborts the process when two threads
#: launch parallel kernels at once.
_PARALLEL_KERNEL_LOCK = threading.Lock()


def _serialised(kernel):
    @functools.wraps(kernel.py_func)
    def call(*args, **kwargs):
        with _PARALLEL_KERNEL_LOCK:
            return kernel(*args, **kwargs)
    call.dispatcher = kernel  # the compiled kernel
    return call


def _cache_umap_kernels():
    r"""Re-compiles umap-learn's uncached numba kernels (:data:`UMAP_KERNELS`)
    with :obj:`cache=True` and the same options, once per process.

    numba compiles them in every new process, which on small data costs a
    fit from the command line more than UMAP's own work; with the cache
    only the first process compiles. The kernels are the same Python
    functions compiled with the same flags, so the results do not change,
    plus :obj:`nogil=True`: a kernel then releases Python's lock while it
    runs, so that the UMAP restarts of :func:`umap_gmm_restarts` can lay
    out their embeddings on several threads at once; each is cached under
    a name of its own (:func:`_own_cache_name`), so that no entry compiled
    with other flags is loaded instead. The parallel ones (the
    fuzzy graph's) are called under a lock (:func:`_serialised`). A kernel
    that is missing (another umap-learn version) or cannot be cached (no
    writable cache location) is left as it is."""
    import numba
    for module_name, attr in UMAP_KERNELS:
        module = importlib.import_module(module_name)
        kernel = getattr(module, attr, None)
        if not isinstance(kernel, numba.core.registry.CPUDispatcher) or \
                not isinstance(kernel._cache, numba.core.caching.NullCache):
            continue  # not a kernel, or already cached
        options = {k: v for k, v in kernel.targetoptions.items()
                   if k not in ('nopython', 'nogil')}
        try:
            cached = numba.njit(_own_cache_name(kernel.py_func), cache=True,
                                nogil=True, locals=kernel.locals, **options)
        except RuntimeError:  # no cache locator for umap-learn's files
            continue
        setattr(module, attr, _serialised(cached)
                if options.get('parallel') else cached)


#: Appended to the name under which :func:`_cache_umap_kernels` caches a
#: kernel; a new tag for every change of the flags it compiles with.
KERNEL_CACHE_TAG = '_vgdcn_nogil'


def _own_cache_name(func):
    r"""A copy of :obj:`func` (same code, globals and defaults) named
    :obj:`func` + :data:`KERNEL_CACHE_TAG`.

    numba files a cached kernel under its function's qualified name and
    source file, not under its compile flags, and loads whatever was filed
    there. A cache of umap-learn's kernel written with other flags (by an
    earlier version of this module, without :obj:`nogil`, or by any other
    :obj:`cache=True` compile of the same function) would be loaded in
    place of this one: a layout that holds Python's lock, and restarts on
    threads that run one after another. The copy has its own entry."""
    copy = types.FunctionType(func.__code__, func.__globals__,
                              func.__name__ + KERNEL_CACHE_TAG,
                              func.__defaults__, func.__closure__)
    copy.__qualname__ = func.__qualname__ + KERNEL_CACHE_TAG
    copy.__module__ = func.__module__
    copy.__kwdefaults__ = func.__kwdefaults__
    return copy


#: UMAP's neighbours in :func:`umap_gmm` (N2D's setting).
UMAP_NEIGHBORS = 20


def umap_knn(z: np.ndarray, n_neighbors: int,
             rows_per_block: int = 65536) -> Tuple[np.ndarray, np.ndarray]:
    r"""The exact :obj:`n_neighbors`-NN lists of :obj:`z` in the form UMAP
    takes as :obj:`precomputed_knn`: every row starts with the sample itself
    at distance 0, then its :obj:`n_neighbors - 1` nearest other samples
    (:func:`~vgdcn_pyg.graph.knn_search`), nearest first.

    Below 4096 samples UMAP would otherwise compute all :math:`N^2`
    distances, through a Python callback per pair, and above that an
    approximate NN-descent whose compilation every new process pays; this
    search holds :math:`O(Nk)`. The distances are computed as UMAP's own
    small-data path computes them (float32 differences, squares summed in
    float64), so that below 4096 samples UMAP gets the lists it would have
    found itself and lays out the same embedding: its stochastic layout
    amplifies differences in the last bit of a distance into a different
    partition."""
    z = np.ascontiguousarray(z, dtype=np.float32)
    index = knn_search(z, n_neighbors - 1)[0].cpu().numpy()
    dists = np.empty(index.shape, dtype=np.float64)
    for start in range(0, len(z), rows_per_block):
        part = slice(start, start + rows_per_block)
        diff = z[index[part]] - z[part, None, :]
        dists[part] = np.sqrt(np.square(diff).astype(np.float64).sum(-1))
    order = np.argsort(dists, axis=1, kind='stable')
    index = np.take_along_axis(index, order, axis=1)
    dists = np.take_along_axis(dists, order, axis=1)
    rows = np.arange(len(z), dtype=np.int64)[:, None]
    return (np.concatenate([rows, index], axis=1),
            np.concatenate([np.zeros_like(rows, dtype=np.float32),
                            dists.astype(np.float32)], axis=1))


def umap_embedding(z: np.ndarray, n_components: int, random_state: int,
                   n_neighbors: int = UMAP_NEIGHBORS,
                   knn: Optional[Tuple[np.ndarray, np.ndarray]] = None,
                   n_epochs: Optional[int] = None) -> np.ndarray:
    r"""N2D's UMAP (McInnes et al., 2018) of :obj:`z` into
    :obj:`n_components` dimensions, with :obj:`n_neighbors` neighbours and
    :obj:`min_dist=0` so that the manifold's clusters are packed tightly.

    UMAP's graph is built from the exact kNN lists :obj:`knn`
    (:func:`umap_knn`, computed here when not given, so that restarts can
    share them): memory :math:`O(Nk)`. :obj:`n_epochs` are UMAP's layout
    epochs (:obj:`None`: umap-learn's choice, 500 below 10,000 samples and
    200 above); the layout is most of UMAP's cost and grows linearly with
    them. With a :obj:`random_state` UMAP runs
    on one thread and is reproducible. umap-learn's numba kernels that it
    would compile in every process (:data:`UMAP_KERNELS`) are compiled with
    numba's on-disk cache instead, to the same code.
    """
    umap = _import_umap()
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
        return umap.UMAP(n_components=n_components, n_neighbors=n_neighbors,
                         min_dist=0.0, metric='euclidean',
                         random_state=random_state, n_epochs=n_epochs,
                         precomputed_knn=(*knn, None)).fit_transform(z)


def umap_gmm(z: np.ndarray, num_clusters: int, random_state: int,
             n_neighbors: int = UMAP_NEIGHBORS,
             knn: Optional[Tuple[np.ndarray, np.ndarray]] = None,
             n_epochs: Optional[int] = None,
             gmm_starts: int = 1) -> np.ndarray:
    r"""N2D's partition of an embedding (`McConville et al., ICPR 2020
    <https://arxiv.org/abs/1908.05968>`_): :func:`umap_embedding` of
    :obj:`z` into :math:`K` dimensions (:obj:`n_neighbors`, :obj:`knn` and
    :obj:`n_epochs` as there), then a full-covariance Gaussian mixture there
    from :obj:`gmm_starts` EM starts (:func:`gmm_posterior`; N2D uses one).
    Returns the mixture's posterior, shape :obj:`[N, K]`."""
    embedding = umap_embedding(z, num_clusters, random_state, n_neighbors,
                               knn, n_epochs)
    return gmm_posterior(embedding, num_clusters, random_state, gmm_starts)


def gmm_posterior(embedding: np.ndarray, num_clusters: int,
                  random_state: int, starts: int = 1) -> np.ndarray:
    r"""The posterior, shape :obj:`[N, K]`, of a full-covariance Gaussian
    mixture fitted to :obj:`embedding` by EM from :obj:`starts` k-means
    starts, the fit of highest likelihood kept (scikit-learn's
    :obj:`n_init`).

    UMAP with :obj:`min_dist=0` packs each cluster of the manifold into a
    tight blob, far from the others, and EM from a single start can stop in
    a local optimum with two components on one blob and one component over
    two: a merged and a split cluster in a clean embedding. More starts,
    chosen by the mixture's own likelihood (no labels), avoid that at the
    cost of EM in :math:`K` dimensions only, small beside UMAP's layout
    (``benchmarks/results/gmm_starts.md`` and
    ``ablation_gmm_starts.md``)."""
    gmm = GaussianMixture(num_clusters, covariance_type='full',
                          n_init=starts,
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


def _umap_gmm_starts(spaces: Sequence[Tuple[np.ndarray, int]],
                     num_clusters: int, random_state: int,
                     n_epochs: Optional[int] = None, gmm_starts: int = 1,
                     workers: Optional[int] = None) -> List[np.ndarray]:
    r"""The posteriors of :func:`umap_gmm` for every :obj:`(data, starts)`
    of :obj:`spaces`: :obj:`starts` UMAP seeds (:obj:`random_state`,
    :obj:`random_state + 1000`, ...) on each :obj:`data`, which share that
    space's kNN lists; in order, space by space.

    The starts are independent, and each UMAP layout runs on one thread, so
    up to :obj:`workers` of them run at once on threads (:obj:`None`:
    :func:`torch.get_num_threads`, the threads the fit may use); each
    start's result depends on its seed and data only, so the posteriors are
    the same for any number of workers. BLAS runs on one thread meanwhile:
    two runs of the same default USPS fit on two threads kept the same
    initial partition with its clusters in another order (and so ended
    with other labels); OpenBLAS called from two threads at once may split
    its sums differently depending on timing, and the last bits of the
    mixtures' likelihoods decide which of several equally good EM starts
    (the same clusters, ordered differently) is kept."""
    jobs = []
    for data, starts in spaces:
        if starts > 0:
            knn = umap_knn(data, min(UMAP_NEIGHBORS, len(data) - 1))
            jobs += [(data, knn, random_state + 1000 * j)
                     for j in range(starts)]

    def start(job) -> np.ndarray:
        data, knn, seed = job
        return umap_gmm(data, num_clusters, seed, knn=knn, n_epochs=n_epochs,
                        gmm_starts=gmm_starts)
    if len(jobs) == 1:
        return [start(jobs[0])]
    workers = min(len(jobs), torch.get_num_threads() if workers is None
                  else workers)
    _import_umap()  # patch the kernels before any thread calls them
    with threadpool_limits(limits=1, user_api='blas'):
        if workers > 1:
            with ThreadPoolExecutor(workers) as pool:
                return list(pool.map(start, jobs))
        return [start(job) for job in jobs]


def umap_gmm_restarts(z: np.ndarray, num_clusters: int, random_state: int,
                      restarts: int = 1,
                      n_epochs: Optional[int] = None,
                      gmm_starts: int = 1,
                      workers: Optional[int] = None) -> np.ndarray:
    r""":func:`umap_gmm` with :obj:`restarts` UMAP seeds
    (:obj:`random_state`, :obj:`random_state + 1000`, ...), keeping the
    posterior whose partition has the highest :func:`latent_silhouette` in
    :obj:`z` (ties: the earlier seed). UMAP's stochastic layout sometimes
    merges two clusters of the embedding and splits another; such a
    partition cuts through dense regions of :obj:`z` and scores a lower
    silhouette there (``benchmarks/results/restart_selection.md``). One
    restart is :func:`umap_gmm` itself; :obj:`n_epochs` and
    :obj:`gmm_starts` as there. The restarts run on up to :obj:`workers`
    threads, with the same result for any number
    (:func:`_umap_gmm_starts`)."""
    if restarts < 1:
        raise ValueError(f'restarts must be at least 1, got {restarts}')
    probas = _umap_gmm_starts([(z, restarts)], num_clusters, random_state,
                              n_epochs, gmm_starts, workers)
    if len(probas) == 1:
        return probas[0]
    # The same subsample for every restart.
    scores = [latent_silhouette(z, proba.argmax(1)) for proba in probas]
    return probas[int(np.argmax(scores))]  # ties: the first


def consensus_labels(partitions: Sequence[np.ndarray], num_clusters: int,
                     random_state: int, n_init: int = 10) -> np.ndarray:
    r"""The consensus of several partitions of the same samples: k-means
    with :math:`K` clusters (:obj:`n_init` starts, the lowest inertia kept)
    on the concatenated one-hot memberships
    :math:`[\mathbf{h}^{(1)}_i, \ldots, \mathbf{h}^{(R)}_i]`.

    Two samples are at squared distance :math:`2\,|\{r : \ell^{(r)}_i \ne
    \ell^{(r)}_j\}|`, twice the number of partitions that separate them,
    so k-means seeks the partition whose clusters the input partitions
    split least: the median-partition consensus under the category-utility
    criterion (`Topchy et al., "Clustering Ensembles: Models of Consensus
    and Weak Partitions", TPAMI 2005
    <https://doi.org/10.1109/TPAMI.2005.237>`_). The memberships are a
    sparse :math:`N \times RK` matrix, :math:`O(NR)` memory; no
    :math:`N \times N` co-association matrix is formed. Runs on one thread,
    so that the result does not depend on the machine's threads."""
    partitions = [np.asarray(p, dtype=np.int64) for p in partitions]
    n = len(partitions[0])
    if any(len(p) != n for p in partitions):
        raise ValueError('the partitions must label the same samples')
    width = [int(p.max()) + 1 for p in partitions]
    columns = np.concatenate([p + offset for p, offset in zip(
        partitions, np.cumsum([0] + width[:-1]))])
    rows = np.tile(np.arange(n), len(partitions))
    memberships = sp.csr_matrix(
        (np.ones(len(rows)), (rows, columns)), shape=(n, sum(width)))
    with threadpool_limits(limits=1):
        labels = KMeans(num_clusters, n_init=n_init,
                        random_state=random_state).fit_predict(memberships)
    return labels.astype(np.int64)


#: Added to every edge's vote-weighted weight (relative to the largest), so
#: that a node whose every edge the starts cut keeps a degree.
VOTE_FLOOR = 1e-6


def vote_weights(edge_index: torch.Tensor,
                 edge_weight: Optional[torch.Tensor],
                 partitions: Sequence[np.ndarray]) -> torch.Tensor:
    r"""The edge weights of a graph voted on by :math:`R` partitions,

    .. math::
        w'_{ij} = w_{ij} \, \frac{1}{R} \sum_{r=1}^{R}
        [\ell^{(r)}_i = \ell^{(r)}_j] + \delta \max_{kl} w_{kl},

    the kernel weight times the fraction of partitions that put both ends
    in one cluster, with a floor :math:`\delta` (:data:`VOTE_FLOOR`) that
    keeps every node connected. Only the :math:`O(Nk)` edges of the graph
    are scored: the co-association matrix of cluster ensembles (`Fred and
    Jain, TPAMI 2005 <https://doi.org/10.1109/TPAMI.2005.113>`_) restricted
    to the kNN graph, never :math:`N \times N`."""
    row, col = edge_index.cpu().numpy()
    labels = np.stack([np.asarray(p) for p in partitions])
    agree = (labels[:, row] == labels[:, col]).mean(0)
    weight = edge_weight_array(edge_index, edge_weight)
    voted = weight * agree + VOTE_FLOOR * float(weight.max(initial=0.0))
    return torch.as_tensor(voted)


def graph_vote(edge_index: torch.Tensor, edge_weight: Optional[torch.Tensor],
               partitions: Sequence[np.ndarray], num_clusters: int,
               random_state: int) -> np.ndarray:
    r"""The graph's view of a set of partitions: spectral clustering
    (:func:`~vgdcn_pyg.graph.spectral_clustering`) of the kNN graph whose
    edges are weighted by the partitions' votes (:func:`vote_weights`).

    UMAP's starts and the kNN graph fail differently. A UMAP layout can cut
    a thin manifold (an object photographed from every angle) in two and
    merge the halves with others, where the graph's neighbourhoods follow
    the manifold whole; the graph, on the other hand, holds edges between
    clusters that the starts agree to separate. The votes remove those edges
    and spectral clustering keeps the graph's connected pieces together.
    Returns labels, shape :obj:`[N]`."""
    return spectral_clustering(
        edge_index, vote_weights(edge_index, edge_weight, partitions),
        len(partitions[0]), num_clusters, random_state)


def umap_consensus(z: np.ndarray, x: np.ndarray, num_clusters: int,
                   random_state: int, restarts: int = 3,
                   input_starts: int = 1, n_epochs: Optional[int] = None,
                   gmm_starts: int = 1,
                   workers: Optional[int] = None,
                   extra: Sequence[np.ndarray] = (),
                   graph: Optional[Tuple[torch.Tensor,
                                         Optional[torch.Tensor]]] = None,
                   graph_votes: int = 0) -> np.ndarray:
    r"""An initial partition from two views of the data: the
    :func:`consensus_labels` of :obj:`restarts` :func:`umap_gmm` partitions
    of the embedding :obj:`z` and :obj:`input_starts` of the input
    :obj:`x`, all laid out on up to :obj:`workers` threads
    (:func:`_umap_gmm_starts`), of the partitions :obj:`extra` (e.g. a
    spectral partition of the input's kNN graph) and, with a :obj:`graph`
    (:obj:`(edge_index, edge_weight)`) and :obj:`graph_votes` :math:`> 0`,
    of the :func:`graph_vote` of the UMAP starts on that graph, counted
    :obj:`graph_votes` times. Returns labels, shape :obj:`[N]`.

    The auto-encoder's embedding can lose structure that UMAP finds in the
    input itself, while on other data the embedding is far better; a single
    layout of either also sometimes merges two clusters and splits another.
    The consensus keeps what most starts agree on, with the embedding's
    starts in the majority, and needs no labels
    (``benchmarks/results/consensus_starts.md`` scores each start,
    ``ablation_consensus.md`` whole fits)."""
    if restarts < 1 or input_starts < 0 or graph_votes < 0:
        raise ValueError(f'need restarts >= 1, input_starts >= 0 and '
                         f'graph_votes >= 0, got {restarts}, {input_starts} '
                         f'and {graph_votes}')
    if graph_votes and graph is None:
        raise ValueError('graph_votes > 0 needs the graph')
    probas = _umap_gmm_starts([(z, restarts), (x, input_starts)],
                              num_clusters, random_state, n_epochs,
                              gmm_starts, workers)
    starts = [proba.argmax(1) for proba in probas]
    voted = []
    if graph_votes:
        voted = [graph_vote(graph[0], graph[1], starts, num_clusters,
                            random_state)] * graph_votes
    return consensus_labels(starts + list(extra) + voted, num_clusters,
                            random_state)
