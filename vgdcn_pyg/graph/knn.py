r""":math:`k`-nearest-neighbour search without an :math:`N \times N`
distance matrix.

Three interchangeable exact back ends return the same neighbours (up to
ties):

* :obj:`"torch"`: blocked matrix products and :meth:`torch.topk`, runs on
  whatever device :obj:`x` lives on,
* :obj:`"torch_cluster"`: the KD-tree (CPU) or brute-force kernel (CUDA) of
  :func:`torch_cluster.knn_graph`,
* :obj:`"faiss"`: :class:`faiss.IndexFlatL2` exact search (CPU).

Exact search costs :math:`O(N^2 D)`, which grows out of reach on a CPU
towards :math:`N = 10^6` (``benchmarks/results/knn_scale.md``). Two
approximate back ends from faiss scale further:

* :obj:`"faiss_ivf"`: an inverted file (:class:`faiss.IndexIVFFlat`,
  :math:`4\sqrt{N}` k-means cells, :data:`IVF_NPROBE` of them searched per
  query); deterministic,
* :obj:`"faiss_hnsw"`: a hierarchical navigable small world graph
  (:class:`faiss.IndexHNSWFlat`); its multi-threaded construction is not
  deterministic, so two runs may differ in a few neighbours.

They may miss true neighbours. Their search breadth (cells probed, or the
HNSW search list) is therefore raised until an estimated recall of
:data:`APPROXIMATE_TARGET_RECALL` is reached
(:func:`tune_search_breadth`), and their recall against exact search is
measured in ``benchmarks/knn_scale.py`` (see ``docs/scaling.rst``). The
candidates they find go through the same exact re-ranking, so the returned
distances are exact and symmetric.

The :obj:`"torch"` and :obj:`"faiss"` back ends rank candidates with the
expansion :math:`\|a\|^2 - 2 a^\top b + \|b\|^2`, which loses digits to
cancellation for close points (on USPS it swaps neighbours whose distances
differ by :math:`10^{-5}` relative). They therefore fetch :math:`2M`
candidates for :math:`M` neighbours (:obj:`n_neighbors`), and every back end
re-ranks its candidates by the squared distances recomputed here as
:math:`\sum_d (x_{id} - x_{jd})^2` (:func:`pair_sqdist`). All back ends then
return the same neighbours except for exact ties, and :math:`d(i, j)` equals
:math:`d(j, i)` bit for bit.
"""
import importlib.util
import logging
import math
import warnings
from typing import List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from vgdcn_pyg.exceptions import GraphError

log = logging.getLogger(__name__)

BACKENDS = ('torch', 'torch_cluster', 'faiss', 'faiss_ivf', 'faiss_hnsw')
#: The back ends that may miss true neighbours.
APPROXIMATE_BACKENDS = ('faiss_ivf', 'faiss_hnsw')

# Budget for the one (block x N) distance buffer of the "torch" back end.
DEFAULT_BLOCK_BYTES = 256 * 1024**2

_INSTALL_HINTS = {
    'torch_cluster': 'pip install --no-build-isolation torch-cluster',
    'faiss': 'pip install faiss-cpu',
}
# The Python module behind each back end.
_MODULES = {'torch_cluster': 'torch_cluster', 'faiss': 'faiss',
            'faiss_ivf': 'faiss', 'faiss_hnsw': 'faiss'}

#: From this many samples on, :obj:`"auto"` picks the approximate
#: :obj:`"faiss_ivf"` on CPU when faiss is installed: exact search grows as
#: N^2, while the inverted file, tuned to :data:`APPROXIMATE_TARGET_RECALL`,
#: grows far slower; where the two cross is measured in
#: benchmarks/results/knn_scale.md (see docs/scaling.rst). It is
#: deterministic, unlike faiss's multi-threaded HNSW construction.
APPROXIMATE_MIN_NODES = 100_000
#: Inverted-file cells searched per query by :obj:`"faiss_ivf"` at first
#: (doubled until :data:`APPROXIMATE_TARGET_RECALL` is reached).
IVF_NPROBE = 64
#: Links per node and search breadth of :obj:`"faiss_hnsw"` (the breadth is
#: doubled until :data:`APPROXIMATE_TARGET_RECALL` is reached, at most
#: :data:`HNSW_EF_SEARCH_MAX`).
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 40
HNSW_EF_SEARCH = 128
HNSW_EF_SEARCH_MAX = 4096
#: Recall that the approximate back ends are tuned to, estimated on
#: :data:`TUNING_QUERIES` random samples whose exact neighbours are found by
#: brute force. It is a target rather than a fixed search breadth because a
#: breadth does not carry over between data sets: the same number of cells
#: per query that finds every neighbour in low dimension misses many in
#: higher dimension (benchmarks/results/knn_scale_approx.md).
APPROXIMATE_TARGET_RECALL = 0.99
TUNING_QUERIES = 256

