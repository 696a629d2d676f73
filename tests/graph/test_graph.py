import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.graph import (
    KNNHeatKernel,
    available_backends,
    default_bandwidth,
    edge_error_rate,
    graph_stats,
    knn_heat_kernel_graph,
    knn_search,
    pair_sqdist,
)


@pytest.fixture(params=['torch', 'torch_cluster', 'faiss'])
def backend(request):
    r"""Every k-NN back end; the optional ones are skipped if missing."""
    if request.param != 'torch':
        pytest.importorskip(request.param)
    return request.param


def edge_set(edge_index):
    return set(map(tuple, edge_index.t().tolist()))


def check_graph(data, k):
    num_nodes = data.num_nodes
    edges = edge_set(data.edge_index)
    # Coalesced: no duplicate edges.
    assert len(edges) == data.edge_index.size(1)
    # Undirected and without self-loops.
    assert all((j, i) in edges for i, j in edges)
    assert all(i != j for i, j in edges)
    # Union of both kNN directions: every node keeps its k neighbours.
    deg = torch.bincount(data.edge_index[0], minlength=num_nodes)
    assert int(deg.min()) >= k
    w = data.edge_weight
    assert w.dtype == torch.float32
    assert w.shape == (data.edge_index.size(1), )
    assert bool((w > 0).all()) and bool((w <= 1).all())


# Known answers ###############################################################


def test_knn_1d_known_answer(backend):
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    index, sqdist = knn_search(x, n_neighbors=1, backend=backend)
    assert index.tolist() == [[1], [0], [1], [2]]
    assert sqdist.tolist() == [[1.0], [1.0], [4.0], [16.0]]

    index, sqdist = knn_search(x, n_neighbors=2, backend=backend)
    assert index.tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]
    assert sqdist.tolist() == [[1.0, 9.0], [1.0, 4.0], [4.0, 9.0],
                               [16.0, 36.0]]


def test_graph_1d_known_answer():
    x = np.array([[0.0], [1.0], [3.0], [7.0]], dtype=np.float32)
    data = knn_heat_kernel_graph(x, n_neighbors=1, backend='torch')
    assert edge_set(data.edge_index) == {(0, 1), (1, 0), (1, 2), (2, 1),
                                         (2, 3), (3, 2)}
    # t is the mean of the kNN squared distances 1, 1, 4, 16.
    assert data.t == pytest.approx(5.5)
    weights = dict(zip(map(tuple, data.edge_index.t().tolist()),
                       data.edge_weight.tolist()))
    assert weights[(0, 1)] == pytest.approx(math.exp(-1 / 5.5), rel=1e-6)
    assert weights[(2, 1)] == pytest.approx(math.exp(-4 / 5.5), rel=1e-6)
    assert weights[(3, 2)] == pytest.approx(math.exp(-16 / 5.5), rel=1e-6)


def test_duplicates_are_neighbours():
    # Three copies of one point: each must find the other two, not itself.
    x = torch.tensor([[1.0, 1.0]] * 3 + [[5.0, 5.0], [9.0, 9.0]])
    for backend in available_backends():
        index, sqdist = knn_search(x, n_neighbors=2, backend=backend)
        for i in range(3):
            assert set(index[i].tolist()) == {0, 1, 2} - {i}, backend
            assert sqdist[i].tolist() == [0.0, 0.0]
        assert not bool((index == torch.arange(5).view(-1, 1)).any())


def test_many_duplicates(backend):
    # More copies than k + 1: a search for k + 1 hits can miss the point
    # itself, which must not leave it with k + 1 (or itself as) neighbours.
    x = torch.cat([torch.zeros(12, 3), torch.ones(3, 3)])
    index, sqdist = knn_search(x, 2, backend=backend)
    assert index.shape == (15, 2)
    assert not bool((index == torch.arange(15).view(-1, 1)).any())
    assert bool((sqdist == 0).all())
    assert bool((index[:12] < 12).all()) and bool((index[12:] >= 12).all())
    data = knn_heat_kernel_graph(x, 2, backend=backend)
    check_graph(data, 2)


def test_all_duplicates_bandwidth_is_one():
    data = knn_heat_kernel_graph(torch.ones(4, 3), n_neighbors=2,
                                 backend='torch')
    assert data.t == 1.0
    assert bool((data.edge_weight == 1.0).all())
    assert default_bandwidth(torch.zeros(4, 2)) == 1.0


