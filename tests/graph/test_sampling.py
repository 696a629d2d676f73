r"""Sampled induced subgraphs with the full graph's GCN normalisation."""
import pytest
import torch
from torch_geometric.utils import subgraph

from vgdcn_pyg.datasets import make_gaussian_mixture
from vgdcn_pyg.exceptions import GraphError
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.graph.sampling import (InducedKHopSampler, check_num_neighbors,
                                      neighbor_loader, normalized_graph,
                                      subgraph_adjacency, subgraph_row_scale)
from vgdcn_pyg.nn import FusedGCN


@pytest.fixture(scope='module')
def graph():
    x, _ = make_gaussian_mixture(400, 6, n_components=4, random_state=0)
    data = knn_heat_kernel_graph(x, n_neighbors=5, backend='torch')
    return normalized_graph(data.edge_index, data.edge_weight, 400, x=data.x)


def full_adjacency(data):
    # Â of the whole graph, as the full-batch GCN computes it.
    raw = knn_heat_kernel_graph(data.x, n_neighbors=5, backend='torch')
    return FusedGCN.normalized_adjacency(raw.edge_index, raw.edge_weight,
                                         data.num_nodes).to_dense()


def loader(data, num_neighbors, batch_size=50, seed=0):
    return neighbor_loader(data, num_neighbors, batch_size, shuffle=True,
                           generator=torch.Generator().manual_seed(seed))


def test_normalized_graph_keeps_full_graph_weights(graph):
    dense = torch.zeros(400, 400)
    dense[graph.edge_index[1], graph.edge_index[0]] = graph.edge_weight
    dense[torch.arange(400), torch.arange(400)] = graph.self_weight
    torch.testing.assert_close(dense, full_adjacency(graph))


@pytest.mark.parametrize('num_neighbors', [[-1], [3], [-1, 2], [2, 2, 2]])
def test_batches_are_induced_subgraphs(graph, num_neighbors):
    dense = full_adjacency(graph)
    seen = []
    for batch in loader(graph, num_neighbors):
        n_id, size = batch.n_id, batch.batch_size
        assert n_id.unique().numel() == n_id.numel()
        assert sum(batch.num_sampled_nodes) == n_id.numel()
        seen.append(n_id[:size])
        # Every edge of the full graph between sampled nodes, no other.
        expected, _ = subgraph(n_id, graph.edge_index, relabel_nodes=True,
                               num_nodes=400)
        assert sorted(map(tuple, batch.edge_index.t().tolist())) == \
            sorted(map(tuple, expected.t().tolist()))
        # Weights and self-loops of the full graph's Â.
        adj = subgraph_adjacency(batch).to_dense()
        torch.testing.assert_close(adj, dense[n_id][:, n_id])
        torch.testing.assert_close(batch.x, graph.x[n_id])
    # Each node is a seed exactly once per epoch.
    assert torch.equal(torch.cat(seen).sort().values, torch.arange(400))


def test_first_hop_all_neighbours_gives_complete_seed_rows(graph):
    dense = full_adjacency(graph)
    for batch in loader(graph, [-1]):
        adj = subgraph_adjacency(batch).to_dense()
        seeds = batch.n_id[:batch.batch_size]
        # A seed's row of Â lies entirely inside the subgraph.
        torch.testing.assert_close(adj[:batch.batch_size].sum(1),
                                   dense[seeds].sum(1))


def test_fanout_limits_sampled_neighbours(graph):
    sampler = InducedKHopSampler(graph, [2])
    from torch_geometric.sampler import NodeSamplerInput
    out = sampler.sample_from_nodes(NodeSamplerInput(None, torch.tensor([7])))
    assert out.node[0] == 7 and len(out.node) == 3
    neighbours = set(graph.edge_index[0, graph.edge_index[1] == 7].tolist())
    assert set(out.node[1:].tolist()) <= neighbours
    # Without replacement and uniform: over many draws all get picked.
    sampler = InducedKHopSampler(graph, [1],
                                 torch.Generator().manual_seed(0))
    picked = {int(sampler.sample_from_nodes(NodeSamplerInput(
        None, torch.tensor([7]))).node[1]) for _ in range(200)}
    assert picked == neighbours


def test_same_seed_same_batches(graph):
    first = [b.n_id for b in loader(graph, [3, 3], seed=1)]
    second = [b.n_id for b in loader(graph, [3, 3], seed=1)]
    other = [b.n_id for b in loader(graph, [3, 3], seed=2)]
    assert all(torch.equal(a, b) for a, b in zip(first, second))
    assert not all(a.numel() == b.numel() and torch.equal(a, b)
                   for a, b in zip(first, other))


def test_duplicate_seeds_refused(graph):
    from torch_geometric.sampler import NodeSamplerInput
    sampler = InducedKHopSampler(graph, [2])
    with pytest.raises(GraphError, match='distinct'):
        sampler.sample_from_nodes(NodeSamplerInput(None, torch.tensor([1, 1])))


@pytest.mark.parametrize('bad', [[], [0], [-2], ['a'], None])
def test_bad_num_neighbors(bad):
    with pytest.raises(GraphError, match='num_neighbors'):
        check_num_neighbors(bad)


def test_bad_batch_size(graph):
    with pytest.raises(GraphError, match='batch_size'):
        neighbor_loader(graph, [-1], 0)


def test_row_scale_restores_each_rows_full_mass(graph):
    dense = full_adjacency(graph)
    for batch in loader(graph, [-1]):
        adj = subgraph_adjacency(batch).to_dense()
        scale = subgraph_row_scale(batch)
        seeds = batch.n_id[:batch.batch_size]
        # Seeds have all their neighbours: no scaling.
        torch.testing.assert_close(scale[:batch.batch_size],
                                   torch.ones(batch.batch_size))
        # Border nodes miss some: scaled, every row has its full mass.
        assert (scale[batch.batch_size:] > 1).any()
        torch.testing.assert_close(adj.sum(1) * scale,
                                   dense[batch.n_id].sum(1))
        assert seeds.numel() == batch.batch_size


def test_row_scale_brings_seed_outputs_closer_to_full_graph(graph):
    # The seeds' GCN output on a one-hop subgraph deviates from the full
    # graph's because border nodes aggregate too little; the row scale
    # removes most of that deviation.
    torch.manual_seed(0)
    gcn = FusedGCN(6, (16, 16), 4, num_clusters=4, eps=0.5)
    x = graph.x
    hidden = [torch.rand(400, w) for w in (16, 16, 4)]
    full = gcn(x, torch.sparse_csr_tensor(
        *_csr(full_adjacency(graph))), None, hidden).exp()
    plain, scaled = [], []
    for batch in loader(graph, [-1]):
        adj = subgraph_adjacency(batch)
        n, sub_hidden = batch.batch_size, [h[batch.n_id] for h in hidden]
        expected = full[batch.n_id[:n]]
        for out, scale in ((plain, None), (scaled, subgraph_row_scale(batch))):
            got = gcn(batch.x, adj, None, sub_hidden, scale).exp()[:n]
            out.append((got - expected).abs().mean())
    assert torch.stack(scaled).mean() < 0.5 * torch.stack(plain).mean()


def _csr(dense):
    csr = dense.to_sparse_csr()
    return csr.crow_indices(), csr.col_indices(), csr.values(), dense.shape
