import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time

import click
import numpy as np
import pytest
from click.testing import CliRunner

from vgdcn_pyg import ModelError
from vgdcn_pyg.cli import main

from .conftest import TINY, make_blobs

FAST = ['--epochs', '3', '--pretrain-epochs', '3', '--quiet',
        '--device', 'cpu']
#: FAST with a small network, for tests about files rather than the model.
SMALL = FAST + ['--hidden', '16,16', '--latent', '3']


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


def test_graph_and_fit_share_one_neighbour_default(runner):
    from vgdcn_pyg.models import MODELS
    default = MODELS['vgdcn'].default_n_neighbors
    graph_option, = [p for p in main.commands['graph'].params
                     if p.name == 'n_neighbors']
    assert graph_option.default == default
    fit_option, = [p for p in main.commands['fit'].params
                   if p.name == 'n_neighbors']
    assert f'{default} for vgdcn' in fit_option.help
    # -m/--neighbors (the kNN graph's M) is told apart from the sampling
    # fan-out num_neighbors.
    assert 'num_neighbors' in fit_option.help
    assert 'kNN graph' in graph_option.help


def test_version_comes_from_the_version_module(runner):
    from vgdcn_pyg.version import __version__
    result = runner.invoke(main, ['--version'])
    assert result.exit_code == 0 and __version__ in result.output


def _image(path, mode, size, value=128):
    from PIL import Image
    if mode == 'I;16':
        Image.fromarray(np.full(size[::-1], value * 257, np.uint16)).save(
            path)
    else:
        Image.new(mode, size, value if mode in ('L', 'P') else
                  (value, ) * len(mode)).save(path)


@pytest.fixture
def bad_inputs(tmp_path, blob_file):
    r"""One file or folder per kind of bad input (see docs/guarantees.rst),
    named by the placeholder the parametrised test uses."""
    d = tmp_path / 'inputs'
    d.mkdir()
    x = np.load(blob_file)['x']
    paths = {'blob': blob_file}

    def npy(name, array, **kwargs):
        np.save(d / name, array, **kwargs)
        paths[name.split('.')[0]] = d / name

    nan = np.random.rand(30, 4)
    nan[3, 1] = np.nan
    npy('nan.npy', nan)
    inf = np.random.rand(30, 4)
    inf[7, 0] = np.inf
    npy('inf.npy', inf)
    npy('narrow.npy', np.random.rand(30, 4))
    npy('strings.npy', np.array([['a', 'b']] * 30))
    npy('complex.npy', np.ones((30, 4), np.complex64))
    npy('objects.npy', np.array([[1, 'a']] * 30, dtype=object),
        allow_pickle=True)
    np.savez(d / 'nokey.npz', a=x, b=x)
    paths['nokey'] = d / 'nokey.npz'
    np.savez(d / 'shortlabels.npz', x=x, y=np.arange(100) % 3)
    paths['shortlabels'] = d / 'shortlabels.npz'
    (d / 'empty').mkdir()
    paths['empty'] = d / 'empty'
    corrupt = d / 'corrupt'
    corrupt.mkdir()
    for i in range(4):
        _image(corrupt / f'ok{i}.png', 'L', (8, 8), 40 * i)
    (corrupt / 'broken.png').write_bytes(b'\x89PNG\r\n\x1a\nnot really')
    paths['corrupt'] = corrupt
    textonly = d / 'textonly'
    textonly.mkdir()
    (textonly / 'notes.txt').write_text('not an image')
    paths['textonly'] = textonly
    single = d / 'single'
    single.mkdir()
    _image(single / 'only.png', 'RGB', (8, 8))
    paths['single'] = single
    paths['junk'] = d / 'junk.pt'
    paths['junk'].write_bytes(b'not a model')
    return paths


@pytest.fixture(scope='module')
def model_file(tmp_path_factory):
    x, y = make_blobs()
    path = tmp_path_factory.mktemp('model') / 'model.pt'
    from vgdcn_pyg import DeepClustering
    DeepClustering(n_clusters=3, **dict(TINY, epochs=2,
                                        pretrain_epochs=2)).fit(x).save(path)
    return path


