import numpy as np
import pytest
import torch

from vgdcn_pyg import VGDCN
from vgdcn_pyg.models import DECModel, VGDCNModel
from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.training import (RowBatches, WholeGraph, pretrain,
                                seed_everything, train)
from vgdcn_pyg.training import trainer
from vgdcn_pyg.training.trainer import (autocast, make_adam,
                                       resolve_precision, warmup)

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
    model.init_clusters(model.embed(x).double().numpy(), 0, x=x)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    seen = []
    history = train(model, RowBatches(x, 40, torch.Generator()), epochs=12,
                    lr=1e-2, lr_decay=0.5, decay_every=5, optimizer=opt,
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
        model.init_clusters(model.embed(x).double().numpy(), 3, x=x)
        train(model, RowBatches(x, 32, gen), epochs=3, progress=False)
        return model.predict_proba(x).detach()
    assert torch.equal(run(), run())


def test_nan_loss_is_reported():
    x, _ = _data()
    model = DECModel(DeepAutoEncoder(x.size(1), (8, ), 2,
                                     variational=False), 3)
    model.init_clusters(model.embed(x).double().numpy(), 0, x=x)
    with torch.no_grad():
        model.assignment.cluster_centers.fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='loss became'):
        train(model, WholeGraph(x), epochs=2, progress=False)


def test_warmup_only_moves_the_gcn():
    seed_everything(0)
    x, _ = _data()
    model = VGDCNModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3), 3)
    pretrain(model, x, epochs=3, progress=False)
    g = knn_heat_kernel_graph(x, n_neighbors=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight, x=x)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batches = WholeGraph(x, g.edge_index, g.edge_weight)
    kl_before = float(model.warmup_loss(batches.whole)['kl_init'])
    warmup(model, batches, steps=5, lr=1e-3, progress=False)
    assert float(model.warmup_loss(batches.whole)['kl_init']) < kl_before
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
    g = knn_heat_kernel_graph(x, n_neighbors=5)
    model.init_clusters(model.embed(x).double().numpy(), 0, g.edge_index,
                        g.edge_weight, x=x)
    joint = train(model, WholeGraph(x, g.edge_index, g.edge_weight),
                  epochs=10, lr=1e-3, progress=False, warmup_steps=5,
                  precision='bf16')
    assert all(np.isfinite(h['loss']) for h in joint)
    with autocast(x.device, 'bf16'):
        enc = model.autoencoder.encode(x)
    assert enc.mu.dtype == torch.float32 and enc.logvar.dtype == torch.float32
    with pytest.raises(ValueError, match='precision'):
        autocast(x.device, 'fp16')


@pytest.mark.parametrize('native', [True, False])
def test_auto_precision_is_bf16_only_on_a_cpu_with_bf16_units(monkeypatch,
                                                              native):
    monkeypatch.setattr(trainer, 'cpu_computes_bf16', lambda: native)
    assert resolve_precision('auto', 'cpu') == ('bf16' if native else 'fp32')
    assert resolve_precision('auto', 'cuda') == 'fp32'
    for fixed in ('fp32', 'bf16'):
        assert resolve_precision(fixed, 'cpu') == fixed
    with pytest.raises(ValueError, match='precision'):
        resolve_precision('fp16', 'cpu')
    x, _ = make_blobs(n_per_cluster=10)
    est = VGDCN(n_clusters=3, precision='auto', pretrain_epochs=1, epochs=1,
                init='gmm', verbose=False).fit(x)
    assert est.precision_ == ('bf16' if native else 'fp32')
    assert est.precision == 'auto'  # the parameter stays as given


def test_pretraining_nan_is_reported():
    x, _ = _data()
    model = DECModel(DeepAutoEncoder(x.size(1), (8, ), 2,
                                     variational=False), 3)
    with torch.no_grad():
        model.autoencoder.encoder[0].weight.fill_(float('nan'))
    with pytest.raises(FloatingPointError, match='pretraining loss became '
                                                 'nan at epoch 0'):
        pretrain(model, x, epochs=2, progress=False)


def _dec(x, seed=0):
    seed_everything(seed)
    model = DECModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3,
                                     variational=False), 3)
    pretrain(model, x, epochs=3, batch_size=32, progress=False)
    model.init_clusters(model.embed(x).double().numpy(), 0, x=x)
    return model


def test_clusters_used_per_epoch_and_one_collapse_warning():
    x, _ = _data()
    model = _dec(x)
    history = train(model, RowBatches(x, 40, torch.Generator()), epochs=3,
                    progress=False)
    assert [h['clusters'] for h in history] == [3, 3, 3]
    assert history[0]['loss'] == history[0]['kl_q']  # count not summed in
    # All centres on one point: every sample picks the first cluster.
    with torch.no_grad():
        model.assignment.cluster_centers.copy_(
            model.assignment.cluster_centers[:1].expand(3, -1))
    with pytest.warns(RuntimeWarning, match='epoch 0: only 1 of 3 clusters'
                      ) as caught:
        history = train(model, RowBatches(x, 40, torch.Generator()),
                        epochs=3, lr=1e-6, progress=False)
    assert [h['clusters'] for h in history] == [1, 1, 1]
    assert len([w for w in caught if 'clusters' in str(w.message)]) == 1


