r"""Heat-kernel :math:`k`-NN graphs of samples as PyG
:class:`~torch_geometric.data.Data` objects. The number of neighbours of
each sample (the thesis's :math:`M`) is :obj:`n_neighbors` throughout."""
from .knn import available_backends, knn_search, pair_sqdist
from .heat_kernel import (
    default_bandwidth,
    edge_error_rate,
    graph_stats,
    knn_heat_kernel_graph,
)
from .transform import KNNHeatKernel

__all__ = [
    'available_backends',
    'knn_search',
    'pair_sqdist',
    'knn_heat_kernel_graph',
    'default_bandwidth',
    'edge_error_rate',
    'graph_stats',
    'KNNHeatKernel',
]
