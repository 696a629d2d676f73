r"""VGDCN on sampled subgraphs: the loss of the seeds and the target
refreshed by a batched inference pass."""
import pytest
import torch

from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.graph.sampling import (neighbor_loader, normalized_graph,
                                      subgraph_adjacency)
from vgdcn_pyg.models import Batch, VGDCNModel
from vgdcn_pyg.nn import DeepAutoEncoder, FusedGCN

from ..conftest import make_blobs


def _model(**kwargs):
    # These tests compare ways of computing the same thing; the spectral
    # start keeps the logits as moderate as the tolerances assume (from the
    # sharper UMAP start, batched and full-batch Z_G differ by 3e-5).
    kwargs.setdefault('init', 'spectral')
    torch.manual_seed(0)
    x = torch.from_numpy(make_blobs()[0])
    model = VGDCNModel(DeepAutoEncoder(x.size(1), (16, 16), 4), 3, **kwargs)
    g = knn_heat_kernel_graph(x, n_neighbors=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight, x=x)
    adj_t = FusedGCN.normalized_adjacency(g.edge_index, g.edge_weight,
                                          x.size(0))
    return model, x, g, adj_t


@pytest.mark.parametrize('posterior', ['graph', 'gmm'])
def test_subgraph_loss_on_the_whole_graph_is_the_loss(posterior):
    model, x, g, adj_t = _model(posterior=posterior)
    model.eval()  # z = mu: no sampling noise between the two calls
    whole = Batch(x, g.edge_index, g.edge_weight)
    model.update_target(whole)
    full = model.loss(whole)
    # The whole graph as a subgraph: every node a seed, by its global id.
    as_subgraph = Batch(x, adj_t, None, torch.arange(x.size(0)), x.size(0))
    sub = model.loss(as_subgraph)
    assert full.keys() == sub.keys()
    for key in full:
        torch.testing.assert_close(sub[key], full[key])
    warm = model.warmup_loss(whole)
    sub_warm = model.warmup_loss(as_subgraph)
    torch.testing.assert_close(sub_warm['kl_init'], warm['kl_init'])


def test_subgraph_loss_reads_the_seed_rows_of_the_target():
    model, x, g, _ = _model()
    model.eval()
    model.update_target(Batch(x, g.edge_index, g.edge_weight))
    graph = normalized_graph(g.edge_index, g.edge_weight, x.size(0), x=x)
    batch = next(iter(neighbor_loader(graph, [-1], 10)))
    adj = subgraph_adjacency(batch)
    seeds = batch.n_id[:batch.batch_size]
    others = batch.n_id[batch.batch_size:]
    sub = Batch(batch.x, adj, None, batch.n_id, batch.batch_size)
    before = model.loss(sub)
    # Target rows of non-seed nodes play no part...
    model.target[others] = torch.roll(model.target[others], 1, dims=1)
    model._posterior[others] = torch.roll(model._posterior[others], 1, 1)
    after = model.loss(sub)
    for key in before:
        torch.testing.assert_close(after[key], before[key])
    # ...those of the seeds, found by their global ids, do.
    model.target[seeds] = torch.roll(model.target[seeds], 1, dims=1)
    moved = model.loss(sub)
    assert float(moved['kl_gcn']) > float(before['kl_gcn']) + 1e-3


@pytest.mark.parametrize('target', ['gcn', 'latent'])
def test_batched_target_refresh_equals_full_batch(target):
    model, x, g, adj_t = _model(target=target)
    model.eval()
    model.update_target(Batch(x, g.edge_index, g.edge_weight))
    full_target, full_posterior = model.target, model._posterior
    rows = []
    hook = model.autoencoder.encoder[0].register_forward_hook(
        lambda mod, inp, out: rows.append(inp[0].size(0)))
    model.update_target(Batch(x, adj_t), inference_batch_size=16)
    hook.remove()
    # Batches of at most 16 rows, covering all rows in each pass (one for
    # Z_G, one more for the latent means of target="latent").
    passes = 1 if target == 'gcn' else 2
    assert max(rows) == 16 and sum(rows) == passes * x.size(0)
    torch.testing.assert_close(model.target, full_target)
    torch.testing.assert_close(model._posterior, full_posterior)
    torch.testing.assert_close(
        model.predict_proba(x, adj_t, None, 16),
        model.predict_proba(x, g.edge_index, g.edge_weight))


