r"""Spectral clustering of a sparse kNN graph (memory :math:`O(Nk)`)."""
import warnings
from typing import Optional

import numpy as np
import scipy.sparse as sp
from sklearn.manifold import spectral_embedding as _embed
from sklearn.mixture import GaussianMixture
from torch import Tensor


def edge_weight_array(edge_index: Tensor,
                      edge_weight: Optional[Tensor]) -> np.ndarray:
    r"""The weights of the edges :obj:`edge_index` as a float64 array, one
    per edge where :obj:`edge_weight` is :obj:`None`."""
    if edge_weight is None:
        return np.ones(edge_index.size(1))
    return edge_weight.detach().cpu().double().numpy()


def spectral_embedding(edge_index: Tensor, edge_weight: Optional[Tensor],
                       num_nodes: int, num_components: int,
                       random_state: int = 0) -> np.ndarray:
    r"""The first :obj:`num_components` eigenvectors of the normalised
    Laplacian of the (symmetric) weighted graph, computed on a sparse matrix
    with :func:`sklearn.manifold.spectral_embedding` (Ng, Jordan and Weiss,
    NIPS 2001). Never forms an :math:`N \times N` dense matrix."""
    row, col = edge_index.cpu().numpy()
    weight = edge_weight_array(edge_index, edge_weight)
    adjacency = sp.csr_matrix((weight, (row, col)),
                              shape=(num_nodes, num_nodes))
    adjacency = adjacency.maximum(adjacency.T)
    with warnings.catch_warnings():
        # A kNN graph of well separated clusters falls into pieces: then
        # the pieces' indicators are among the eigenvectors sought, which is
        # what clustering wants, not a fault to report.
        warnings.filterwarnings('ignore', 'Graph is not fully connected',
                                UserWarning)
        return _embed(adjacency, n_components=num_components,
                      random_state=random_state, drop_first=False)


def spectral_clustering(edge_index: Tensor, edge_weight: Optional[Tensor],
                        num_nodes: int, num_clusters: int,
                        random_state: int = 0) -> np.ndarray:
    r"""Clusters the nodes of a graph: spectral embedding into
    :obj:`num_clusters` dimensions, then a full-covariance Gaussian mixture
    there (whose elongated components fit the embedding of thin manifolds,
    such as slanted ones, better than k-means). Returns labels."""
    emb = spectral_embedding(edge_index, edge_weight, num_nodes,
                             num_clusters, random_state)
    gmm = GaussianMixture(num_clusters, covariance_type='full', n_init=3,
                          reg_covar=1e-6, random_state=random_state)
    return gmm.fit(emb).predict(emb)
