r"""The approximate k-NN back ends, the automatic choice and recall."""
import pytest
import torch

from vgdcn_pyg.datasets import make_gaussian_mixture
from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.graph import knn_heat_kernel_graph, knn_search
from vgdcn_pyg.graph import knn as knn_module
from vgdcn_pyg.graph.knn import (APPROXIMATE_BACKENDS, APPROXIMATE_MIN_NODES,
                                 knn_recall, resolve_backend)

pytest.importorskip('faiss')


@pytest.fixture(scope='module')
def mixture():
    x, _ = make_gaussian_mixture(3000, 16, n_components=5, random_state=0)
    return torch.from_numpy(x)


@pytest.mark.parametrize('backend', APPROXIMATE_BACKENDS)
def test_approximate_recall_is_high(mixture, backend):
    index, sqdist = knn_search(mixture, 10, backend=backend)
    assert index.shape == sqdist.shape == (3000, 10)
    assert knn_recall(mixture, index, num_queries=500) >= 0.97
    # Never the sample itself, no repeated neighbour.
    assert not bool((index == torch.arange(3000)[:, None]).any())
    assert all(len(set(row)) == 10 for row in index.tolist())
    # Distances are exact and sorted, whatever the search found.
    exact = (mixture[index] - mixture[:, None]).pow(2).sum(-1)
    torch.testing.assert_close(sqdist, exact, rtol=1e-5, atol=1e-5)
    assert bool((sqdist[:, 1:] >= sqdist[:, :-1]).all())


@pytest.mark.parametrize('backend', APPROXIMATE_BACKENDS)
def test_approximate_graph_is_symmetric(mixture, backend):
    data = knn_heat_kernel_graph(mixture, n_neighbors=10, backend=backend)
    row, col = data.edge_index
    assert not bool((row == col).any())
    weight = {(i, j): w for i, j, w in zip(row.tolist(), col.tolist(),
                                           data.edge_weight.tolist())}
    assert len(weight) == row.numel()  # coalesced
    # Both directions, with bit-identical weights.
    assert all(weight[(j, i)] == w for (i, j), w in weight.items())
    assert int(torch.bincount(row, minlength=3000).min()) >= 10
    assert bool((data.edge_weight > 0).all() & (data.edge_weight <= 1).all())


@pytest.mark.parametrize('backend', APPROXIMATE_BACKENDS)
def test_approximate_with_many_duplicates(backend):
    # 40 copies each of 50 points: every neighbour list is all copies.
    base = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    x = base.repeat_interleave(40, dim=0)
    index, sqdist = knn_search(x, 5, backend=backend)
    assert not bool((index == torch.arange(2000)[:, None]).any())
    assert bool((index >= 0).all())
    assert float(sqdist.max()) == 0.0


def test_ivf_is_deterministic(mixture):
    first = knn_search(mixture, 5, backend='faiss_ivf')[0]
    second = knn_search(mixture, 5, backend='faiss_ivf')[0]
    assert torch.equal(first, second)


def test_auto_picks_approximate_search_for_large_n(monkeypatch):
    large = torch.zeros(APPROXIMATE_MIN_NODES, 64)
    assert resolve_backend('auto', large) == 'faiss_ivf'
    assert resolve_backend('auto', large[:-1]) not in APPROXIMATE_BACKENDS
    # Without faiss, exact search whatever N.
    monkeypatch.setattr(knn_module, '_is_installed',
                        lambda name: name != 'faiss')
    assert resolve_backend('auto', large) not in APPROXIMATE_BACKENDS


def test_recall_counts_true_neighbours(mixture):
    index, _ = knn_search(mixture, 10, backend='torch')
    assert knn_recall(mixture, index) == 1.0
    # Replace the 5 farthest of 10 by the 5 next ones: half are wrong.
    wider, _ = knn_search(mixture, 15, backend='torch')
    shifted = torch.cat([wider[:, :5], wider[:, 10:15]], dim=1)
    assert knn_recall(mixture, shifted) == pytest.approx(0.5)


def test_recall_counts_ties_as_found():
    # Points on a line at 0, 1, 2, ...: the neighbours of 5 at distance 1
    # are 4 and 6; any one of them is a correct 1-NN.
    x = torch.arange(10, dtype=torch.float32)[:, None]
    index = torch.tensor([[1], [0], [1], [2], [3], [6], [5], [6], [7], [8]])
    assert knn_recall(x, index, num_queries=10) == 1.0


def test_recall_bad_shape(mixture):
    with pytest.raises(GraphError, match='shape'):
        knn_recall(mixture, torch.zeros(5, 3, dtype=torch.long))


def _ivf_index(x_np, num_cells):
    import faiss
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(x_np.shape[1]),
                               x_np.shape[1], num_cells)
    index.cp.seed = 0
    index.train(x_np)
    index.add(x_np)
    return index


def test_search_breadth_is_raised_until_the_target_recall():
    from vgdcn_pyg.graph.knn import (APPROXIMATE_TARGET_RECALL,
                                     tune_search_breadth)
    # Isotropic 32-D data in 64 cells: one cell per query misses many of
    # the true neighbours, all 64 cells are exact search.
    x, _ = make_gaussian_mixture(4000, 32, n_components=2, random_state=0)
    index = _ivf_index(x, 64)
    value, recall = tune_search_breadth(index, x, 10, 20, 'nprobe', start=1,
                                        stop=64)
    assert 1 < value <= 64 and index.nprobe == value
    assert recall >= APPROXIMATE_TARGET_RECALL
    # The estimate is the recall the index then has on its samples.
    found, _ = knn_search(torch.from_numpy(x), 10, backend='faiss')
    _, approx = index.search(x[:500], 21)
    hits = [len(set(f[:10].tolist()) & set(a.tolist())) / 10
            for f, a in zip(found[:500], approx)]
    assert sum(hits) / len(hits) >= APPROXIMATE_TARGET_RECALL - 0.01


def test_search_breadth_warns_when_capped():
    from vgdcn_pyg.graph.knn import tune_search_breadth
    x, _ = make_gaussian_mixture(4000, 32, n_components=2, random_state=0)
    index = _ivf_index(x, 64)
    with pytest.warns(UserWarning, match='recall'):
        value, recall = tune_search_breadth(index, x, 10, 20, 'nprobe',
                                            start=1, stop=2)
    assert value == 2 and recall < 0.99