def test_fitting_the_cluster_layer_copies_the_initial_partition():
    model, x, g, _ = _model()
    model.eval()
    whole = Batch(x, g.edge_index, g.edge_weight)
    # A last layer that does not copy the partition: a fresh random one.
    torch.manual_seed(1)
    model.gcn.cluster_conv.reset_parameters()
    partition = model.init_target.argmax(-1)

    def agreement():
        with torch.no_grad():
            return (model.log_zg(whole).argmax(-1) == partition).float().mean()

    assert agreement() < 0.9
    before = model.warmup_loss(whole)['kl_init']
    others = {k: v.clone() for k, v in model.state_dict().items()
              if not k.startswith('gcn.cluster_conv.')}
    assert model.fit_cluster_layer(whole)
    assert model.warmup_loss(whole)['kl_init'] < before
    assert agreement() > 0.95
    # only the last layer moved
    for k, v in model.state_dict().items():
        if k in others:
            torch.testing.assert_close(v, others[k], rtol=0, atol=0)


def test_a_cluster_layer_that_copies_the_partition_is_kept():
    model, x, g, _ = _model()
    whole = Batch(x, g.edge_index, g.edge_weight)
    with torch.no_grad():
        labels = model.log_zg(whole).argmax(-1)
    # the partition is what the layer already computes
    model.init_target = 0.9 * torch.nn.functional.one_hot(labels, 3) + 0.1 / 3
    state = {k: v.clone() for k, v in model.state_dict().items()}
    assert not model.fit_cluster_layer(whole)
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, state[k], rtol=0, atol=0)


def test_fitting_the_cluster_layer_keeps_a_small_cluster():
    # A partition with a cluster of three samples (as a consensus start can
    # make on small data with many clusters): each cluster counts alike in
    # the fit, so the copy keeps the small one instead of dropping it.
    torch.manual_seed(0)
    x = torch.from_numpy(make_blobs()[0])
    model = VGDCNModel(DeepAutoEncoder(x.size(1), (16, 16), 4), 4,
                       init='spectral')
    g = knn_heat_kernel_graph(x, n_neighbors=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight, x=x)
    model.eval()
    whole = Batch(x, g.edge_index, g.edge_weight)
    with torch.no_grad():
        enc = model.autoencoder.encode(x)
        features = model.gcn.cluster_features(x, g.edge_index, g.edge_weight,
                                              enc.hidden + [enc.mu])
    truth = torch.as_tensor(make_blobs()[1])
    # the three samples of blob 0 farthest out along its widest direction
    rows = (truth == 0).nonzero().squeeze(1)
    centred = features[rows] - features[rows].mean(0)
    direction = torch.linalg.svd(centred, full_matrices=False)[2][0]
    small = rows[(centred @ direction).argsort()[-3:]]
    partition = truth.clone()
    partition[small] = 3
    model.init_target = 0.9 * torch.nn.functional.one_hot(partition, 4) \
        + 0.1 / 4
    torch.manual_seed(1)
    model.gcn.cluster_conv.reset_parameters()
    assert model.fit_cluster_layer(whole)
    with torch.no_grad():
        labels = model.log_zg(whole).argmax(-1)
    assert labels.unique().numel() == 4
    assert (labels[small] == 3).sum() >= 2
    # (with equal weights the layer used three clusters; weighted, a few
    # samples of the big ones join the small one)
    assert (labels == partition).float().mean() > 0.85