# A KD-tree only beats brute force in low dimension: its pruning fails as D
# grows, while the blocked matmul of the "torch" back end does not care
# about D. "auto" therefore only picks torch-cluster on CPU up to this
# dimension, about where the two cross in benchmarks/results/graph_build.md
# (USPS, D = 256) and benchmarks/results/knn_scale.md (D = 10, 64, 256).
KD_TREE_MAX_DIM = 16


def _is_installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available_backends() -> List[str]:
    r"""Returns the names of the :math:`k`-NN back ends usable here, in the
    order of :data:`BACKENDS`; :obj:`"torch"` is always available."""
    return [
        name for name in BACKENDS
        if name == 'torch' or _is_installed(_MODULES[name])
    ]


def _import_backend(name: str):
    module = _MODULES[name]
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(f"The '{name}' k-NN backend needs the '{module}' "
                          f"package: {_INSTALL_HINTS[module]}") from e


def resolve_backend(backend: str, x: Tensor) -> str:
    r"""Maps :obj:`backend` (possibly :obj:`"auto"`) to a concrete back end
    for the samples :obj:`x` of shape :math:`(N, D)`.

    :obj:`"auto"` picks :obj:`"torch"` on CUDA (a blocked matmul is what the
    GPU is best at). On CPU it picks the approximate :obj:`"faiss_ivf"` from
    :math:`N \geq` :data:`APPROXIMATE_MIN_NODES` (100,000) if faiss is
    installed, since exact search grows as :math:`N^2`; below that (or
    without faiss) :obj:`"torch_cluster"` if installed and :math:`D \leq 16`
    (see :data:`KD_TREE_MAX_DIM`), else :obj:`"torch"`. faiss's exact search
    is never picked: it does the same brute-force work as the blocked matmul
    and was not faster in benchmarks/results/graph_build.md.
    """
    if backend == 'auto':
        if x.is_cuda:
            return 'torch'
        if x.size(0) >= APPROXIMATE_MIN_NODES and _is_installed('faiss'):
            return 'faiss_ivf'
        if _is_installed('torch_cluster') and x.size(1) <= KD_TREE_MAX_DIM:
            return 'torch_cluster'
        return 'torch'
    if backend not in BACKENDS:
        raise GraphError(f"Unknown k-NN backend '{backend}', expected 'auto' "
                         f"or one of {', '.join(BACKENDS)}")
    return backend


def as_samples(x: Union[Tensor, np.ndarray]) -> Tensor:
    r"""Converts :obj:`x` to a floating point tensor of shape :obj:`(N, D)`
    and checks that it holds only finite values."""
    if not isinstance(x, Tensor):
        try:
            # The copy (only if needed) also covers negative strides.
            array = np.ascontiguousarray(x)
        except ValueError as e:
            raise GraphError(f'x must be a rectangular tensor or array, got '
                             f'a ragged {type(x).__name__}') from e
        if array.dtype.kind not in 'biuf':
            raise GraphError(f'x must hold real numbers, got dtype '
                             f'{array.dtype}')
        x = torch.from_numpy(array)
    if x.dim() != 2:
        raise GraphError(f'x must be 2-D (N, D), got shape {tuple(x.shape)}')
    if x.size(0) == 0 or x.size(1) == 0:
        raise GraphError(f'x must hold at least one sample and one feature, '
                         f'got shape {tuple(x.shape)}')
    if x.dtype == torch.bool or x.is_complex():
        raise GraphError(f'x must hold real numbers, got dtype {x.dtype}')
    if not x.is_floating_point():
        x = x.to(torch.float32)
    elif x.dtype in (torch.float16, torch.bfloat16):
        # Half precision has too few digits for the distance expansion.
        x = x.to(torch.float32)
    n_bad = _count_non_finite(x)
    if n_bad > 0:
        raise GraphError(f'x contains {n_bad} NaN/inf values')
    return x