def test_resume_hooks_continue_the_schedule():
    # The state after epoch 4, restored into a model trained to the same
    # point, continues exactly as the uninterrupted run: optimizer and
    # scheduler state, the target refreshed on the uninterrupted schedule.
    import copy
    x, _ = _data()
    states = []
    settings = dict(lr=3e-3, lr_decay=0.5, decay_every=3, update_interval=3,
                    progress=False)

    def keep(epoch, history, optimizer, scheduler):
        states.append(copy.deepcopy((optimizer.state_dict(),
                                     scheduler.state_dict(),
                                     model.training_state())))
    model = _dec(x)
    full = train(model, WholeGraph(x), epochs=8, after_epoch=keep,
                 **settings)
    final = model.predict_proba(x).detach()
    opt_state, sched_state, training = states[4]

    model = _dec(x)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    assert train(model, WholeGraph(x), epochs=5, optimizer=opt,
                 **settings) == full[:5]
    model.load_training_state(training)
    opt.load_state_dict(opt_state)
    rest = train(model, WholeGraph(x), epochs=8, start_epoch=5,
                 optimizer=opt, scheduler_state=sched_state, **settings)
    assert [h['epoch'] for h in rest] == [5, 6, 7]
    assert rest == full[5:]
    assert torch.equal(model.predict_proba(x).detach(), final)
    assert opt.param_groups[0]['lr'] == pytest.approx(3e-3 * 0.25)


def test_pretraining_stops_when_the_reconstruction_settles():
    from vgdcn_pyg.training.trainer import reconstruction_converged
    flat = [{'recon': 10.0}] * 10
    falling = [{'recon': 10.0 - i} for i in range(10)]
    assert reconstruction_converged(flat, tol=1e-3)
    assert not reconstruction_converged(falling, tol=1e-3)
    assert not reconstruction_converged(flat, tol=0.0)      # the old rule
    assert not reconstruction_converged(flat[:9], tol=1e-3)  # two windows
    x, _ = _data()
    runs = {}
    for tol in (0.0, 0.05):
        seed_everything(0)
        model = DECModel(DeepAutoEncoder(x.size(1), (16, 16, 32), 3,
                                         variational=False), 3)
        runs[tol] = pretrain(model, x, epochs=60, batch_size=32, lr=3e-3,
                             progress=False, tol=tol)
    assert len(runs[0.0]) == 60
    assert 10 <= len(runs[0.05]) < 60
    assert reconstruction_converged(runs[0.05], 0.05)
    # Up to the stop, the same epochs as without it.
    assert runs[0.05] == runs[0.0][:len(runs[0.05])]


def test_joint_phase_stops_when_few_samples_change_cluster():
    x, _ = _data()
    histories = {}
    for tol in (0.0, 0.5):
        model = _dec(x)
        histories[tol] = train(model, WholeGraph(x), epochs=10, lr=1e-3,
                               tol=tol, progress=False)
    full, early = histories[0.0], histories[0.5]
    assert len(full) == 10 and 'changed' not in full[0]
    assert all(0.0 <= h['changed'] <= 1.0 for h in full[1:])
    # Stops at the first refresh after which under half the samples moved.
    assert len(early) == 2 and early[-1]['changed'] < 0.5
    assert early == full[:2]
    # Not before the learning-rate warm-up is over: its first steps are
    # small, so few samples move whether or not training has converged.
    ramped = train(_dec(x), WholeGraph(x), epochs=10, lr=1e-3, tol=0.5,
                   lr_warmup=4, progress=False)
    assert len(ramped) == 4 + next(i for i, h in enumerate(ramped[3:])
                                   if h['changed'] < 0.5)
    assert all(h['changed'] < 0.5 for h in ramped[1:3])  # would have stopped


def test_every_adam_implementation_takes_the_same_step():
    steps = []
    for implementation in ('auto', 'fused', 'foreach', 'for-loop'):
        torch.manual_seed(0)
        w = torch.nn.Parameter(torch.randn(5, 3))
        opt = make_adam([w], 1e-2, implementation)
        for _ in range(3):
            opt.zero_grad()
            (w ** 2).sum().backward()
            opt.step()
        steps.append(w.detach().clone())
    for w in steps[1:]:
        torch.testing.assert_close(w, steps[0])
    assert make_adam([torch.nn.Parameter(torch.ones(1))], 1e-3).defaults[
        'fused']
    with pytest.raises(ValueError, match='implementation'):
        make_adam([w], 1e-3, 'sgd')


def _steps_taken(optimizer, w, steps):
    moves = []
    for _ in range(steps):
        before = w.detach().clone()
        optimizer.zero_grad()
        w.sum().backward()  # the same gradient every step
        optimizer.step()
        moves.append(float((before - w.detach()).item()))
    return moves


def test_lr_warmup_ramps_adams_steps_and_resumes_the_ramp():
    # With a constant gradient every Adam step moves the weight by the
    # learning rate; the warm-up scales step t by min(1, t / W).
    w = torch.nn.Parameter(torch.zeros(1))
    opt = make_adam([w], 0.1, lr_warmup=4)
    moves = _steps_taken(opt, w, 2)
    np.testing.assert_allclose(moves, [0.025, 0.05], rtol=1e-4)
    assert opt.param_groups[0]['lr'] == 0.1  # the scheduler's value is kept
    restored = make_adam([w], 0.1, lr_warmup=4)
    restored.load_state_dict(opt.state_dict())
    np.testing.assert_allclose(_steps_taken(restored, w, 3),
                               [0.075, 0.1, 0.1], rtol=1e-4)
    # a scheduled learning rate is scaled, not replaced
    fresh = make_adam([w], 0.1, lr_warmup=2)
    fresh.param_groups[0]['lr'] = 0.01
    np.testing.assert_allclose(_steps_taken(fresh, w, 2), [0.005, 0.01],
                               rtol=1e-4)
    np.testing.assert_allclose(_steps_taken(make_adam([w], 0.1), w, 1),
                               [0.1], rtol=1e-4)
    with pytest.raises(ValueError, match='lr_warmup'):
        make_adam([w], 0.1, lr_warmup=-1)