# Back ends agree #############################################################


@pytest.mark.parametrize('dim', [3, 20])
def test_backends_agree(backend, dim):
    gen = torch.Generator().manual_seed(dim)
    x = torch.randn(500, dim, generator=gen)
    k = 5
    ref_index, ref_sqdist = knn_search(x, k, backend='torch')
    index, sqdist = knn_search(x, k, backend=backend)
    assert index.shape == (500, k) and index.dtype == torch.long
    assert [set(r) for r in index.tolist()] == \
        [set(r) for r in ref_index.tolist()]
    assert torch.allclose(sqdist, ref_sqdist)
    # Sorted nearest first, self excluded, distances match the definition.
    assert bool((sqdist[:, 1:] >= sqdist[:, :-1]).all())
    assert not bool((index == torch.arange(500).view(-1, 1)).any())
    exact = (x.unsqueeze(1) - x[index]).pow(2).sum(-1)
    assert torch.allclose(sqdist, exact)


def test_blocked_equals_unblocked():
    x = torch.randn(97, 4, generator=torch.Generator().manual_seed(0))
    full = knn_search(x, 4, backend='torch', block_size=97)
    for block_size in (1, 7, 32):
        blocked = knn_search(x, 4, backend='torch', block_size=block_size)
        assert torch.equal(blocked[0], full[0])
        assert torch.equal(blocked[1], full[1])


def test_auto_backend_runs():
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(1))
    index, _ = knn_search(x, 3)
    ref, _ = knn_search(x, 3, backend='torch')
    assert [set(r) for r in index.tolist()] == [set(r) for r in ref.tolist()]


@pytest.mark.parametrize('name, hint', [
    ('faiss', 'pip install faiss-cpu'),
    ('torch_cluster', 'pip install --no-build-isolation torch-cluster'),
])
def test_missing_backend_hint(monkeypatch, name, hint):
    # Simulate an environment without the optional package.
    import importlib
    real_import_module = importlib.import_module

    def fake_import_module(module, *args, **kwargs):
        if module == name:
            raise ImportError(f'No module named {name}')
        return real_import_module(module, *args, **kwargs)

    monkeypatch.setattr(importlib, 'import_module', fake_import_module)
    with pytest.raises(ImportError, match=hint):
        knn_search(torch.randn(10, 2), 2, backend=name)


# Heat-kernel graph ###########################################################


def test_graph_properties(backend):
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(300, 8, generator=gen)
    y = torch.randint(0, 3, (300, ), generator=gen)
    data = knn_heat_kernel_graph(x, n_neighbors=5, backend=backend, y=y)
    assert isinstance(data, Data)
    assert torch.equal(data.x, x) and torch.equal(data.y, y)
    check_graph(data, 5)

    index, sqdist = knn_search(x, 5, backend='torch')
    assert data.t == pytest.approx(float(sqdist.mean()), rel=1e-6)
    # The weight formula on a few edges.
    for e in (0, 17, 123, data.num_edges - 1):
        i, j = data.edge_index[:, e].tolist()
        d2 = float((x[i] - x[j]).pow(2).sum())
        assert float(data.edge_weight[e]) == pytest.approx(
            math.exp(-d2 / data.t), rel=1e-5)
    # The edge set is exactly the union of both kNN directions.
    knn_pairs = {(i, j) for i, row in enumerate(index.tolist()) for j in row}
    union = knn_pairs | {(j, i) for i, j in knn_pairs}
    assert edge_set(data.edge_index) == union


def test_graph_fixed_bandwidth_and_numpy_input():
    x = np.random.default_rng(0).normal(size=(40, 3))
    data = knn_heat_kernel_graph(x, n_neighbors=3, backend='torch', t=2.0)
    assert data.t == 2.0
    assert data.x.dtype == torch.float64
    assert data.edge_weight.dtype == torch.float32
    assert not hasattr(data, 'y') or data.y is None
    i, j = data.edge_index[:, 0].tolist()
    d2 = float(((x[i] - x[j])**2).sum())
    assert float(data.edge_weight[0]) == pytest.approx(math.exp(-d2 / 2.0),
                                                       rel=1e-6)


