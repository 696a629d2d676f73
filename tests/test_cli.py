import csv
import json

import numpy as np
import pytest
from click.testing import CliRunner

from vgdcn_pyg.cli import main

from .conftest import make_blobs

FAST = ['--epochs', '3', '--pretrain-epochs', '3', '--quiet',
        '--device', 'cpu']


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def blob_file(tmp_path):
    x, y = make_blobs()
    path = tmp_path / 'blobs.npz'
    np.savez(path, x=x, y=y)
    return path


def _no_traceback(result):
    assert 'Traceback' not in result.output
    assert result.exception is None or isinstance(result.exception,
                                                  SystemExit)


def test_fit_writes_results(runner, blob_file, tmp_path):
    out = tmp_path / 'out'
    result = runner.invoke(main, ['fit', str(blob_file), '-k', '3',
                                  '-m', '4', '--out', str(out)] + FAST)
    assert result.exit_code == 0, result.output
    with open(out / 'labels.csv') as f:
        rows = list(csv.reader(f))
    assert rows[0] == ['sample', 'cluster', 'confidence']
    assert len(rows) == 121
    assert {int(r[1]) for r in rows[1:]} <= {0, 1, 2}
    metrics = json.loads((out / 'metrics.json').read_text())
    assert 0 <= metrics['acc'] <= 1 and metrics['model'] == 'vgdcn'
    assert len(json.loads((out / 'history.json').read_text())) == 3
    for figure in ('loss.png', 'quality.png', 'latent.png'):
        assert (out / figure).read_bytes()[:4] == b'\x89PNG'
    # no temporary files left behind
    assert not [p for p in out.iterdir() if p.name.startswith('.tmp-')]

    pred_out = tmp_path / 'pred'
    result = runner.invoke(main, ['predict', str(out / 'model.pt'),
                                  str(blob_file), '--out', str(pred_out)])
    assert result.exit_code == 0, result.output
    assert (pred_out / 'labels.csv').exists()

    bad = runner.invoke(main, ['sample', str(out / 'model.pt'),
                               '--image-shape', '5x5', '--out',
                               str(tmp_path / 'bad.png')])
    assert bad.exit_code == 2 and 'does not hold' in bad.output
    assert not (tmp_path / 'bad.png').exists()
    png = tmp_path / 'samples.png'
    result = runner.invoke(main, ['sample', str(out / 'model.pt'), '-n', '3',
                                  '--out', str(png), '--image-shape', '3x4'])
    assert result.exit_code == 0, result.output
    assert png.read_bytes()[:4] == b'\x89PNG'


def test_rerun_leaves_no_stale_outputs(runner, blob_file, tmp_path):
    out = tmp_path / 'out'
    args = ['fit', str(blob_file), '-k', '3', '-m', '4', '--out', str(out)]
    assert runner.invoke(main, args + FAST).exit_code == 0
    assert (out / 'metrics.json').exists() and (out / 'loss.png').exists()
    x = np.load(blob_file)['x']
    unlabelled = tmp_path / 'x.npy'
    np.save(unlabelled, x)
    args[1] = str(unlabelled)
    result = runner.invoke(main, args + FAST + ['--no-figures'])
    assert result.exit_code == 0, result.output
    assert not (out / 'metrics.json').exists()  # no labels this time
    assert not (out / 'loss.png').exists()
    assert (out / 'labels.csv').exists()


def test_graph_command(runner, blob_file, tmp_path):
    result = runner.invoke(main, ['graph', str(blob_file), '-m', '3',
                                  '--out', str(tmp_path / 'g.pt')])
    assert result.exit_code == 0, result.output
    assert 'edge_error_rate' in result.output
    assert (tmp_path / 'g.pt').exists()


@pytest.mark.parametrize('args, message', [
    (['fit', 'no/such/file.npy'], 'no such file'),
    (['fit', '{blob}', '-k', '500'], 'too few'),
    (['fit', '{blob}', '-k', '3', '-m', '1000'], 'n_neighbors'),
    (['fit', '{nan}'], 'NaN'),
    (['fit', '{empty}'], 'no images'),
    (['predict', '{junk}', '{blob}'], 'cannot read model file'),
    (['fit', '{blob}', '--image-size', 'axb'], 'WIDTHxHEIGHT'),
])
def test_bad_input_one_line_and_nonzero_exit(runner, blob_file, tmp_path,
                                             args, message):
    nan = tmp_path / 'nan.npy'
    arr = np.random.rand(30, 4)
    arr[3, 1] = np.nan
    np.save(nan, arr)
    empty = tmp_path / 'empty'
    empty.mkdir()
    junk = tmp_path / 'junk.pt'
    junk.write_bytes(b'not a model')
    args = [a.format(blob=blob_file, nan=nan, empty=empty, junk=junk)
            for a in args]
    out = tmp_path / 'out'
    result = runner.invoke(main, args + ['--out', str(out)] +
                           (FAST if args[0] == 'fit' else []))
    assert result.exit_code == 2
    _no_traceback(result)
    assert message.lower() in result.output.lower()
    assert not out.exists() or not any(out.iterdir())


def test_help_lists_every_command(runner):
    result = runner.invoke(main, ['--help'])
    for command in ('fit', 'predict', 'graph', 'sample'):
        assert command in result.output
    result = runner.invoke(main, ['fit', '--help'])
    for option in ('--clusters', '--model', '--eps', '--neighbors',
                   '--epochs', '--pretrain-epochs', '--seed', '--device',
                   '--image-size', '--out'):
        assert option in result.output
