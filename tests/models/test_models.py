import numpy as np
import pytest
import torch

from vgdcn_pyg.models import (AEKMeansModel, Batch, DECModel, IDECModel,
                              N2DModel, SDCNModel, VaDEModel, VAEKMeansModel,
                              VGDCNModel)
from vgdcn_pyg.nn import DeepAutoEncoder, target_distribution
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.training import RowBatches, WholeGraph, pretrain, train

from ..conftest import make_blobs

ALL = [AEKMeansModel, VAEKMeansModel, DECModel, IDECModel, VaDEModel,
       SDCNModel, N2DModel, VGDCNModel]
VARIATIONAL = {VAEKMeansModel, VaDEModel, VGDCNModel}


def _setup(cls, seed=0, **kwargs):
    torch.manual_seed(seed)
    x_np, y = make_blobs(seed=seed)
    x = torch.from_numpy(x_np)
    ae = DeepAutoEncoder(x.size(1), (32, 32, 64), 4,
                         variational=cls in VARIATIONAL)
    model = cls(ae, 3, **kwargs)
    pretrain(model, x, epochs=30, batch_size=32, lr=3e-3, progress=False)
    g = knn_heat_kernel_graph(x, n_neighbors=5)
    labels = model.init_clusters(model.embed(x).double().numpy(), seed,
                                 g.edge_index, g.edge_weight, x=x)
    return model, x, y, labels, g


def _batches(model, x, g, batch_size=None):
    if model.requires_graph:
        return WholeGraph(x, g.edge_index, g.edge_weight)
    return RowBatches(x, batch_size, torch.Generator().manual_seed(0))


@pytest.mark.parametrize('cls', ALL)
def test_every_model_trains_and_predicts(cls):
    model, x, y, init, g = _setup(cls)
    assert init.shape == (x.size(0), )
    ei, ew = (g.edge_index, g.edge_weight) if model.requires_graph else \
        (None, None)
    history = []
    if model.has_joint_phase:
        history = train(model, _batches(model, x, g, 32), epochs=5,
                        lr=1e-3, progress=False)
        assert len(history) == 5
        assert all(np.isfinite(h['loss']) for h in history)
    model.eval()
    with torch.no_grad():
        proba = model.predict_proba(x, ei, ew)
    assert proba.shape == (x.size(0), 3)
    assert torch.allclose(proba.sum(-1), torch.ones(x.size(0)), atol=1e-4)


@pytest.mark.parametrize('cls', [VaDEModel, VGDCNModel, SDCNModel, IDECModel])
def test_joint_loss_goes_down(cls):
    model, x, y, init, g = _setup(cls)
    history = train(model, _batches(model, x, g), epochs=30, lr=2e-3,
                    update_interval=100, progress=False)
    first = np.mean([h['loss'] for h in history[:3]])
    last = np.mean([h['loss'] for h in history[-3:]])
    assert last < first


def test_loss_terms_are_returned_separately():
    model, x, y, init, g = _setup(VGDCNModel)
    whole = Batch(x, g.edge_index, g.edge_weight)
    model.update_target(whole)
    terms = model.loss(whole)
    assert set(terms) == {'recon', 'kl', 'kl_gcn'}
    model, x, y, init, g = _setup(SDCNModel)
    whole = Batch(x, g.edge_index, g.edge_weight)
    model.update_target(whole)
    assert set(model.loss(whole)) == {'recon', 'kl_q', 'kl_gcn'}


