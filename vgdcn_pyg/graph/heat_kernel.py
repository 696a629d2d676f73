r"""Heat-kernel :math:`k`-NN graphs as :class:`torch_geometric.data.Data`."""
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, degree, to_undirected

from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.graph.knn import as_samples, knn_search


def default_bandwidth(sqdist: Tensor) -> float:
    r"""Default heat-kernel bandwidth: the mean squared distance of all
    :math:`N M` pairs of a sample and one of its :math:`M` neighbours,

    .. math::
        t = \frac{1}{N M} \sum_{i=1}^N \sum_{j \in \mathcal{N}_M(i)}
        \| \mathbf{x}_i - \mathbf{x}_j \|_2^2,

    so that a typical neighbour gets weight :math:`e^{-1} \approx 0.37`
    whatever the scale of the features. If all these distances are 0 (every
    sample has :math:`M` exact duplicates) the scale is undefined and
    :math:`t = 1` is returned.
    """
    t = float(sqdist.double().mean()) if sqdist.numel() > 0 else 0.0
    return t if t > 0.0 else 1.0


def _check_bandwidth(t: Any) -> float:
    try:
        value = float(t)
    except (TypeError, ValueError) as e:
        raise GraphError(f't must be a positive number, got {t!r}') from e
    if not np.isfinite(value) or value <= 0.0:
        raise GraphError(f't={t} must be a finite number > 0')
    return value


def _as_labels(y: Union[Tensor, np.ndarray, Any], num_nodes: int) -> Tensor:
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    elif not isinstance(y, Tensor):
        y = torch.as_tensor(np.asarray(y))
    y = y.view(-1) if y.dim() == 2 and 1 in y.shape else y
    if y.dim() != 1 or y.numel() != num_nodes:
        raise GraphError(f'y must hold one label per sample ({num_nodes}), '
                         f'got shape {tuple(y.shape)}')
    return y.to(torch.long) if not y.is_floating_point() else y


def heat_kernel_weights(sqdist: Tensor, t: float) -> Tensor:
    r""":math:`\exp(-d^2 / t)` in float32, computed in float64 and kept
    strictly positive: a far neighbour with a small :math:`t` would
    otherwise underflow to 0 and drop out of message passing."""
    weight = torch.exp(-sqdist.double() / t).to(torch.float32)
    return weight.clamp_(min=torch.finfo(torch.float32).tiny)


def knn_heat_kernel_graph(
    x: Union[Tensor, np.ndarray],
    n_neighbors: int = 3,
    backend: str = 'auto',
    t: Optional[float] = None,
    y: Optional[Union[Tensor, np.ndarray]] = None,
    block_size: Optional[int] = None,
) -> Data:
    r"""Builds the undirected heat-kernel :math:`k`-NN graph of SDCN
    (`"Structural Deep Clustering Network"
    <https://arxiv.org/abs/2002.01633>`_, Bo et al., WWW 2020), used by
    VGDCN (thesis eq. 3.7):

    .. math::
        S_{ij} = \exp\left( -\frac{\| \mathbf{x}_i - \mathbf{x}_j \|_2^2}{t}
        \right), \qquad (i, j) \in \mathcal{E} \iff
        j \in \mathcal{N}_M(i) \lor i \in \mathcal{N}_M(j),

    where :math:`\mathcal{N}_M(i)` are the :math:`M` (:obj:`n_neighbors`)
    nearest other samples of :math:`\mathbf{x}_i` (see :func:`knn_search`).
    The graph is made undirected by taking the union of both directions, so
    every node has degree at least :math:`M`. No self-loops are added:
    :class:`~torch_geometric.nn.conv.GCNConv` adds them itself.

    Memory is :math:`O(B \cdot N + N M)`; no :math:`N \times N` matrix is
    built.

    Args:
        x (Tensor or numpy.ndarray): Samples of shape :obj:`(N, D)`.
        n_neighbors (int, optional): Number of neighbours :math:`M` of each
            sample, :math:`1 \leq M < N`. (default: :obj:`3`, SDCN's; the
            estimators pass their model's own)
        backend (str, optional): :math:`k`-NN back end, see
            :func:`knn_search`. (default: :obj:`"auto"`)
        t (float, optional): Bandwidth :math:`t > 0`. If :obj:`None`, the mean
            squared distance of the :math:`M` neighbours (see
            :func:`default_bandwidth`). (default: :obj:`None`)
        y (Tensor or numpy.ndarray, optional): Labels of shape :obj:`(N,)`,
            stored as :obj:`data.y`. (default: :obj:`None`)
        block_size (int, optional): Rows per block of the :obj:`"torch"`
            back end. (default: :obj:`None`)

    Returns:
        Data: with :obj:`x` (float), :obj:`edge_index` (coalesced, both
        directions, no self-loops), :obj:`edge_weight` (float32 in
        :math:`(0, 1]`), :obj:`t` (the bandwidth, a float) and :obj:`y` if
        given.
    """
    x = as_samples(x)
    num_nodes = x.size(0)
    if t is not None:
        t = _check_bandwidth(t)
    if y is not None:
        y = _as_labels(y, num_nodes)

    index, sqdist = knn_search(x, n_neighbors, backend=backend,
                               block_size=block_size)
    edge_index, edge_weight, t = heat_kernel_graph_from_knn(index, sqdist, t)
    data = Data(x=x, edge_index=edge_index, edge_weight=edge_weight)
    data.t = t
    if y is not None:
        data.y = y.to(x.device)
    return data


