import random

import numpy as np
import pytest
import torch

import vgdcn_pyg.phases as phases
import vgdcn_pyg.training.checkpoint as checkpointing
from vgdcn_pyg import DeepClustering, ModelError
from vgdcn_pyg.training.checkpoint import (fingerprint, load_checkpoint,
                                           rng_state, save_checkpoint,
                                           set_rng_state)

from ..conftest import MINIBATCH, TINY, make_blobs

SHORT = dict(TINY, pretrain_epochs=4, epochs=6, warmup_steps=3)


class Stop(Exception):
    pass


def _fit_until(monkeypatch, params, x, y, path, saves):
    r"""Fits with a checkpoint every epoch and stops (as a crash would) right
    after the :obj:`saves`-th checkpoint is written."""
    calls = []

    def save_then_stop(*args):
        save_checkpoint(*args)
        calls.append(args[1]['phase'])
        if len(calls) == saves:
            raise Stop
    monkeypatch.setattr(checkpointing, 'save_checkpoint', save_then_stop)
    with pytest.raises(Stop):
        DeepClustering(**params).fit(x, y, checkpoint=path)
    monkeypatch.undo()
    return calls[-1]


#: Mini-batch graph training (sampled subgraphs) in the SHORT schedule.
SUBGRAPHS = dict(batch_size_graph=MINIBATCH['batch_size_graph'],
                 num_neighbors=(3, 2))


@pytest.mark.parametrize('model, update_interval, saves, phase, extra', [
    # graph, warm-up, target every 2 epochs
    ('vgdcn', 2, 2, 'pretrain', {}),
    # resumed where the target is not fresh
    ('vgdcn', 2, 4 + 3, 'joint', {}),
    # mini-batches from the generator
    ('dec', 1, 4 + 2, 'joint', {}),
    # sampling from the global RNG
    ('vade', 1, 4 + 1, 'joint', {}),
    # sampled subgraphs: the loader's generator, accumulated epoch steps...
    ('vgdcn', 2, 4 + 3, 'joint', SUBGRAPHS),
    # ...or a step per batch, in bf16
    ('vgdcn', 1, 4 + 2, 'joint', dict(SUBGRAPHS, minibatch_update='batch',
                                      precision='bf16')),
    # both stopping rules on (DEC stops its joint phase early on the blobs)
    ('dec', 1, 4 + 1, 'joint', dict(tol=0.05, pretrain_tol=1e-4,
                                    adam='for-loop')),
])
def test_resume_is_bit_exact(monkeypatch, tmp_path, model, update_interval,
                             saves, phase, extra):
    x, y = make_blobs(n_per_cluster=30)
    params = dict(SHORT, n_clusters=3, model=model,
                  update_interval=update_interval, **extra)
    ref = DeepClustering(**params).fit(x, y)
    path = tmp_path / 'checkpoint.pt'
    assert _fit_until(monkeypatch, params, x, y, path, saves) == phase
    est = DeepClustering(**params).fit(x, y, checkpoint=path, resume=True)
    assert est.n_iter_ == ref.n_iter_
    np.testing.assert_array_equal(est.labels_, ref.labels_)
    np.testing.assert_array_equal(est.proba_, ref.proba_)
    assert est.history_ == ref.history_
    assert est.pretrain_history_ == ref.pretrain_history_
    np.testing.assert_array_equal(est.init_labels_, ref.init_labels_)
    for a, b in zip(est.model_.state_dict().values(),
                    ref.model_.state_dict().values()):
        assert torch.equal(a, b)
    assert not path.exists()  # removed after the successful fit


def test_checkpoint_every_n_and_kept_on_failure(monkeypatch, tmp_path):
    x, y = make_blobs(n_per_cluster=20)
    params = dict(SHORT, n_clusters=3, model='dec')
    written = []

    def record(path, state, print_):
        written.append((state['phase'], state['epoch']))
        save_checkpoint(path, state, print_)
    monkeypatch.setattr(checkpointing, 'save_checkpoint', record)

    def nan_at_epoch_5(*args, **kwargs):
        raise FloatingPointError('loss became nan at epoch 5')
    path = tmp_path / 'ck.pt'
    DeepClustering(**params).fit(x, checkpoint=path, checkpoint_every=2)
    assert written == [('pretrain', 2), ('pretrain', 4), ('joint', 2),
                       ('joint', 4), ('joint', 6)]
    assert not path.exists()
    # A failing fit keeps its last checkpoint.
    monkeypatch.setattr(phases, 'train_loop', nan_at_epoch_5)
    with pytest.raises(FloatingPointError):
        DeepClustering(**params).fit(x, checkpoint=path, checkpoint_every=3)
    assert path.exists() and written[-1] == ('pretrain', 3)
    # Resuming without checkpoint_every keeps the checkpoint's interval.
    monkeypatch.undo()
    monkeypatch.setattr(checkpointing, 'save_checkpoint', record)
    DeepClustering(**params).fit(x, checkpoint=path, resume=True)
    assert written[-2:] == [('joint', 3), ('joint', 6)]


