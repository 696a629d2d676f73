r"""Mini-batch training of VGDCN on sampled subgraphs."""
import numpy as np
import pytest
import torch

from vgdcn_pyg import VGDCN, DeepClustering, ModelError
from vgdcn_pyg.evaluation import cluster_accuracy
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.models import Batch, VGDCNModel
from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.training import SubgraphBatches, pretrain, train
from vgdcn_pyg.training.trainer import (Objective, _optimizer_steps,
                                        denormals_flushed)

from ..conftest import MINIBATCH, TINY, make_blobs


@pytest.fixture(scope='module')
def fitted():
    x, y = make_blobs(n_per_cluster=60)
    return VGDCN(n_clusters=3, random_state=0, **MINIBATCH).fit(x, y), x, y


def test_minibatch_fit_clusters_blobs(fitted):
    est, x, y = fitted
    assert est.n_iter_ == MINIBATCH['epochs'] == len(est.history_)
    assert cluster_accuracy(y, est.labels_) > 0.95
    assert est.proba_.shape == (len(x), 3)
    losses = [h['loss'] for h in est.history_]
    assert losses[-1] < losses[0]


def test_minibatch_reaches_full_batch_quality(fitted):
    est, x, y = fitted
    full = VGDCN(n_clusters=3, random_state=0, **TINY).fit(x)
    assert abs(cluster_accuracy(y, est.labels_) -
               cluster_accuracy(y, full.labels_)) <= 0.05


def test_minibatch_same_seed_same_labels(fitted):
    est, x, y = fitted
    again = VGDCN(n_clusters=3, random_state=0, **MINIBATCH).fit(x)
    np.testing.assert_array_equal(again.labels_, est.labels_)
    np.testing.assert_allclose(again.proba_, est.proba_, rtol=0, atol=0)


def test_minibatch_predicts_new_samples(fitted):
    est, x, y = fitted
    x_new, y_new = make_blobs(n_per_cluster=5, seed=0)
    assert cluster_accuracy(y_new, est.predict(x_new)) > 0.9


def test_minibatch_save_load_round_trip(fitted, tmp_path):
    est, x, y = fitted
    est.save(tmp_path / 'model.pt')
    loaded = VGDCN.load(tmp_path / 'model.pt')
    assert loaded.batch_size_graph == est.batch_size_graph
    np.testing.assert_allclose(loaded.proba_, est.proba_, atol=1e-6)


def _initialised_model(n_per_cluster, hidden, pretrain_epochs):
    r"""A pretrained VGDCN model on three blobs, its k = 5 graph and its
    clusters initialised: the state mini-batch training starts from."""
    torch.manual_seed(0)
    x = torch.from_numpy(make_blobs(n_per_cluster=n_per_cluster)[0])
    model = VGDCNModel(DeepAutoEncoder(x.size(1), hidden, 4), 3)
    pretrain(model, x, epochs=pretrain_epochs, batch_size=32, lr=3e-3,
             progress=False)
    g = knn_heat_kernel_graph(model.embed(x), n_neighbors=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight, x=x)
    return model, x, g


def test_train_minibatch_loss_goes_down_with_sampled_neighbourhoods():
    model, x, g = _initialised_model(60, (32, 32), pretrain_epochs=20)
    batches = SubgraphBatches(x, g.edge_index, g.edge_weight,
                              num_neighbors=[3, 2], batch_size=16)
    assert batches.num_batches > 1
    history = train(model, batches, epochs=8, warmup_steps=10,
                    accumulate=True, progress=False)
    losses = [h['loss'] for h in history]
    assert len(history) == 8 and all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert {'recon', 'kl', 'kl_gcn'} <= set(history[-1])
    assert history[-1]['clusters'] == 3


@pytest.mark.parametrize('params, match', [
    (dict(batch_size_graph=0), 'batch_size_graph'),
    (dict(batch_size_graph=2.5), 'batch_size_graph'),
    (dict(batch_size_graph=16, model='sdcn'), 'vgdcn'),
    (dict(batch_size_graph=16, num_neighbors=[0]), 'num_neighbors'),
])
def test_bad_minibatch_parameters(params, match):
    x, _ = make_blobs()
    with pytest.raises(ModelError, match=match):
        DeepClustering(n_clusters=3, **dict(TINY, **params)).fit(x)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a GPU')
def test_minibatch_fit_on_cuda():
    x, y = make_blobs(n_per_cluster=60)
    est = VGDCN(n_clusters=3, random_state=0,
                **dict(MINIBATCH, device='cuda')).fit(x)
    assert est.model_.prior.mu_c.is_cuda
    assert cluster_accuracy(y, est.labels_) > 0.95


def test_denormals_are_flushed_during_training_only():
    tiny = torch.tensor([1e-39])  # a float32 denormal
    if not torch.set_flush_denormal(False):
        pytest.skip('this CPU cannot flush denormals')
    with denormals_flushed():
        assert float(tiny * 1.0) == 0.0
    assert float(tiny * 1.0) > 0.0


def test_accumulated_epoch_gradient_equals_full_batch_gradient():
    # With subgraphs that hold every seed's whole receptive field, the
    # gradient accumulated over the batches of an epoch (update='epoch') is
    # the full-batch gradient; eval mode makes both passes deterministic.
    model, x, g = _initialised_model(30, (16, 16), pretrain_epochs=5)
    model.eval()
    model.update_target(Batch(x, g.edge_index, g.edge_weight))

    model.zero_grad()
    sum(model.loss(Batch(x, g.edge_index, g.edge_weight)).values()).backward()
    full = [p.grad.clone() for p in model.parameters()]

    class NoStep:  # keeps the accumulated gradients for comparison
        def zero_grad(self):
            model.zero_grad()

        def step(self):
            pass

    batches = SubgraphBatches(x, g.edge_index, g.edge_weight, [-1] * 8,
                              batch_size=16)
    assert batches.num_batches > 1
    _optimizer_steps(Objective(model), NoStep(), batches.epoch(0),
                     batches.num_batches, True, len(x), 'fp32')
    for p, expected in zip(model.parameters(), full):
        # float32 sums in another order: allow rounding relative to the
        # tensor's scale (a wrong batch weighting is off by whole factors).
        scale = float(expected.abs().max())
        torch.testing.assert_close(p.grad, expected, rtol=1e-3,
                                   atol=1e-3 * scale + 1e-7)


def test_unknown_minibatch_update_is_refused():
    x, _ = make_blobs()
    with pytest.raises(ModelError, match='minibatch_update'):
        VGDCN(n_clusters=3, **dict(MINIBATCH, minibatch_update='step')).fit(x)