def test_list_and_strided_input():
    rows = [[0.0], [1.0], [3.0], [7.0]]
    index, _ = knn_search(rows, 1, backend='torch')
    assert index.tolist() == [[1], [0], [1], [2]]
    index, _ = knn_search(np.array(rows)[::-1], 1, backend='torch')
    assert index.tolist() == [[1], [2], [3], [2]]


def test_edge_error_rate_hand_made():
    # Path 0-1-2-3 given in both directions plus a self-loop that is ignored;
    # labels 0, 0, 1, 1: only {1, 2} joins two classes -> 1/3.
    edge_index = torch.tensor([[0, 1, 1, 2, 2, 3, 3],
                               [1, 0, 2, 1, 3, 2, 3]])
    y = torch.tensor([0, 0, 1, 1])
    assert edge_error_rate(edge_index, y) == pytest.approx(1 / 3)
    # One direction only counts the same.
    assert edge_error_rate(edge_index[:, ::2], y) == pytest.approx(1 / 3)
    assert edge_error_rate(torch.tensor([[0], [2]]), [5, 5, 6, 6]) == 1.0
    with pytest.raises(GraphError):
        edge_error_rate(torch.tensor([[0], [0]]), y)
    with pytest.raises(GraphError):
        edge_error_rate(torch.tensor([[0], [9]]), y)


def test_graph_stats():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    data = knn_heat_kernel_graph(x, n_neighbors=1, backend='torch',
                                 y=[0, 0, 1, 1])
    stats = graph_stats(data)
    assert stats == {
        'n_nodes': 4,
        'n_edges': 3,
        'mean_degree': 1.5,
        'min_degree': 1,
        'max_degree': 2,
        't': pytest.approx(5.5),
        'edge_error_rate': pytest.approx(1 / 3),
    }


def test_transform():
    gen = torch.Generator().manual_seed(3)
    data = Data(x=torch.randn(60, 4, generator=gen), edge_attr=torch.ones(2))
    transform = KNNHeatKernel(n_neighbors=4, backend='torch')
    assert repr(transform) == 'KNNHeatKernel(n_neighbors=4)'
    out = transform(data)
    assert 'edge_index' not in data  # The input is left untouched.
    assert out.edge_attr is None
    check_graph(out, 4)
    ref = knn_heat_kernel_graph(data.x, n_neighbors=4, backend='torch')
    assert torch.equal(out.edge_index, ref.edge_index)
    assert torch.equal(out.edge_weight, ref.edge_weight)
    assert out.t == ref.t
    with pytest.raises(GraphError, match='data.x'):
        transform(Data(pos=torch.randn(5, 2)))


def test_pair_sqdist_gives_the_distances_of_knn_search():
    x = torch.randn(300, 7, generator=torch.Generator().manual_seed(3))
    index, sqdist = knn_search(x, 6, backend='torch')
    # Neighbour lists from elsewhere (here reversed) get the same distances,
    # in any block size, from numpy input too.
    flipped = index.flip(1)
    for block_size in (None, 1, 7):
        got = pair_sqdist(x, flipped, block_size=block_size)
        assert torch.equal(got, sqdist.flip(1))
    assert torch.equal(pair_sqdist(x.numpy(), index), sqdist)
    # d(i, j) == d(j, i) bit for bit: pair every i with 299 - i.
    partner = torch.arange(299, -1, -1)
    dist = pair_sqdist(x, partner[:, None])[:, 0]
    assert torch.equal(dist, dist[partner])
    with pytest.raises(GraphError, match=r'shape \(N, M\)'):
        pair_sqdist(x, index[:10])


# Bad input ###################################################################


@pytest.mark.parametrize('x, n_neighbors, match', [
    (torch.randn(8, 2), 10, r'n_neighbors=10 must be smaller than the '
     r'number of '
     r'samples \(8\)'),
    (torch.randn(8, 2), 8, 'smaller than the number of samples'),
    (torch.randn(8, 2), 0, 'n_neighbors=0 must be at least 1'),
    (torch.randn(8, 2), 2.5, 'must be an integer'),
    (torch.randn(5), 1, r'x must be 2-D \(N, D\), got shape \(5,\)'),
    (torch.randn(2, 3, 4), 1, 'must be 2-D'),
    (torch.tensor([[0.0, float('nan')], [1.0, float('inf')], [float('nan'),
                                                              2.0]]), 1,
     'x contains 3 NaN/inf values'),
])
def test_bad_input_raises(x, n_neighbors, match):
    with pytest.raises(GraphError, match=match):
        knn_search(x, n_neighbors)
    with pytest.raises(GraphError, match=match):
        knn_heat_kernel_graph(x, n_neighbors)