def test_resume_refuses_other_settings_data_or_files(tmp_path, monkeypatch):
    x, y = make_blobs(n_per_cluster=20)
    params = dict(SHORT, n_clusters=3, model='dec')
    path = tmp_path / 'ck.pt'
    _fit_until(monkeypatch, params, x, y, path, 2)

    def resume(x=x, y=y, path=path, **changes):
        DeepClustering(**dict(params, **changes)).fit(x, y, checkpoint=path,
                                                      resume=True)
    with pytest.raises(ModelError, match=r'other settings or data '
                                         r'\(epochs 6 -> 7\)'):
        resume(epochs=7)
    with pytest.raises(ModelError, match=r'data 60x12 \w+ -> 59x12'):
        resume(x=x[:-1], y=y[:-1])
    x2 = x.copy()
    x2[0, 0] += 1e-3
    with pytest.raises(ModelError, match=r'data 60x12 (\w+) -> 60x12 '):
        resume(x=x2)
    with pytest.raises(ModelError, match='other labels'):
        resume(y=None)
    with pytest.raises(ModelError, match='no checkpoint to resume from'):
        resume(path=tmp_path / 'missing.pt')
    data = path.read_bytes()
    (tmp_path / 'cut.pt').write_bytes(data[:len(data) // 3])
    with pytest.raises(ModelError, match='cannot read checkpoint'):
        resume(path=tmp_path / 'cut.pt')
    state = torch.load(path, weights_only=True)
    torch.save(dict(state, format_version=999), tmp_path / 'future.pt')
    with pytest.raises(ModelError, match='checkpoint format 999'):
        resume(path=tmp_path / 'future.pt')
    torch.save({'format': 'vgdcn-pyg-model'}, tmp_path / 'model.pt')
    with pytest.raises(ModelError, match='not a vgdcn-pyg checkpoint'):
        resume(path=tmp_path / 'model.pt')
    with pytest.raises(ModelError, match='needs the checkpoint'):
        DeepClustering(**params).fit(x, resume=True)
    with pytest.raises(ModelError, match='checkpoint_every must be'):
        DeepClustering(**params).fit(x, checkpoint=path, checkpoint_every=0)
    # verbose and device do not change the fit: still accepted
    resume(verbose=False, device='cpu')


def test_resume_refuses_a_checkpoint_of_other_model_defaults(tmp_path,
                                                              monkeypatch):
    # A checkpoint records the model's options with their defaults resolved;
    # one written where a default differed (an older version: VGDCN's
    # gcn_weight was 1) is refused, not finished with the new default.
    x, y = make_blobs(n_per_cluster=20)
    params = dict(SHORT, n_clusters=3, model='sdcn')
    path = tmp_path / 'ck.pt'
    _fit_until(monkeypatch, params, x, y, path, 2)
    state = torch.load(path, weights_only=True)
    assert state['fingerprint']['params']['gcn_weight'] == 0.01
    state['fingerprint']['params']['gcn_weight'] = 1.0
    torch.save(state, path)
    with pytest.raises(ModelError, match=r'gcn_weight 1\.0 -> 0\.01'):
        DeepClustering(**params).fit(x, y, checkpoint=path, resume=True)
    # The same value given explicitly is the same fit.
    state['fingerprint']['params']['gcn_weight'] = 0.01
    torch.save(state, path)
    DeepClustering(**dict(params, gcn_weight=0.01)).fit(
        x, y, checkpoint=path, resume=True)


def test_rng_state_round_trip():
    torch.manual_seed(1)
    np.random.seed(1)
    random.seed(1)
    state = rng_state()
    first = (torch.rand(3), np.random.rand(3), random.random())
    set_rng_state(state)
    second = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])
    assert first[2] == second[2]


def test_fingerprint_covers_what_changes_the_result():
    x, y = make_blobs(n_per_cluster=5)
    base = fingerprint({'epochs': 3, 'hidden_channels': (8, 4),
                        'verbose': True, 'device': 'cpu'}, x, y)
    assert base == fingerprint({'epochs': 3, 'hidden_channels': [8, 4],
                                'verbose': False, 'device': 'cuda'}, x, y)
    assert base != fingerprint({'epochs': 4, 'hidden_channels': (8, 4)},
                               x, y)
    assert base['labels'] != fingerprint({}, x, y[::-1])['labels']
    pre = {'w': torch.ones(2)}
    assert fingerprint({}, x, None, pre)['pretrained'] != \
        fingerprint({}, x, None, {'w': torch.zeros(2)})['pretrained']


def test_load_checkpoint_checks_the_fingerprint(tmp_path):
    x, _ = make_blobs(n_per_cluster=5)
    expected = fingerprint({'epochs': 3}, x)
    save_checkpoint(tmp_path / 'c.pt', {'phase': 'pretrain', 'epoch': 1},
                    expected)
    state = load_checkpoint(tmp_path / 'c.pt', expected)
    assert state['phase'] == 'pretrain' and state['epoch'] == 1
    with pytest.raises(ModelError, match='epochs 3 -> 5'):
        load_checkpoint(tmp_path / 'c.pt', fingerprint({'epochs': 5}, x))