def test_vgdcn_weighs_self_supervision_by_gcn_weight():
    # The default lambda (1000) scales KL(P || Z_G) against a negative ELBO
    # summed over the input features; the ELBO's terms are not scaled.
    model, x, y, init, g = _setup(VGDCNModel)
    assert model.gcn_weight == 1000.0
    whole = Batch(x, g.edge_index, g.edge_weight)
    model.update_target(whole)
    # On the blobs Z_G is saturated and P equals it; the softened initial
    # partition is a target it does not match.
    model.target = model.init_target
    torch.manual_seed(0)
    heavy = model.loss(whole)
    model.gcn_weight = 1.0
    torch.manual_seed(0)
    light = model.loss(whole)
    assert float(light['kl_gcn']) > 0
    assert float(heavy['kl_gcn']) == pytest.approx(
        1000 * float(light['kl_gcn']), rel=1e-4)
    assert float(heavy['recon']) == float(light['recon'])
    assert float(heavy['kl']) == float(light['kl'])


def test_vgdcn_encoder_init_starts_from_the_mixture():
    # With gcn_init="encoder" Z_G starts close to the initial clustering.
    model, x, y, init, g = _setup(VGDCNModel, init='gmm')
    model.eval()
    with torch.no_grad():
        zg = model.predict_proba(x, g.edge_index, g.edge_weight).argmax(-1)
    agreement = (zg.numpy() == init).mean()
    assert agreement > 0.9


def test_generation_shapes_and_range():
    model, x, *_ = _setup(VaDEModel)
    out = model.sample(6, 1, torch.Generator().manual_seed(0))
    assert out.shape == (6, x.size(1))
    assert (out >= 0).all() and (out <= 1).all()


def test_graph_models_need_a_graph():
    model, x, *_ = _setup(SDCNModel)
    with pytest.raises(ValueError, match='needs a graph'):
        train(model, WholeGraph(x), epochs=1, progress=False)


def test_vgdcn_spectral_init_needs_graph_and_valid_options():
    model, x, *_ = _setup(VaDEModel)
    vgdcn = VGDCNModel(model.autoencoder, 3, init='spectral')
    with pytest.raises(ValueError, match='needs the graph'):
        vgdcn.init_clusters(model.embed(x).double().numpy(), 0, x=x)
    with pytest.raises(ValueError, match='target must be one of'):
        VGDCNModel(model.autoencoder, 3, target='labels')


def test_vade_needs_variational_autoencoder():
    with pytest.raises(ValueError, match='variational'):
        VaDEModel(DeepAutoEncoder(4, (3, ), 2, variational=False), 2)


@pytest.mark.parametrize('target,posterior', [('gcn', 'graph'),
                                              ('latent', 'gmm')])
def test_vgdcn_target_from_training_pass_equals_inference(target, posterior):
    # The refresh inside loss() must give exactly what a separate inference
    # pass with the same parameters gives.
    model, x, y, init, g = _setup(VGDCNModel, target=target,
                                  posterior=posterior)
    model.eval()
    with torch.no_grad():
        zg = model.predict_proba(x, g.edge_index, g.edge_weight)
        q = model.soft_assignment(model.embed(x))
    whole = Batch(x, g.edge_index, g.edge_weight)
    model.update_target(whole)
    eager_target, eager_posterior = model.target, model._posterior
    model.target = model._posterior = None
    model.schedule_target_refresh()
    model.train()
    model.loss(whole)
    expected = target_distribution(zg if target == 'gcn' else q)
    assert torch.allclose(eager_target, expected, atol=1e-6)
    assert torch.allclose(model.target, expected, atol=1e-6)
    if posterior == 'graph':
        assert torch.allclose(model._posterior, zg, atol=1e-6)
        assert torch.allclose(eager_posterior, zg, atol=1e-6)
    # No refresh is pending now: the next loss keeps the target.
    before = model.target
    model.loss(whole)
    assert model.target is before


def test_vgdcn_refreshes_in_the_loss_on_the_whole_graph_only():
    model, x, y, init, g = _setup(VGDCNModel)
    model.update_target(Batch(x, g.edge_index, g.edge_weight))
    model.schedule_target_refresh()
    rows = torch.arange(10)
    with pytest.raises(RuntimeError, match='whole graph'):
        model.loss(Batch(x[:10], n_id=rows))