def test_bad_options_raise():
    x = torch.randn(10, 2)
    with pytest.raises(GraphError, match='Unknown k-NN backend'):
        knn_search(x, 2, backend='annoy')
    with pytest.raises(GraphError, match='block_size'):
        knn_search(x, 2, backend='torch', block_size=0)
    for t in (0.0, -1.0, float('nan')):
        with pytest.raises(GraphError, match='> 0'):
            knn_heat_kernel_graph(x, 2, t=t)
    with pytest.raises(GraphError, match='ragged'):
        knn_search([[1.0, 2.0], [3.0]], 1)
    with pytest.raises(GraphError, match='real numbers'):
        knn_search(np.array([['a', 'b'], ['c', 'd']]), 1)
    with pytest.raises(GraphError, match='one label per sample'):
        knn_heat_kernel_graph(x, 2, y=[0, 1])
    assert issubclass(GraphError, ValueError)


# Properties ##################################################################


@st.composite
def samples(draw, max_n=25, max_dim=4):
    n = draw(st.integers(2, max_n))
    dim = draw(st.integers(1, max_dim))
    # Small integer grids give many exact ties and duplicates on purpose.
    values = draw(st.lists(st.integers(-3, 3), min_size=n * dim,
                           max_size=n * dim))
    k = draw(st.integers(1, n - 1))
    return torch.tensor(values, dtype=torch.float32).view(n, dim), k


@settings(max_examples=30, deadline=None)
@given(samples())
def test_property_graph(sample):
    x, k = sample
    data = knn_heat_kernel_graph(x, n_neighbors=k, backend='torch')
    check_graph(data, k)


@settings(max_examples=30, deadline=None)
@given(samples(), st.integers(1, 8))
def test_property_blocked_equals_unblocked(sample, block_size):
    x, k = sample
    index, sqdist = knn_search(x, k, backend='torch', block_size=block_size)
    ref_index, ref_sqdist = knn_search(x, k, backend='torch')
    # With ties the chosen neighbours may differ, the distances may not.
    assert torch.equal(sqdist, ref_sqdist)
    assert not bool((index == torch.arange(x.size(0)).view(-1, 1)).any())
    assert torch.equal((x.unsqueeze(1) - x[index]).pow(2).sum(-1), sqdist)


@settings(max_examples=30, deadline=None)
@given(samples(max_n=20, max_dim=3))
def test_property_backends_same_distances(sample):
    x, k = sample
    _, ref = knn_search(x, k, backend='torch')
    for backend in available_backends():
        index, sqdist = knn_search(x, k, backend=backend)
        assert torch.equal(sqdist, ref), backend
        assert not bool((index == torch.arange(x.size(0)).view(-1, 1)).any())


@settings(max_examples=30, deadline=None)
@given(samples())
def test_property_neighbours_and_weights(sample):
    # Tie-proof kNN property: the k nearest graph neighbours of every node
    # are as near as its k nearest samples; weights are symmetric heat-kernel
    # values of the edge lengths.
    x, k = sample
    data = knn_heat_kernel_graph(x, n_neighbors=k, backend='torch')
    sqdist = (x.unsqueeze(1) - x.unsqueeze(0)).pow(2).sum(-1).double()
    src, dst = data.edge_index
    for i in range(x.size(0)):
        others = torch.cat([sqdist[i, :i], sqdist[i, i + 1:]])
        nearest = others.sort().values[:k]
        in_graph = sqdist[i, dst[src == i]].sort().values[:k]
        assert torch.equal(in_graph, nearest)
    t = float(data.t)
    assert math.isfinite(t) and t > 0
    expected = torch.exp(-sqdist[src, dst] / t).float().clamp_min(
        torch.finfo(torch.float32).tiny)
    assert torch.allclose(data.edge_weight, expected, rtol=1e-6, atol=0)
    weight = {(int(i), int(j)): float(w)
              for i, j, w in zip(src, dst, data.edge_weight)}
    assert all(weight[(j, i)] == w for (i, j), w in weight.items())