#: (arguments, the words the one-line message must contain); {name} is a
#: file of the bad_inputs fixture. Every row is in docs/guarantees.rst.
BAD_INPUTS = [
    (['fit', 'no/such/file.npy'], 'no such file or folder'),
    (['fit', '{empty}'], 'no images found in folder'),
    (['fit', '{textonly}'], 'no images found in folder'),
    (['fit', '{corrupt}'], "cannot read image '"),
    (['fit', '{single}'], '1 sample is too few for 10 clusters'),
    (['fit', '{blob}', '-k', '500'], '120 samples are too few for 500'),
    (['fit', '{blob}', '-k', '120'], '120 samples are too few for 120'),
    (['fit', '{blob}', '-k', '3', '-m', '120'],
     'n_neighbors=120 must be in [1, 120)'),
    (['fit', '{blob}', '-k', '1'], "'--clusters': 1 is not in the range x>=2"),
    (['fit', '{nan}'], '1 NaN/inf value'),
    (['fit', '{inf}'], '1 NaN/inf value'),
    (['fit', '{strings}'], 'non-numeric dtype <U1'),
    (['fit', '{complex}'], 'non-numeric dtype complex64'),
    (['fit', '{objects}'], 'holds Python objects'),
    (['fit', '{nokey}'], 'has no feature array'),
    (['fit', '{shortlabels}'], '100 labels for 120 samples'),
    (['fit', '{blob}', '--image-size', 'axb'], 'WIDTHxHEIGHT'),
    (['fit', '{blob}', '--hidden', '32,x'], 'comma-separated positive widths'),
    (['fit', '{blob}', '--skip-bad-images'], 'image folders only'),
    (['fit', '{blob}', '-k', '3', '--resume'], 'no checkpoint to resume'),
    (['predict', '{junk}', '{blob}'], 'cannot read model file'),
    (['predict', '{truncated}', '{blob}'], 'cannot read model file'),
    (['predict', '{future}', '{blob}'], 'has model format 999'),
    (['predict', '{foreign}', '{blob}'], 'is not a vgdcn-pyg model file'),
    (['predict', '{model}', '{nan}'], '1 NaN/inf value'),
    (['predict', '{model}', '{narrow}'], 'X has 4 features, the model was '
                                      'fitted with 12'),
    (['sample', '{truncated}'], 'cannot read model file'),
]


