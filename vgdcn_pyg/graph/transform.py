from typing import Optional

from torch_geometric.data import Data
from torch_geometric.data.datapipes import functional_transform
from torch_geometric.transforms import BaseTransform

from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.graph.heat_kernel import knn_heat_kernel_graph


@functional_transform('knn_heat_kernel')
class KNNHeatKernel(BaseTransform):
    r"""Creates the undirected heat-kernel :math:`k`-NN graph of SDCN
    (`"Structural Deep Clustering Network"
    <https://arxiv.org/abs/2002.01633>`_, Bo et al., WWW 2020) on the node
    features :obj:`data.x` (functional name: :obj:`knn_heat_kernel`):

    .. math::
        S_{ij} = \exp\left( -\frac{\| \mathbf{x}_i - \mathbf{x}_j \|_2^2}{t}
        \right)

    for every pair where :math:`j` is among the :math:`M` nearest neighbours
    of :math:`i` or vice versa. Sets :obj:`data.edge_index`,
    :obj:`data.edge_weight` and the bandwidth :obj:`data.t`; see
    :func:`~vgdcn_pyg.graph.knn_heat_kernel_graph`.

    Args:
        n_neighbors (int, optional): The number of neighbours :math:`M` of
            each node. (default: :obj:`3`)
        backend (str, optional): The :math:`k`-NN back end
            (:obj:`"auto"`, :obj:`"torch"`, :obj:`"torch_cluster"` or
            :obj:`"faiss"`). (default: :obj:`"auto"`)
        t (float, optional): The bandwidth :math:`t > 0`. If :obj:`None`, it
            is set per graph to the mean squared distance of the :math:`M`
            neighbours.
            (default: :obj:`None`)
        block_size (int, optional): Rows per block of the :obj:`"torch"`
            back end. (default: :obj:`None`)
    """
    def __init__(
        self,
        n_neighbors: int = 3,
        backend: str = 'auto',
        t: Optional[float] = None,
        block_size: Optional[int] = None,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.backend = backend
        self.t = t
        self.block_size = block_size

    def forward(self, data: Data) -> Data:
        if getattr(data, 'x', None) is None:
            raise GraphError('KNNHeatKernel needs node features data.x')

        graph = knn_heat_kernel_graph(data.x, n_neighbors=self.n_neighbors,
                                      backend=self.backend, t=self.t,
                                      block_size=self.block_size)
        data.edge_index = graph.edge_index
        data.edge_weight = graph.edge_weight
        data.t = graph.t
        # Edge features of a previous graph do not describe the new edges.
        data.edge_attr = None

        return data

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(n_neighbors={self.n_neighbors})'