def heat_kernel_graph_from_knn(
    index: Tensor,
    sqdist: Tensor,
    t: Optional[float] = None,
) -> Tuple[Tensor, Tensor, float]:
    r"""The undirected heat-kernel graph of given :math:`k`-NN lists (the
    second half of :func:`knn_heat_kernel_graph`).

    Args:
        index (LongTensor): Neighbours of every sample, shape :obj:`(N, M)`,
            as returned by :func:`~vgdcn_pyg.graph.knn_search`.
        sqdist (Tensor): The matching squared distances, shape
            :obj:`(N, M)` (e.g. from :func:`~vgdcn_pyg.graph.knn.pair_sqdist`
            for neighbours found elsewhere).
        t (float, optional): Bandwidth; the mean of :obj:`sqdist` if
            :obj:`None`. (default: :obj:`None`)

    Returns:
        (LongTensor, Tensor, float): :obj:`edge_index` (coalesced, both
        directions), :obj:`edge_weight` and the bandwidth :obj:`t`.
    """
    if index.dim() != 2 or sqdist.shape != index.shape:
        raise GraphError(f'index and sqdist must both have shape (N, M), got '
                         f'{tuple(index.shape)} and {tuple(sqdist.shape)}')
    t = default_bandwidth(sqdist) if t is None else _check_bandwidth(t)
    num_nodes = index.size(0)
    centre = torch.arange(num_nodes, device=index.device)
    centre = centre.repeat_interleave(index.size(1))
    edge_index = torch.stack([index.reshape(-1), centre], dim=0)
    # d(i, j) and d(j, i) are computed identically (see knn_search), so the
    # reduction of a pair found from both sides is a no-op; "mean" is only
    # a safe choice should they ever differ in the last bit.
    edge_index, sqdist = to_undirected(edge_index, sqdist.reshape(-1),
                                       num_nodes=num_nodes, reduce='mean')
    return edge_index, heat_kernel_weights(sqdist, t), t


def _undirected_pairs(edge_index: Tensor,
                      num_nodes: Optional[int] = None) -> Tensor:
    r"""The unique unordered pairs :math:`\{i, j\}`, :math:`i \neq j`, of
    :obj:`edge_index` as a :obj:`(2, E)` tensor with row 0 < row 1."""
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise GraphError(f'edge_index must have shape (2, E), got '
                         f'{tuple(edge_index.shape)}')
    row, col = edge_index
    mask = row != col
    low = torch.minimum(row[mask], col[mask])
    high = torch.maximum(row[mask], col[mask])
    return coalesce(torch.stack([low, high], dim=0), num_nodes=num_nodes)


def edge_error_rate(edge_index: Tensor,
                    y: Union[Tensor, np.ndarray]) -> float:
    r"""Fraction of undirected edges that join samples of different classes,

    .. math::
        \frac{|\{ \{i, j\} \in \mathcal{E} : y_i \neq y_j \}|}
        {|\mathcal{E}|},

    counting each unordered pair once (both directions of an edge count as
    one edge) and ignoring self-loops. This is the "error rate" of a
    :math:`k`-NN graph reported by SDCN: edges it measures mix clusters.

    Args:
        edge_index (LongTensor): Edge indices of shape :obj:`(2, E)`.
        y (Tensor or numpy.ndarray): Labels of shape :obj:`(N,)`.
    """
    if isinstance(y, np.ndarray):
        y = torch.from_numpy(y)
    elif not isinstance(y, Tensor):
        y = torch.as_tensor(np.asarray(y))
    y = y.view(-1).to(edge_index.device)
    if edge_index.numel() > 0 and int(edge_index.max()) >= y.numel():
        raise GraphError(f'edge_index refers to node {int(edge_index.max())}'
                         f' but y has only {y.numel()} labels')
    pairs = _undirected_pairs(edge_index, num_nodes=y.numel())
    if pairs.size(1) == 0:
        raise GraphError('edge_index has no edges between distinct nodes')
    return float((y[pairs[0]] != y[pairs[1]]).double().mean())


def graph_stats(data: Data) -> Dict[str, Any]:
    r"""Summary of a graph built by :func:`knn_heat_kernel_graph`.

    Returns:
        dict: :obj:`n_nodes`, :obj:`n_edges` (undirected, each unordered pair
        once), :obj:`mean_degree`, :obj:`min_degree`, :obj:`max_degree`
        (number of distinct neighbours), :obj:`t` (if set) and
        :obj:`edge_error_rate` (if :obj:`data.y` is set).
    """
    num_nodes = int(data.num_nodes)
    pairs = _undirected_pairs(data.edge_index, num_nodes=num_nodes)
    deg = degree(pairs.view(-1), num_nodes=num_nodes)
    stats: Dict[str, Any] = {
        'n_nodes': num_nodes,
        'n_edges': int(pairs.size(1)),
        'mean_degree': float(deg.mean()) if num_nodes > 0 else 0.0,
        'min_degree': int(deg.min()) if num_nodes > 0 else 0,
        'max_degree': int(deg.max()) if num_nodes > 0 else 0,
    }
    if getattr(data, 't', None) is not None:
        stats['t'] = float(data.t)
    if getattr(data, 'y', None) is not None and pairs.size(1) > 0:
        stats['edge_error_rate'] = edge_error_rate(data.edge_index, data.y)
    return stats