def _model_variants(model_file, tmp_path):
    import torch
    data = model_file.read_bytes()
    paths = {'model': model_file}
    paths['truncated'] = tmp_path / 'truncated.pt'
    paths['truncated'].write_bytes(data[:len(data) // 2])
    state = torch.load(model_file, weights_only=False)
    state['format_version'] = 999
    paths['future'] = tmp_path / 'future.pt'
    torch.save(state, paths['future'])
    paths['foreign'] = tmp_path / 'foreign.pt'
    torch.save({'format': 'something-else'}, paths['foreign'])
    return paths


def _assert_clean_failure(result, out, message):
    r"""Non-zero exit, one ``error: ...`` line naming the problem, no
    traceback, and nothing written."""
    assert result.exit_code not in (0, None), result.output
    _no_traceback(result)
    errors = [line for line in result.stderr.splitlines()
              if line.startswith('error: ')]
    assert len(errors) == 1, result.stderr
    assert result.stderr.splitlines()[-1] == errors[0]
    assert message.lower() in errors[0].lower(), errors[0]
    assert not out.exists() or not any(out.iterdir()), list(out.iterdir())


@pytest.mark.parametrize('args, message', BAD_INPUTS,
                         ids=[' '.join(a) for a, _ in BAD_INPUTS])
def test_bad_input_one_line_and_nonzero_exit(runner, bad_inputs, model_file,
                                             tmp_path, args, message):
    paths = dict(bad_inputs, **_model_variants(model_file, tmp_path))
    args = [a.format(**paths) for a in args]
    out = tmp_path / 'out'
    command = args + ['--out', str(out if args[0] != 'sample' else
                                   out / 'x.png')]
    if args[0] == 'fit':
        command += FAST
    result = runner.invoke(main, command)
    assert result.exit_code == 2
    _assert_clean_failure(result, out, message)


def test_bad_image_is_skipped_on_request(runner, bad_inputs, tmp_path):
    out = tmp_path / 'out'
    result = runner.invoke(main, ['fit', str(bad_inputs['corrupt']), '-k',
                                  '2', '-m', '2', '--image-size', '4x4',
                                  '--hidden', '8,8', '--latent', '2',
                                  '--skip-bad-images', '--no-figures',
                                  '--out', str(out)] + FAST)
    assert result.exit_code == 0, result.output
    assert "warning: skipping cannot read image '" in result.stderr
    assert 'broken.png' in result.stderr
    rows = (out / 'labels.csv').read_text().splitlines()
    assert [r.split(',')[0] for r in rows[1:]] == [f'ok{i}.png'
                                                  for i in range(4)]


@pytest.mark.parametrize('color', [False, True])
def test_mixed_image_sizes_and_modes(runner, tmp_path, color):
    # RGB, RGBA, grey, 16-bit grey and palette images of different sizes in
    # one flat folder: all read, brought to one size and colour space.
    folder = tmp_path / 'mixed'
    folder.mkdir()
    kinds = [('RGB', (10, 7)), ('RGBA', (6, 9)), ('L', (8, 8)),
             ('I;16', (12, 5)), ('P', (7, 7))]
    for i in range(12):
        mode, size = kinds[i % len(kinds)]
        _image(folder / f'{i:02d}.png', mode, size, 20 * i)
    (folder / 'readme.txt').write_text('ignored: not an image')
    out = tmp_path / 'out'
    result = runner.invoke(main, ['fit', str(folder), '-k', '2', '-m', '3',
                                  '--image-size', '6x5', '--hidden', '8,8',
                                  '--latent', '2', '--out', str(out)] +
                           FAST + (['--color'] if color else []))
    assert result.exit_code == 0, result.output
    rows = (out / 'labels.csv').read_text().splitlines()
    assert len(rows) == 13
    import torch
    state = torch.load(out / 'model.pt', weights_only=True)
    assert state['n_features'] == 6 * 5 * (3 if color else 1)


def test_failed_output_writing_leaves_nothing(runner, blob_file, tmp_path,
                                              monkeypatch):
    # The last output (a figure) fails: labels.csv and model.pt, already
    # written, must not appear; an earlier run's results stay untouched.
    import errno
    from vgdcn_pyg import plotting
    out = tmp_path / 'out'
    args = ['fit', str(blob_file), '-k', '3', '-m', '4', '--out', str(out)]
    assert runner.invoke(main, args + SMALL + ['--no-figures']).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(plotting, 'plot_embedding', disk_full)
    result = runner.invoke(main, args + SMALL + ['--seed', '1'])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == \
        'error: No space left on device'
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    fresh = tmp_path / 'fresh'
    result = runner.invoke(main, args[:-1] + [str(fresh)] + SMALL)
    _assert_clean_failure(result, fresh, 'No space left on device')
    assert not fresh.exists()


@pytest.mark.parametrize('error, status, message', [
    (KeyboardInterrupt(), 130, 'error: interrupted by SIGINT'),
    (FloatingPointError('loss became nan at epoch 2; lower the learning '
                        'rate or check the input scaling'), 2,
     'error: loss became nan at epoch 2; lower the learning rate or check '
     'the input scaling'),
])
def test_errors_during_fit(runner, blob_file, tmp_path, monkeypatch, error,
                           status, message):
    from vgdcn_pyg.cluster import DeepClustering

    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr(DeepClustering, 'fit', fail)
    out = tmp_path / 'out'
    result = runner.invoke(main, ['fit', str(blob_file), '--out', str(out),
                                  '--checkpoint-every', '1'] + SMALL)
    assert result.exit_code == status
    # no checkpoint was written yet: no hint to resume
    assert result.stderr.splitlines()[-1] == message
    _assert_clean_failure(result, out, message)


def test_stale_temporaries_of_a_killed_run_are_removed(runner, blob_file,
                                                       tmp_path):
    out = tmp_path / 'out'
    out.mkdir()
    (out / '.tmp-abc-labels.csv').write_text('half')
    (out / '.tmp-stage-xyz').mkdir()
    (out / '.tmp-stage-xyz' / 'model.pt').write_bytes(b'half')
    result = runner.invoke(main, ['fit', str(blob_file), '-k', '3', '-m',
                                  '4', '--no-figures', '--out', str(out)] +
                           SMALL)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        'history.json', 'labels.csv', 'metrics.json', 'model.pt']


def test_help_lists_every_command(runner):
    result = runner.invoke(main, ['--help'])
    for command in ('fit', 'predict', 'graph', 'sample', 'sweep', 'benchmark'):
        assert command in result.output
    result = runner.invoke(main, ['fit', '--help'])
    for option in ('--clusters', '--model', '--eps', '--neighbors',
                   '--epochs', '--pretrain-epochs', '--seed', '--device',
                   '--image-size', '--out'):
        assert option in result.output


# ------------------------------------------------- interrupted runs, resumed
#: A run long enough to be killed in either phase (60 pretraining epochs of
#: two mini-batches, a graph, the warm-up, 60 joint epochs: a few seconds).
KILL_ARGS = ['-k', '3', '--hidden', '32,32', '--latent', '4',
             '--pretrain-epochs', '60', '--epochs', '60', '--seed', '0',
             '--device', 'cpu', '--quiet', '--no-figures']
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def _one_thread():
    r"""The killed run is a subprocess with OMP_NUM_THREADS=1; the runs in
    this process use one thread too, so that all do the same arithmetic
    (and sparse products do not crawl on a busy 2-core machine)."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def kill_data(tmp_path_factory):
    r"""300 x 20 blobs as .npy, and the outputs of an uninterrupted run
    without checkpoints."""
    folder = tmp_path_factory.mktemp('kill')
    rng = np.random.default_rng(0)
    centers = rng.uniform(0, 1, (3, 20))
    x = np.concatenate([c + 0.05 * rng.standard_normal((100, 20))
                        for c in centers]).astype(np.float32)
    np.save(folder / 'blobs.npy', x)
    with _one_thread():
        result = CliRunner().invoke(main, ['fit', str(folder / 'blobs.npy'),
                                           '--out', str(folder / 'ref')] +
                                    KILL_ARGS)
    assert result.exit_code == 0, result.output
    return folder / 'blobs.npy', folder / 'ref'


def _checkpoint(out):
    import torch
    return torch.load(out / 'checkpoint.pt', weights_only=True)


def _signal_once_checkpointed(data, out, phase, epoch, signum):
    r"""Starts ``vgdcn fit --checkpoint-every 1`` in a subprocess, polls its
    checkpoint and sends :obj:`signum` as soon as one of :obj:`phase` at
    :obj:`epoch` or later exists. Returns ``(returncode, stderr)``."""
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [ROOT] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    proc = subprocess.Popen(
        [sys.executable, '-m', 'vgdcn_pyg.cli', 'fit', str(data), '--out',
         str(out), '--checkpoint-every', '1'] + KILL_ARGS,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = None
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            assert proc.poll() is None, 'the run ended before the signal: ' \
                + proc.stderr.read()
            try:
                stamp = os.stat(out / 'checkpoint.pt').st_mtime_ns
            except FileNotFoundError:
                stamp = None
            if stamp is not None and stamp != seen:
                seen = stamp
                state = _checkpoint(out)
                if state['phase'] == phase and state['epoch'] >= epoch:
                    proc.send_signal(signum)
                    break
            time.sleep(0.01)
        else:
            pytest.fail(f'no {phase} checkpoint within 300 s')
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, stderr


def _resume_matches_uninterrupted(data, out, reference):
    with _one_thread():
        result = CliRunner().invoke(main, ['fit', str(data), '--out',
                                           str(out), '--resume'] + KILL_ARGS)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        'history.json', 'labels.csv', 'model.pt']  # checkpoint removed
    for name in ('labels.csv', 'history.json'):
        assert (out / name).read_bytes() == (reference / name).read_bytes()


@pytest.mark.parametrize('phase', ['pretrain', 'joint'])
def test_sigkill_then_resume_gives_uninterrupted_labels(kill_data, tmp_path,
                                                        phase):
    data, reference = kill_data
    out = tmp_path / 'out'
    returncode, _ = _signal_once_checkpointed(data, out, phase, 3,
                                              signal.SIGKILL)
    assert returncode == -signal.SIGKILL
    assert _checkpoint(out)['phase'] == phase
    # Only the checkpoint survives, maybe with the temporary file of one
    # being written at the kill (the resumed run removes it).
    left = {p.name for p in out.iterdir()} - {'checkpoint.pt'}
    assert all(name.startswith('.tmp-') for name in left), left
    _resume_matches_uninterrupted(data, out, reference)


def test_sigterm_exits_cleanly_and_resumes(kill_data, tmp_path):
    data, reference = kill_data
    out = tmp_path / 'out'
    returncode, stderr = _signal_once_checkpointed(data, out, 'joint', 2,
                                                   signal.SIGTERM)
    assert returncode == 128 + signal.SIGTERM, stderr  # says why if not
    assert 'Traceback' not in stderr
    assert stderr.splitlines()[-1] == (
        f'error: interrupted by SIGTERM; continue with --resume '
        f'(checkpoint in {out / "checkpoint.pt"})')
    assert sorted(p.name for p in out.iterdir()) == ['checkpoint.pt']
    _resume_matches_uninterrupted(data, out, reference)


def test_resume_refuses_other_settings(kill_data, tmp_path):
    data, _ = kill_data
    out = tmp_path / 'out'
    returncode, _ = _signal_once_checkpointed(data, out, 'pretrain', 1,
                                              signal.SIGKILL)
    before = _checkpoint(out)['epoch']
    args = ['fit', str(data), '--out', str(out), '--resume'] + KILL_ARGS
    result = CliRunner().invoke(main, [a if a != '60' else '61'
                                       for a in args])
    assert result.exit_code == 2
    _no_traceback(result)
    assert result.stderr.splitlines()[-1].startswith(
        f'error: checkpoint {out / "checkpoint.pt"} is from a fit with other '
        f'settings or data (epochs 60 -> 61; pretrain_epochs 60 -> 61)')
    assert _checkpoint(out)['epoch'] == before  # left as it was
    assert not (out / 'labels.csv').exists()
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
    (['fit', '{blob}', '--gcn-weight', '0'], 'gcn-weight'),
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


@pytest.mark.parametrize('command', ['fit', 'benchmark'])
def test_gcn_weight_option_reaches_the_estimator(runner, blob_file, tmp_path,
                                                 monkeypatch, command):
    from vgdcn_pyg.cluster import DeepClustering
    seen = []

    def record(self, *args, **kwargs):
        seen.append((self.model, self.gcn_weight))
        raise ModelError('stopped by the test')
    monkeypatch.setattr(DeepClustering, 'fit', record)
    args = [command, str(blob_file), '--gcn-weight', '30', '--out',
            str(tmp_path / 'out'), '--device', 'cpu']
    args += ['--quiet'] if command == 'fit' else ['--quick', '--models',
                                                   'vgdcn']
    result = runner.invoke(main, args)
    assert result.exit_code == 2
    assert seen == [('vgdcn', 30.0)]


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
