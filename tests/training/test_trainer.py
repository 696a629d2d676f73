import numpy as np
import pytest
import torch

from vgdcn_pyg.models import DECModel, VGDCNModel
from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.training import pretrain, seed_everything, train_joint
from vgdcn_pyg.training.trainer import autocast

from ..conftest import make_blobs


def _data():
    x, y = make_blobs()
    return torch.from_numpy(x), y


def test_pretraining_reduces_reconstruction_loss():
    seed_everything(0)
    x, _ = _data()
    model = DECModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3,
                                     variational=False,
                                     likelihood='gaussian'), 3)
    before = model.pretrain_loss(x)['recon'].item()
    history = pretrain(model, x, epochs=15, batch_size=32, lr=3e-3,
                       progress=False)
    assert len(history) == 15
    after = model.pretrain_loss(x)['recon'].item()
    assert after < 0.5 * before
    assert history[-1]['recon'] < history[0]['recon']


def test_step_decay_and_callback():
    seed_everything(0)
    x, _ = _data()
    model = DECModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3,
                                     variational=False), 3)
    pretrain(model, x, epochs=2, progress=False)
    model.init_clusters(model.embed(x).double().numpy(), 0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    seen = []
    history = train_joint(model, x, epochs=12, lr=1e-2, lr_decay=0.5,
                          decay_every=5, batch_size=40, optimizer=opt,
                          progress=False,
                          on_epoch_end=lambda e: seen.append(e) or {'e': e})
    assert seen == list(range(12))
    assert [h['e'] for h in history] == seen
    # decayed twice by 0.5 after epochs 5 and 10
    assert opt.param_groups[0]['lr'] == pytest.approx(1e-2 * 0.25)


def test_same_seed_same_training():
    def run():
        seed_everything(3)
        x, _ = _data()
        model = DECModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3,
                                         variational=False), 3)
        gen = torch.Generator().manual_seed(3)
        pretrain(model, x, epochs=3, batch_size=32, generator=gen,
                 progress=False)
        model.init_clusters(model.embed(x).double().numpy(), 3)
        train_joint(model, x, epochs=3, batch_size=32, generator=gen,
                    progress=False)
        return model.predict_proba(x).detach()
    assert torch.equal(run(), run())


def test_nan_loss_is_reported():
    x, _ = _data()
    model = DECModel(DeepAutoEncoder(x.size(1), (8, ), 2,
                                     variational=False), 3)
    model.init_clusters(model.embed(x).double().numpy(), 0)
    with torch.no_grad():
        model.assignment.cluster_centers.fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='loss became'):
        train_joint(model, x, epochs=2, batch_size=None, progress=False)


def test_warmup_only_moves_the_gcn():
    seed_everything(0)
    x, _ = _data()
    model = VGDCNModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3), 3)
    pretrain(model, x, epochs=3, progress=False)
    g = knn_heat_kernel_graph(x, k=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from vgdcn_pyg.training.trainer import warmup
    history = warmup(model, x, g.edge_index, g.edge_weight, steps=5,
                     lr=1e-3, progress=False)
    assert len(history) == 5
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith('gcn.') for k in changed)


def test_bf16_mixed_precision_trains():
    # bfloat16 matrix products, float32 statistics: the loss still goes
    # down and everything the clustering reads stays float32 and finite.
    torch.manual_seed(0)
    x_np, _ = make_blobs()
    x = torch.from_numpy(x_np)
    model = VGDCNModel(DeepAutoEncoder(x.size(1), (32, 32, 64), 4), 3)
    history = pretrain(model, x, epochs=20, batch_size=32, lr=3e-3,
                       progress=False, precision='bf16')
    assert history[-1]['recon'] < history[0]['recon']
    g = knn_heat_kernel_graph(x, k=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight)
    joint = train_joint(model, x, g.edge_index, g.edge_weight, epochs=10,
                        lr=1e-3, progress=False, warmup_steps=5,
                        precision='bf16')
    assert all(np.isfinite(h['loss']) for h in joint)
    with autocast(x.device, 'bf16'):
        enc = model.autoencoder.encode(x)
    assert enc.mu.dtype == torch.float32 and enc.logvar.dtype == torch.float32
    with pytest.raises(ValueError, match='precision'):
        autocast(x.device, 'fp16')
