import csv
import json

import click
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
    for command in ('fit', 'predict', 'graph', 'sample', 'sweep', 'benchmark'):
        assert command in result.output
    result = runner.invoke(main, ['fit', '--help'])
    for option in ('--clusters', '--model', '--eps', '--neighbors',
                   '--epochs', '--pretrain-epochs', '--seed', '--device',
                   '--image-size', '--out'):
        assert option in result.output


@pytest.fixture
def shapes_file(tmp_path):
    from vgdcn_pyg.datasets import ClusteringData

    from .conftest import make_shapes
    x, y, shape = make_shapes()
    path = tmp_path / 'shapes.npz'
    ClusteringData(x=x, y=y, image_shape=shape).save(path)
    return path


def test_sweep_writes_table_csv_and_figure(runner, blob_file, tmp_path):
    out = tmp_path / 'sweep'
    result = runner.invoke(main, ['sweep', str(blob_file), '--param', 'M',
                                  '--values', '2,4', '--seeds', '0,1',
                                  '-k', '3', '--out', str(out)] + FAST)
    assert result.exit_code == 0, result.output
    with open(out / 'sweep.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['value'] for r in rows] == ['2', '4']
    assert all(r['n_seeds'] == '2' for r in rows)
    with open(out / 'runs.csv') as f:
        runs = list(csv.DictReader(f))
    assert len(runs) == 4 and {r['seed'] for r in runs} == {'0', '1'}
    # the summary is the mean of the runs
    accs = [float(r['acc']) for r in runs if r['value'] == '4']
    assert float(rows[1]['acc_mean']) == pytest.approx(np.mean(accs))
    md = (out / 'sweep.md').read_text()
    assert '| M | ACC | NMI | ARI |' in md and '+-' in md
    assert 'vgdcn sweep' in md and '--values 2,4' in md
    assert (out / 'sweep.png').read_bytes()[:4] == b'\x89PNG'


def test_benchmark_writes_table_json_and_figure(runner, blob_file,
                                                tmp_path):
    out = tmp_path / 'bench'
    result = runner.invoke(main, ['benchmark', str(blob_file), '--models',
                                  'ae_kmeans,vade,vgdcn', '--seeds', '0,1,2',
                                  '--quick', '--out', str(out), '--device',
                                  'cpu', '--quiet'])
    assert result.exit_code == 0, result.output
    runs = json.loads((out / 'benchmark.json').read_text())
    # --quick keeps the first seed only
    assert [(r['seed'], r['model']) for r in runs] == [
        (0, 'ae_kmeans'), (0, 'vade'), (0, 'vgdcn')]
    assert len(runs[2]['history']) == 5 and runs[0]['history'] == []
    md = (out / 'benchmark.md').read_text()
    for name in ('ae_kmeans', 'vade', 'vgdcn'):
        assert f'| {name} |' in md
    assert 'published' not in md  # only for USPS
    assert (out / 'quality.png').read_bytes()[:4] == b'\x89PNG'


def test_fit_and_predict_with_shape_features(runner, shapes_file,
                                             tmp_path):
    out = tmp_path / 'out'
    result = runner.invoke(main, ['fit', str(shapes_file), '--features',
                                  'shape', '-m', '4', '--out', str(out)] +
                           FAST)
    assert result.exit_code == 0, result.output
    assert json.loads((out / 'metrics.json').read_text())['features'] == \
        'shape'
    assert (out / 'clusters.png').exists()  # drawn from the images
    assert not (out / 'generated.png').exists()  # not images
    pred = tmp_path / 'pred'
    result = runner.invoke(main, ['predict', str(out / 'model.pt'),
                                  str(shapes_file), '--out', str(pred)])
    assert result.exit_code == 0, result.output
    fitted = [r[1] for r in csv.reader(open(out / 'labels.csv'))][1:]
    predicted = [r[1] for r in csv.reader(open(pred / 'labels.csv'))][1:]
    # the same images, through the same features, mostly land where they
    # were (new samples also see the training graph, so not all)
    assert np.mean(np.array(fitted) == np.array(predicted)) > 0.8
    bad = runner.invoke(main, ['sample', str(out / 'model.pt'), '--out',
                               str(tmp_path / 's.png')])
    assert bad.exit_code == 2 and 'not images' in bad.output
    assert not (tmp_path / 's.png').exists()


def test_sample_uses_the_training_image_shape(runner, shapes_file,
                                              tmp_path):
    out = tmp_path / 'out'
    assert runner.invoke(main, ['fit', str(shapes_file), '-m', '4', '--out',
                                str(out), '--no-figures'] +
                         FAST).exit_code == 0
    png = tmp_path / 'samples.png'
    result = runner.invoke(main, ['sample', str(out / 'model.pt'), '-n', '2',
                                  '--out', str(png)])
    assert result.exit_code == 0, result.output  # 24x32 is not square
    assert png.read_bytes()[:4] == b'\x89PNG'


@pytest.mark.parametrize('args, message', [
    (['sweep', '{blob}', '--param', 'eps', '--values', '0.1,x'],
     'comma-separated'),
    (['sweep', '{blob}', '--param', 'eps', '--values', '0.1,1.5'],
     'in [0, 1]'),
    (['sweep', '{blob}', '--param', 'M', '--values', '2,500'], 'M values'),
    (['sweep', '{blob}', '--param', 'eps', '--values', '0.1', '--eps',
      '0.3'], 'swept'),
    (['sweep', '{blob}', '--param', 'eps', '--values', '0.1', '--model',
      'dec'], 'no effect'),
    (['sweep', '{unlabelled}', '--param', 'M', '--values', '2'],
     'needs labels'),
    (['sweep', '{blob}', '--param', 'M', '--values', '2,2'], 'twice'),
    (['sweep', '{blob}', '--param', 'lambda', '--values', '2'], 'lambda'),
    (['benchmark', '{blob}', '--models', 'vgdcn,kmeans'], 'kmeans'),
    (['benchmark', '{unlabelled}'], 'needs labels'),
    (['benchmark', '{blob}', '--seeds', ''], 'empty'),
    (['fit', '{blob}', '--features', 'hog'], 'plain vectors'),
    (['fit', '{blob}', '--features', 'sift'], 'sift'),
    (['fit', '{blob}', '-k', '1'], 'clusters'),
    (['fit', '{blob}', '--bogus'], 'no such option'),
])
def test_experiment_bad_input(runner, blob_file, tmp_path, args, message):
    unlabelled = tmp_path / 'x.npy'
    np.save(unlabelled, np.load(blob_file)['x'])
    args = [a.format(blob=blob_file, unlabelled=unlabelled) for a in args]
    out = tmp_path / 'out'
    result = runner.invoke(main, args + ['--out', str(out), '--quick'
                                         if args[0] != 'fit' else '--quiet',
                                         '--device', 'cpu'])
    assert result.exit_code == 2, result.output
    _no_traceback(result)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ')
    assert message.lower() in lines[0].lower()
    assert not out.exists()


def test_every_option_is_explained(runner):
    for name, command in main.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f'{name} {param.opts} has no help'
        assert command.help and command.help.strip(), name
        result = runner.invoke(main, [name, '--help'])
        assert result.exit_code == 0 and 'Usage' in result.output
    help_text = runner.invoke(main, ['fit', '--help']).output
    assert '{data_help}' not in help_text and 'usps' in help_text
    for option in ('--features', '--quiet', '--figures'):
        assert option in help_text


def test_fit_shows_progress_unless_quiet(runner, blob_file, tmp_path):
    args = ['fit', str(blob_file), '-k', '3', '-m', '4', '--epochs', '2',
            '--pretrain-epochs', '2', '--device', 'cpu', '--no-figures',
            '--out', str(tmp_path / 'out')]
    shown = runner.invoke(main, args)
    assert shown.exit_code == 0, shown.output
    for bar in ('pretrain', 'kNN graph', 'init', 'warm-up', 'train'):
        assert bar in shown.output
    quiet = runner.invoke(main, args + ['--quiet'])
    assert 'pretrain' not in quiet.output and 'it/s' not in quiet.output
