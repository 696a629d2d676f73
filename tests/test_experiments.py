import csv
import json

import numpy as np
import pytest

from vgdcn_pyg import VGDCN, experiments
from vgdcn_pyg.datasets import ClusteringData
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.experiments import (run_benchmark, run_sweep, sweep_summary,
                                   write_benchmark, write_sweep)
from vgdcn_pyg.exceptions import DataError, ModelError

from .conftest import TINY, make_blobs

PARAMS = dict(TINY, n_clusters=3, epochs=4, pretrain_epochs=10)
NO_M = {k: v for k, v in PARAMS.items() if k != 'n_neighbors'}


@pytest.fixture(scope='module')
def data():
    x, y = make_blobs()
    return ClusteringData(x=x, y=y, source='blobs')


@pytest.fixture(scope='module')
def runs(data):
    return run_benchmark(data, ['ae_kmeans', 'dec', 'vgdcn'], [0, 1],
                         PARAMS)


def test_benchmark_records_every_model_and_seed(runs):
    assert [(r['seed'], r['model']) for r in runs] == [
        (s, m) for s in (0, 1) for m in ('ae_kmeans', 'dec', 'vgdcn')]
    for r in runs:
        assert 0 <= r['acc'] <= 1 and 'init' in r and r['seconds'] > 0
        assert len(r['history']) == (0 if r['model'] == 'ae_kmeans' else 4)
        assert 'acc' in r['history'][-1] if r['history'] else True
    # the last history entry is the reported (last-epoch) result
    last = runs[2]
    assert last['history'][-1]['acc'] == pytest.approx(last['acc'])


def test_benchmark_vgdcn_equals_a_standalone_fit(data, runs):
    est = VGDCN(random_state=1, **PARAMS).fit(data.x)
    expected = evaluate(data.y, est.labels_)
    got = [r for r in runs if r['seed'] == 1 and r['model'] == 'vgdcn'][0]
    for key in ('acc', 'nmi', 'ari'):
        assert got[key] == pytest.approx(expected[key])


def test_benchmark_does_not_depend_on_model_order(data, runs):
    again = run_benchmark(data, ['vgdcn', 'dec'], [0], PARAMS)
    for r in again:
        first = [q for q in runs if q['seed'] == 0 and
                 q['model'] == r['model']][0]
        assert r['acc'] == pytest.approx(first['acc'])
        assert r['nmi'] == pytest.approx(first['nmi'])


def test_sweep_pretrains_once_per_seed(data, monkeypatch):
    calls = []
    pretrain = experiments._pretrain

    def counting(*args):
        calls.append(args[1])
        return pretrain(*args)

    monkeypatch.setattr(experiments, '_pretrain', counting)
    runs = run_sweep(data, 'eps', [0.2, 0.8], [0, 3], PARAMS)
    assert calls == [0, 3]
    assert [(r['seed'], r['value']) for r in runs] == [
        (0, 0.2), (0, 0.8), (3, 0.2), (3, 0.8)]
    summary = sweep_summary(runs)
    assert [row['value'] for row in summary] == [0.2, 0.8]
    accs = [r['acc'] for r in runs if r['value'] == 0.8]
    assert summary[1]['acc_mean'] == pytest.approx(np.mean(accs))
    assert summary[1]['acc_std'] == pytest.approx(np.std(accs))


def test_sweep_value_changes_the_model(data):
    runs = run_sweep(data, 'M', [1, 8], [0], NO_M)
    # M = 1 and M = 8 build different graphs, so different histories
    assert runs[0]['history'] != runs[1]['history']


def test_writers(tmp_path, runs, data):
    table = write_benchmark(runs, ['ae_kmeans', 'dec', 'vgdcn'],
                            tmp_path / 't.md', tmp_path / 't.json', 'Blobs',
                            'vgdcn benchmark blobs.npz')
    assert (tmp_path / 't.md').read_text() == table
    assert table.startswith('# Blobs') and 'vgdcn benchmark blobs' in table
    row = [line for line in table.splitlines()
           if line.startswith('| dec |')][0]
    accs = 100 * np.array([r['acc'] for r in runs if r['model'] == 'dec'])
    assert f'{accs.mean():.1f} +- {accs.std():.1f}' in row
    assert len(json.loads((tmp_path / 't.json').read_text())) == len(runs)

    sweep_runs = [dict(r, param='M', value=v) for r, v in
                  zip(runs, [1, 1, 1, 3, 3, 3])]
    folder = tmp_path / 'sweep'
    write_sweep(sweep_runs, folder, 'vgdcn', 'vgdcn sweep')
    with open(folder / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['value'] for r in rows] == ['1', '3']
    assert (folder / 'sweep.png').read_bytes()[:4] == b'\x89PNG'
    assert '| M | ACC | NMI | ARI |' in (folder / 'sweep.md').read_text()


@pytest.mark.parametrize('call, error, message', [
    (lambda d: run_benchmark(d, ['nope'], [0], PARAMS), ModelError, 'nope'),
    (lambda d: run_benchmark(d, ['dec'], [], PARAMS), ModelError, 'seed'),
    (lambda d: run_sweep(d, 'lr', [1], [0], PARAMS), ModelError, 'lr'),
    (lambda d: run_sweep(d, 'eps', [0.5], [0], dict(PARAMS, model='vade')),
     ModelError, 'no effect'),
    (lambda d: run_sweep(d, 'eps', [0.5], [0], dict(PARAMS, eps=0.1)),
     ModelError, 'swept'),
    (lambda d: run_sweep(d, 'eps', [2.0], [0], PARAMS), ModelError,
     r'\[0, 1\]'),
    (lambda d: run_sweep(d, 'M', [2.5], [0], NO_M), ModelError,
     'integers'),
    (lambda d: run_sweep(ClusteringData(x=d.x), 'M', [2], [0], NO_M),
     DataError, 'labels'),
    (lambda d: run_benchmark(ClusteringData(x=d.x), ['dec'], [0], PARAMS),
     DataError, 'labels'),
])
def test_bad_input_fails_before_any_training(data, monkeypatch, call, error,
                                             message):
    def no_training(*args):
        raise AssertionError('trained before checking the input')

    monkeypatch.setattr(experiments, '_pretrain', no_training)
    with pytest.raises(error, match=message):
        call(data)


def test_given_autoencoders_are_used_instead_of_pretraining(data,
                                                            monkeypatch):
    state = experiments.pretrain_autoencoder(data, 0, PARAMS)
    expected = run_sweep(data, 'eps', [0.3], [0], PARAMS)

    def no_training(*args):
        raise AssertionError('pretrained although a state was given')

    monkeypatch.setattr(experiments, '_pretrain', no_training)
    runs = run_sweep(data, 'eps', [0.3], [0], PARAMS, pretrained={0: state})
    assert runs[0]['acc'] == pytest.approx(expected[0]['acc'])
    assert runs[0]['history'] == expected[0]['history']
    labelled = run_benchmark(data, ['vade'], [0], PARAMS, keep_labels=True,
                             pretrained={0: state})
    assert len(labelled[0]['labels']) == len(data.x)
