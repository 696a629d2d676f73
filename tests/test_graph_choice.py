r"""graph_space='auto': both kNN graphs are built and the one whose edges the
initial partition cuts least is trained on, predicted with and saved."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from vgdcn_pyg import VGDCN, ModelError
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.phases import choose_graph

from .conftest import TINY, make_blobs


def _graph(pairs, t):
    edge_index = torch.tensor(pairs).t()
    edge_index = torch.cat([edge_index, edge_index.flip(0)], 1)
    return Data(edge_index=edge_index,
                edge_weight=torch.ones(edge_index.size(1)), t=t)


def test_the_graph_the_partition_cuts_least_is_kept():
    labels = np.array([0, 0, 0, 1, 1, 1])
    across = _graph([(0, 3), (1, 4), (2, 5), (0, 1)], t=1.0)  # 3 of 4 cut
    within = _graph([(0, 1), (1, 2), (3, 4), (4, 5)], t=2.0)  # none cut
    est = VGDCN()
    run = SimpleNamespace(graphs={'latent': across, 'input': within})
    choose_graph(est, run, labels)
    assert est.graph_space_ == 'input' and est.graph_t_ == 2.0
    assert est.graph_cut_ == {'latent': 0.75, 'input': 0.0}
    assert torch.equal(est.edge_index_, within.edge_index)
    assert run.graphs is None  # the other graph is not kept
    # A tie keeps the embedding's graph (the first built).
    run = SimpleNamespace(graphs={'latent': within, 'input': within})
    choose_graph(est, run, labels)
    assert est.graph_space_ == 'latent'
    # A fixed space builds one graph and chooses nothing.
    est = VGDCN()
    choose_graph(est, SimpleNamespace(graphs=None), labels)
    assert not hasattr(est, 'graph_cut_')


def test_auto_fit_trains_predicts_and_saves_on_the_chosen_graph(tmp_path):
    x, y = make_blobs(n_per_cluster=30)
    est = VGDCN(n_clusters=3, random_state=0, graph_space='auto',
                **dict(TINY, epochs=3)).fit(x)
    space = est.graph_space_
    assert set(est.graph_cut_) == {'input', 'latent'}
    assert est.graph_cut_[space] == min(est.graph_cut_.values())
    if space == 'input':  # the graph in use is that space's kNN graph
        expected = knn_heat_kernel_graph(torch.from_numpy(x), n_neighbors=5)
        assert torch.equal(est.edge_index_, expected.edge_index)
    else:
        assert est.graph_cut_['latent'] <= est.graph_cut_['input']
    path = tmp_path / 'model.pt'
    est.save(path)
    loaded = VGDCN.load(path)
    assert loaded.graph_space_ == space
    np.testing.assert_allclose(loaded.predict_proba(x[:7]),
                               est.predict_proba(x[:7]), atol=1e-6)
    # A file from before graph_space_ was saved: VGDCN's graph then was
    # the embedding's, whatever the parameter now defaults to.
    state = torch.load(path, weights_only=False)
    del state['graph_space']
    torch.save(state, tmp_path / 'older.pt')
    assert VGDCN.load(tmp_path / 'older.pt').graph_space_ == 'latent'
    fixed = VGDCN(n_clusters=3, random_state=0, graph_space='input',
                  **dict(TINY, epochs=3)).fit(x)
    assert fixed.graph_space_ == 'input' and not hasattr(fixed, 'graph_cut_')
    with pytest.raises(ModelError, match="'input', 'latent' or 'auto'"):
        VGDCN(n_clusters=3, graph_space='both', **TINY).fit(x)


def test_default_neighbours_are_at_most_half_the_mean_cluster_size(
        tmp_path):
    # With clusters of about N / K samples, M = 10 neighbours cannot lie
    # mostly in a sample's own cluster once N / K is under 20: the default
    # M is capped at floor(N / 2K), a given n_neighbors is kept as given.
    est = VGDCN(n_clusters=20)
    assert est.graph_settings(200)[0] == 5       # 10 samples a cluster
    assert est.graph_settings(1440)[0] == 10     # COIL-20: unchanged
    assert est.graph_settings(30)[0] == 1        # never below one
    assert est.graph_settings()[0] == 10         # no data: the default
    assert VGDCN(n_clusters=20, n_neighbors=8).graph_settings(200)[0] == 8
    # A fit on 8 samples of each of 6 clusters builds its graph, predicts
    # and saves with M = 4.
    x, _ = make_blobs(n_per_cluster=8, n_clusters=6)
    params = dict(TINY, epochs=3, graph_space='input')
    params.pop('n_neighbors')
    est = VGDCN(n_clusters=6, random_state=0, **params).fit(x)
    assert est.n_neighbors_ == 4
    expected = knn_heat_kernel_graph(torch.from_numpy(x), n_neighbors=4)
    assert torch.equal(est.edge_index_, expected.edge_index)
    path = tmp_path / 'model.pt'
    est.save(path)
    loaded = VGDCN.load(path)
    assert loaded.n_neighbors_ == 4
    np.testing.assert_allclose(loaded.predict_proba(x[:5]),
                               est.predict_proba(x[:5]), atol=1e-6)
    # A file from before n_neighbors_ was saved: those versions used the
    # default M whatever the data's size.
    state = torch.load(path, weights_only=False)
    del state['n_neighbors']
    torch.save(state, tmp_path / 'older.pt')
    assert VGDCN.load(tmp_path / 'older.pt').n_neighbors_ == 10
