import numpy as np
import pytest
import torch

from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.evaluation import cluster_accuracy
from vgdcn_pyg.graph import knn_heat_kernel_graph, knn_search
from vgdcn_pyg.graph.query import knn_query
from vgdcn_pyg.graph.spectral import spectral_clustering


def test_spectral_clustering_separates_two_rings():
    # Two concentric rings: k-means fails, the kNN graph's spectrum does not.
    rng = np.random.default_rng(0)
    angles = rng.uniform(0, 2 * np.pi, 300)
    radius = np.repeat([1.0, 3.0], 150)
    x = np.stack([radius * np.cos(angles), radius * np.sin(angles)], 1)
    x += 0.05 * rng.standard_normal(x.shape)
    y = np.repeat([0, 1], 150)
    g = knn_heat_kernel_graph(x.astype(np.float32), n_neighbors=8)
    labels = spectral_clustering(g.edge_index, g.edge_weight, 300, 2)
    assert cluster_accuracy(y, labels) == 1.0


def test_knn_query_matches_self_search():
    torch.manual_seed(0)
    ref = torch.randn(200, 6)
    qry = ref[:20] + 1e-4  # near copies: nearest is the original row
    index, dist = knn_query(qry, ref, 4, block_size=7)
    assert torch.equal(index[:, 0], torch.arange(20))
    own, _ = knn_search(ref, 3, backend='torch')
    # the other neighbours are the originals' own neighbours
    assert (torch.sort(index[:, 1:], 1)[0] ==
            torch.sort(own[:20], 1)[0]).float().mean() > 0.95
    assert (dist[:, 1:] >= dist[:, :1]).all()


def test_knn_query_bad_input():
    with pytest.raises(GraphError, match='same number of features'):
        knn_query(torch.rand(3, 2), torch.rand(5, 3), 1)
    with pytest.raises(GraphError, match='n_neighbors=9'):
        knn_query(torch.rand(3, 2), torch.rand(5, 2), 9)