def _count_non_finite(x: Tensor, chunk_bytes: int = 16 * 1024**2) -> int:
    # In row chunks of 16 MB: torch.isfinite builds |x| and boolean masks,
    # so on all of x at once its temporaries, a multiple of the size of x,
    # would outgrow the memory of the blocked k-NN search itself.
    rows = max(1, chunk_bytes // (x.size(1) * x.element_size()))
    return sum(
        int(torch.isfinite(x[i:i + rows]).logical_not_().count_nonzero())
        for i in range(0, x.size(0), rows))


def _check_n_neighbors(n_neighbors: int, num_nodes: int) -> int:
    if isinstance(n_neighbors, bool) or \
            not isinstance(n_neighbors, (int, np.integer)):
        raise GraphError(f'n_neighbors must be an integer, got '
                         f'{n_neighbors!r}')
    n_neighbors = int(n_neighbors)
    if n_neighbors < 1:
        raise GraphError(f'n_neighbors={n_neighbors} must be at least 1')
    if n_neighbors >= num_nodes:
        raise GraphError(f'n_neighbors={n_neighbors} must be smaller than '
                         f'the number of samples ({num_nodes})')
    return n_neighbors


def default_block_size(num_nodes: int, element_size: int = 4,
                       max_bytes: int = DEFAULT_BLOCK_BYTES) -> int:
    r"""Number of rows per block such that one :obj:`(block, N)` distance
    buffer stays under :obj:`max_bytes` (256 MB by default)."""
    return max(1, min(num_nodes, max_bytes // (num_nodes * element_size)))


def pair_sqdist(x: Union[Tensor, np.ndarray], index: Tensor,
                block_size: Optional[int] = None) -> Tensor:
    r"""The exact squared distances of every sample to its listed
    neighbours, :math:`\|\mathbf{x}_i - \mathbf{x}_{\mathrm{index}[i, j]}\|^2`,
    as :func:`knn_search` ranks and returns them: computed from the
    differences (no cancellation, and :math:`d(i, j) = d(j, i)` bit for bit).
    Use it to give neighbour lists found elsewhere (e.g. another library)
    the same distances.

    Args:
        x (Tensor or numpy.ndarray): Samples of shape :obj:`(N, D)`.
        index (LongTensor): Neighbours of every sample, shape
            :obj:`(N, M)`.
        block_size (int, optional): Rows of a search block (see
            :func:`default_block_size`, the default); the one
            :obj:`(rows, M, D)` temporary stays at a quarter of the distance
            buffer of such a block.

    Returns:
        Tensor: Shape :obj:`(N, M)`, the dtype and device of :obj:`x`.
    """
    x = as_samples(x)
    if index.dim() != 2 or index.size(0) != x.size(0):
        raise GraphError(f'index must have shape (N, M) with N = '
                         f'{x.size(0)}, got {tuple(index.shape)}')
    if block_size is None:
        block_size = default_block_size(x.size(0), x.element_size())
    with torch.no_grad():
        return _pair_sqdist(x, index.to(x.device), int(block_size))


def _pair_sqdist(x: Tensor, index: Tensor, block_size: int) -> Tensor:
    # pair_sqdist on checked input, in row blocks.
    num_nodes, n_neighbors = index.shape
    rows = max(1, (block_size * num_nodes) //
               (4 * max(1, n_neighbors) * x.size(1)))
    out = torch.empty(index.shape, dtype=x.dtype, device=x.device)
    for start in range(0, num_nodes, rows):
        end = min(start + rows, num_nodes)
        # The gather allocates the temporary; everything after is in place.
        # (x_j - x_i)^2 = (x_i - x_j)^2 exactly, so d(i, j) == d(j, i).
        diff = x[index[start:end]]
        diff.sub_(x[start:end].unsqueeze(1)).pow_(2)
        out[start:end] = diff.sum(dim=-1)
        del diff
    return out


def _sort_rows(index: Tensor, sqdist: Tensor) -> Tuple[Tensor, Tensor]:
    # Exact distances may reorder near-ties found with the expansion; the
    # stable sort keeps the back end's order for exact ties.
    sqdist, perm = torch.sort(sqdist, dim=1, stable=True)
    return index.gather(1, perm), sqdist


def _knn_torch(x: Tensor, n_neighbors: int, block_size: int) -> Tensor:
    num_nodes = x.size(0)
    # A norm reduction needs no (N, D) temporary, unlike x.pow(2).sum(1).
    sq_norm = torch.linalg.vector_norm(x, dim=1).square_()
    x_t = x.t()
    index = torch.empty((num_nodes, n_neighbors), dtype=torch.long,
                        device=x.device)
    for start in range(0, num_nodes, block_size):
        end = min(start + block_size, num_nodes)
        # ||a||^2 - 2 a b^T + ||b||^2, written in place into one buffer.
        dist = torch.addmm(sq_norm.unsqueeze(0), x[start:end], x_t,
                           beta=1.0, alpha=-2.0)
        dist.add_(sq_norm[start:end].unsqueeze(1)).clamp_(min=0.0)
        # Exclude each point by its index, not by a zero distance, so that
        # exact duplicates remain each other's neighbours.
        rows = torch.arange(end - start, device=x.device)
        dist[rows, rows + start] = float('inf')
        index[start:end] = dist.topk(n_neighbors, dim=1,
                                     largest=False).indices
        del dist
    return index


def _knn_torch_cluster(x: Tensor, n_neighbors: int) -> Tensor:
    torch_cluster = _import_backend('torch_cluster')
    num_nodes = x.size(0)
    num_workers = 1 if x.is_cuda else max(1, torch.get_num_threads())
    # With loop=False torch-cluster searches n_neighbors + 1 neighbours and
    # removes the pairs (i, i). If exact duplicates push i itself out of its
    # n_neighbors + 1 nearest, nothing is removed and i keeps n_neighbors + 1
    # neighbours. Since d(i, i) = 0 lost the tie, all n_neighbors + 1 are at
    # distance 0, so dropping any one of them is correct: no distances are
    # needed here (the exact re-ranking in knn_search follows).
    edge_index = torch_cluster.knn_graph(x, n_neighbors, loop=False,
                                         flow='source_to_target',
                                         num_workers=num_workers)
    neighbour, centre = edge_index[0], edge_index[1]
    # Group by centre and keep the first n_neighbors of each group.
    perm = torch.sort(centre, stable=True).indices
    centre, neighbour = centre[perm], neighbour[perm]
    count = torch.bincount(centre, minlength=num_nodes)
    if int(count.min()) < n_neighbors:
        raise RuntimeError(f'torch_cluster.knn_graph returned only '
                           f'{int(count.min())} neighbours for a sample, '
                           f'expected {n_neighbors}')
    ptr = torch.cumsum(count, dim=0) - count
    rank = torch.arange(centre.numel(), device=x.device) - ptr[centre]
    return neighbour[rank < n_neighbors].view(num_nodes, n_neighbors)


def _drop_self(found: Tensor, n_neighbors: int) -> Tensor:
    # Normally i is its own first hit, but an exact duplicate may come first
    # or push i out of the n_neighbors + 1 hits entirely. A stable sort on
    # "is self" moves i (if present) to the end; dropping the last column
    # then removes i, or the (n_neighbors + 1)-th hit when i was not found.
    is_self = found == torch.arange(found.size(0)).unsqueeze(1)
    perm = torch.sort(is_self.to(torch.uint8), dim=1, stable=True).indices
    return found.gather(1, perm)[:, :n_neighbors]


def _faiss_search(index, x_np: np.ndarray, n_neighbors: int) -> Tensor:
    r"""Searches every row of :obj:`x_np` in :obj:`index` (which holds
    :obj:`x_np`) for its :obj:`n_neighbors` nearest other rows. Rows for
    which an approximate index returns fewer than :obj:`n_neighbors + 1`
    hits (marked -1, e.g. among many exact duplicates) are searched exactly
    instead."""
    _, found = index.search(x_np, n_neighbors + 1)
    found = torch.from_numpy(found).to(torch.long)
    missing = (found < 0).any(dim=1).nonzero().view(-1)
    if missing.numel() > 0:
        x = torch.from_numpy(x_np)
        for rows in missing.split(1024):
            dist = torch.cdist(x[rows], x).square_()
            found[rows] = dist.topk(n_neighbors + 1, dim=1,
                                    largest=False).indices
    return _drop_self(found, n_neighbors)


def _as_float32_numpy(x: Tensor) -> np.ndarray:
    return np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)


def _knn_faiss(x: Tensor, n_neighbors: int) -> Tensor:
    faiss = _import_backend('faiss')
    x_np = _as_float32_numpy(x)
    index = faiss.IndexFlatL2(x_np.shape[1])
    index.add(x_np)
    return _faiss_search(index, x_np, n_neighbors).to(x.device)


def ivf_num_cells(num_nodes: int) -> int:
    r"""Number of k-means cells of :obj:`"faiss_ivf"`: :math:`4\sqrt{N}`
    (faiss's rule of thumb), at most :math:`N / 39` so that every cell gets
    the 39 training points faiss asks for."""
    return int(max(1, min(4 * math.sqrt(num_nodes), num_nodes // 39)))


def tune_search_breadth(index, x_np: np.ndarray, n_neighbors: int,
                        num_candidates: int, param: str, start: int,
                        stop: int, seed: int = 0) -> Tuple[int, float]:
    r"""Sets the search breadth :obj:`param` of an approximate faiss
    :obj:`index` (:obj:`"nprobe"` or :obj:`"efSearch"`), which holds the rows
    of :obj:`x_np`: starting at :obj:`start`, it is doubled until the
    :obj:`num_candidates` hits of a query contain at least
    :data:`APPROXIMATE_TARGET_RECALL` of its exact :obj:`n_neighbors`
    nearest neighbours, on average over :data:`TUNING_QUERIES` random rows
    (found by brute force, as in :func:`knn_recall`), or until :obj:`stop`.
    Costs about :data:`TUNING_QUERIES` exact queries plus a few approximate
    searches of them; deterministic for a given :obj:`seed`.

    Returns:
        (int, float): The breadth set and the recall estimated with it.
    """
    faiss = _import_backend('faiss')
    num_nodes = x_np.shape[0]
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(num_nodes, min(num_nodes, TUNING_QUERIES),
                              replace=False))
    queries = x_np[rows]
    x = torch.from_numpy(x_np)
    rows = torch.from_numpy(rows)
    kth = torch.cat([_kth_sqdist(x, part, n_neighbors) for part in
                     rows.split(max(1, default_block_size(num_nodes)))])
    space = faiss.ParameterSpace()
    value = min(start, stop)
    while True:
        space.set_index_parameter(index, param, value)
        _, hits = index.search(queries, num_candidates + 1)
        hits = torch.from_numpy(hits).long()
        # Hits within the n_neighbors-th true distance, the query itself and
        # faiss's -1 (no hit) excluded, at most n_neighbors per query.
        within = (hits >= 0) & (hits != rows.unsqueeze(1)) & \
            (_row_sqdist(x, rows, hits.clamp(min=0)) <= kth)
        found = within.sum(dim=1).clamp(max=n_neighbors).double()
        recall = float(found.mean()) / n_neighbors
        if recall >= APPROXIMATE_TARGET_RECALL or value >= stop:
            break
        value = min(2 * value, stop)
    log.info('%s = %d, estimated recall@%d %.4f', param, value, n_neighbors,
             recall)
    if recall < APPROXIMATE_TARGET_RECALL:
        warnings.warn(f'{param} = {value} (its maximum) reaches an estimated '
                      f'recall@{n_neighbors} of {recall:.3f} only, below '
                      f'the target {APPROXIMATE_TARGET_RECALL}; an exact back '
                      f'end finds every neighbour')
    return value, recall


def _knn_faiss_ivf(x: Tensor, n_neighbors: int, num_candidates: int,
                   seed: int = 0) -> Tensor:
    faiss = _import_backend('faiss')
    x_np = _as_float32_numpy(x)
    num_nodes, dim = x_np.shape
    num_cells = ivf_num_cells(num_nodes)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(dim), dim, num_cells)
    index.cp.seed = seed
    # k-means on a fixed random subset of 64 points per cell (faiss would
    # subsample to 256 per cell itself; fewer is faster and as good here).
    rng = np.random.default_rng(seed)
    sample = min(num_nodes, 64 * num_cells)
    train = x_np if sample == num_nodes else \
        x_np[np.sort(rng.choice(num_nodes, sample, replace=False))]
    index.train(train)
    index.add(x_np)
    tune_search_breadth(index, x_np, n_neighbors, num_candidates, 'nprobe',
                        IVF_NPROBE, num_cells, seed)
    return _faiss_search(index, x_np, num_candidates).to(x.device)


def _knn_faiss_hnsw(x: Tensor, n_neighbors: int,
                    num_candidates: int) -> Tensor:
    faiss = _import_backend('faiss')
    x_np = _as_float32_numpy(x)
    index = faiss.IndexHNSWFlat(x_np.shape[1], HNSW_M)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(x_np)
    tune_search_breadth(index, x_np, n_neighbors, num_candidates, 'efSearch',
                        max(HNSW_EF_SEARCH, num_candidates + 1),
                        max(HNSW_EF_SEARCH_MAX, num_candidates + 1))
    return _faiss_search(index, x_np, num_candidates).to(x.device)


def knn_search(
    x: Union[Tensor, np.ndarray],
    n_neighbors: int,
    backend: str = 'auto',
    block_size: Optional[int] = None,
) -> Tuple[Tensor, Tensor]:
    r"""Finds for every sample :math:`\mathbf{x}_i` its :math:`M`
    (:obj:`n_neighbors`) nearest other samples in Euclidean distance,

    .. math::
        \mathcal{N}_M(i) = \operatorname*{arg\,min}_{S \subseteq \{1..N\}
        \setminus \{i\},\, |S| = M} \sum_{j \in S}
        \| \mathbf{x}_i - \mathbf{x}_j \|_2^2,

    without ever forming the :math:`N \times N` distance matrix: memory is
    :math:`O(B \cdot N + N M)` for a row block of :math:`B` samples.

    Each sample is excluded by its *index*, so exact duplicates of
    :math:`\mathbf{x}_i` are still found as its neighbours at distance 0.
    Neighbours are ranked by distances computed from the differences
    :math:`\mathbf{x}_i - \mathbf{x}_j` (see the module docstring), so all
    exact back ends agree up to exact ties. The approximate back ends may
    return farther samples in place of some true neighbours (see
    :func:`knn_recall`).

    Args:
        x (Tensor or numpy.ndarray): Samples of shape :obj:`(N, D)`.
        n_neighbors (int): Number of neighbours :math:`M`,
            :math:`1 \leq M < N`.
        backend (str, optional): :obj:`"torch"`, :obj:`"torch_cluster"`,
            :obj:`"faiss"`, the approximate :obj:`"faiss_ivf"` and
            :obj:`"faiss_hnsw"`, or :obj:`"auto"` (see
            :func:`resolve_backend`). (default: :obj:`"auto"`)
        block_size (int, optional): Rows per block of the :obj:`"torch"`
            back end. By default the largest block whose :obj:`(B, N)`
            distance buffer fits in 256 MB. (default: :obj:`None`)

    Returns:
        (LongTensor, Tensor): Neighbour indices of shape :obj:`(N, M)` and the
        matching squared distances of shape :obj:`(N, M)`, both sorted from
        nearest to farthest and on the device of :obj:`x`.

    Raises:
        GraphError: if :obj:`x` is not 2-D or not finite, or
            :obj:`n_neighbors` is not in :math:`[1, N)`.
        ImportError: if the requested back end is not installed.
    """
    x = as_samples(x)
    num_nodes = x.size(0)
    n_neighbors = _check_n_neighbors(n_neighbors, num_nodes)
    backend = resolve_backend(backend, x)
    if block_size is None:
        block_size = default_block_size(num_nodes, x.element_size())
    elif isinstance(block_size, bool) or int(block_size) < 1:
        raise GraphError(f'block_size={block_size} must be at least 1')
    block_size = min(int(block_size), num_nodes)

    # Expansion-based searches get spare candidates for the exact re-ranking
    # (see the module docstring); the KD-tree already computes differences.
    num_candidates = n_neighbors if backend == 'torch_cluster' else \
        min(2 * n_neighbors, num_nodes - 1)
    with torch.no_grad():
        if backend == 'torch':
            index = _knn_torch(x, num_candidates, block_size)
        elif backend == 'torch_cluster':
            index = _knn_torch_cluster(x, num_candidates)
        elif backend == 'faiss':
            index = _knn_faiss(x, num_candidates)
        elif backend == 'faiss_ivf':
            index = _knn_faiss_ivf(x, n_neighbors, num_candidates)
        else:
            index = _knn_faiss_hnsw(x, n_neighbors, num_candidates)
        sqdist = _pair_sqdist(x, index, block_size)
        index, sqdist = _sort_rows(index, sqdist)
        return (index[:, :n_neighbors].contiguous(),
                sqdist[:, :n_neighbors].contiguous())


def knn_recall(x: Union[Tensor, np.ndarray], index: Tensor,
               num_queries: int = 1000, seed: int = 0) -> float:
    r"""Recall of a :math:`k`-NN result :obj:`index` (shape :obj:`(N, M)`,
    e.g. from an approximate back end) against exact search, on a random
    sample of :obj:`num_queries` rows:

    .. math::
        \mathrm{recall} = \frac{1}{|Q|\, M} \sum_{i \in Q}
        |\{ j \in \hat{\mathcal{N}}_M(i) :
        \| \mathbf{x}_i - \mathbf{x}_j \| \leq d_M(i) \}|,

    where :math:`d_M(i)` is the exact distance of the :math:`M`-th nearest
    other sample, so that a neighbour tied with the :math:`M`-th counts as
    found. The exact neighbours of the sampled rows are found by brute force
    in row blocks (cost :math:`O(|Q| N D)`), which stays cheap when the full
    exact search is out of reach.
    """
    x = as_samples(x)
    num_nodes = x.size(0)
    if index.dim() != 2 or index.size(0) != num_nodes:
        raise GraphError(f'index must have shape (N, M) with N = {num_nodes}'
                         f', got {tuple(index.shape)}')
    n_neighbors = _check_n_neighbors(index.size(1), num_nodes)
    generator = torch.Generator().manual_seed(seed)
    queries = torch.randperm(num_nodes, generator=generator)[:num_queries]
    queries = queries.to(x.device)
    index = index.to(x.device)
    found = 0
    with torch.no_grad():
        for rows in queries.split(max(1, default_block_size(num_nodes))):
            kth = _kth_sqdist(x, rows, n_neighbors)
            found += int((_row_sqdist(x, rows, index[rows]) <= kth).sum())
    return found / (queries.numel() * n_neighbors)


def _kth_sqdist(x: Tensor, rows: Tensor, n_neighbors: int) -> Tensor:
    r"""Exact squared distance of each of :obj:`rows` to its
    :obj:`n_neighbors`-th nearest other row, shape :obj:`(len(rows), 1)`: a
    neighbour found within it is a true one, ties included."""
    dist = torch.cdist(x[rows], x)
    dist[torch.arange(rows.numel(), device=x.device), rows] = float('inf')
    # Candidates by the fast expansion, then exact distances from the
    # differences, as knn_search ranks them.
    cand = dist.topk(min(2 * n_neighbors, x.size(0) - 1), dim=1,
                     largest=False).indices
    del dist
    sqdist = _row_sqdist(x, rows, cand).sort(dim=1).values
    return sqdist[:, n_neighbors - 1:n_neighbors]


def _row_sqdist(x: Tensor, rows: Tensor, index: Tensor) -> Tensor:
    # The same arithmetic as pair_sqdist, for some rows only.
    return (x[index] - x[rows].unsqueeze(1)).pow_(2).sum(dim=-1)
