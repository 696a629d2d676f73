r"""The ``vgdcn`` command line.

Every user error (bad data, bad option, unreadable model) ends with a one-line
``error: ...`` on stderr and exit status 2, never a traceback; an interrupt
(Ctrl-C, SIGTERM) ends with ``error: interrupted ...`` and status 130 / 143.
The output files of a command appear together at its end or not at all
(:func:`vgdcn_pyg.io.staged_output_dir`), and what a killed run left behind
is cleared by the next run into the same folder
(:func:`vgdcn_pyg.io.remove_stale_temporaries`). Warnings are printed as
one-line ``warning: ...``.

This module holds the commands only; the work is done by the layers below
it (:mod:`vgdcn_pyg.cluster`, :mod:`vgdcn_pyg.experiments`,
:mod:`vgdcn_pyg.io`, ...).
"""
import contextlib
import functools
import os
import shlex
import signal
import sys
import time
import warnings
from typing import Optional

import click
import torch

from . import plotting
from .cluster import DeepClustering
from .datasets import FEATURES, ClusteringData, ImageFeatures, load_dataset
from .evaluation import evaluate
from .exceptions import DataError, ModelError, VGDCNError
from .experiments import (PUBLISHED_USPS, QUICK, check_models, run_benchmark,
                          run_sweep, write_benchmark, write_sweep)
from .graph import graph_stats, knn_heat_kernel_graph
from .io import (defer_signal, remove_stale_temporaries, save_csv, save_json,
                 save_torch, staged_output_dir)
from .models import MODELS
from .validation import resolve_device
from .training.trainer import MIN_PRETRAIN_STEPS, STEPS_PER_PRETRAIN_EPOCH
from .version import __version__

DATA_HELP = ('"usps", "flavia10" (leaves), "coil20" (objects) or "isolet" '
             '(speech features), all bundled; an image folder (one '
             'sub-folder per class, or flat), or an array file (.npy, .npz, '
             '.csv, USPS-layout .h5).')


#: Files `vgdcn fit` writes only in some runs (labels known, figures on).
FIT_OPTIONAL_OUTPUTS = ('metrics.json', 'loss.png', 'quality.png',
                        'latent.png', 'clusters.png', 'generated.png')
#: What `vgdcn sweep` and `vgdcn benchmark` write into --out.
SWEEP_OUTPUTS = ('sweep.md', 'sweep.csv', 'runs.csv', 'sweep.png')
BENCHMARK_OUTPUTS = ('benchmark.md', 'benchmark.json', 'quality.png')
#: Name of the checkpoint `vgdcn fit --checkpoint-every` keeps in --out.
CHECKPOINT_NAME = 'checkpoint.pt'


class Interrupted(BaseException):
    r"""Raised by the SIGTERM handler. A :class:`BaseException`, like
    :class:`KeyboardInterrupt`, so that no ``except Exception`` swallows it
    and every atomic write on the way out removes its temporary file."""
    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _fail(message: str, status: int = 2):
    click.echo(f'error: {message}', err=True)
    sys.exit(status)


def _show_warning(message, category, filename, lineno, file=None,
                  line=None):
    click.echo(f'warning: {str(message).splitlines()[0]}', err=True)


@contextlib.contextmanager
def _sigterm_raises():
    r"""Turns SIGTERM into :class:`Interrupted` (only possible in the main
    thread; elsewhere SIGTERM keeps its default action)."""
    def handler(signum, frame):
        # Not inside the writing of a file (a checkpoint, say): the
        # exception would come out of the writer's clean-up as another one.
        if not defer_signal(signum):
            raise Interrupted(signum)
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def user_errors(func):
    r"""Turns the errors a user can cause into a one-line message, and
    interrupts into ``error: interrupted`` with status 128 + signal."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        def interrupted(signum: int):
            message = f'interrupted by {signal.Signals(signum).name}'
            checkpoint = os.path.join(kwargs.get('out') or '',
                                      CHECKPOINT_NAME)
            if (kwargs.get('checkpoint_every') or kwargs.get('resume')) and \
                    os.path.isfile(checkpoint):
                message += (f'; continue with --resume (checkpoint in '
                            f'{checkpoint})')
            _fail(message, 128 + signum)
        try:
            with _sigterm_raises(), warnings.catch_warnings():
                warnings.showwarning = _show_warning
                return func(*args, **kwargs)
        except Interrupted as e:
            interrupted(e.signum)
        except KeyboardInterrupt:
            interrupted(signal.SIGINT)
        except VGDCNError as e:
            _fail(str(e).splitlines()[0])
        except ImportError as e:
            _fail(f'{e} (install the missing optional dependency)')
        except FloatingPointError as e:
            _fail(str(e))
        except OSError as e:  # missing file, no permission, disk full ...
            where = f': {e.filename}' if e.filename else ''
            _fail(f'{e.strerror or e}{where}')
        except (MemoryError, torch.cuda.OutOfMemoryError):
            _fail('out of memory; try --device cuda, fewer samples or '
                  'smaller --image-size')
    return wrapper


def _with_data_help(func):
    r"""Puts the description of DATA into a command's help text."""
    func.__doc__ = func.__doc__.replace('{data_help}', DATA_HELP)
    return func


def _image_size(value: Optional[str]):
    if value is None:
        return None
    try:
        parts = [int(v) for v in value.lower().split('x')]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1:
        raise VGDCNError(f'--image-size {value}: use WIDTHxHEIGHT, e.g. '
                         f'64x48, or one number')
    return tuple(parts)


def _hidden(value: Optional[str]):
    if value is None:
        return None
    try:
        widths = tuple(int(v) for v in value.split(','))
    except ValueError:
        widths = ()
    if not widths or min(widths) < 1:
        raise VGDCNError(f'--hidden {value}: use comma-separated positive '
                         f'widths, e.g. 500,500,2000')
    return widths


def _load(data: str, image_size, grayscale: bool, skip_bad_images=False):
    kwargs = {}
    if image_size is not None:
        kwargs['image_size'] = image_size
    if not grayscale:
        kwargs['grayscale'] = False
    if skip_bad_images:
        if not os.path.isdir(data):
            raise VGDCNError('--skip-bad-images applies to image folders '
                             'only')
        kwargs['on_error'] = 'skip'
    return load_dataset(data, **kwargs)


def _featurize(dataset, features: str):
    r"""``(samples to cluster, fitted ImageFeatures)`` of a data set."""
    extractor = ImageFeatures(features, dataset.image_shape)
    return extractor.fit_transform(dataset.x), extractor


def _split(text: str, kind, name: str) -> list:
    r"""A comma-separated list of numbers, e.g. ``0.1,0.3`` or ``0,1,2``."""
    items = [t.strip() for t in text.split(',') if t.strip()]
    try:
        values = [kind(t) for t in items]
    except ValueError:
        raise VGDCNError(f'{name} must be a comma-separated list of '
                         f'{"integers" if kind is int else "numbers"}, got '
                         f'{text!r}') from None
    if not values:
        raise VGDCNError(f'{name} is empty')
    if len(set(values)) != len(values):
        raise VGDCNError(f'{name} lists a value twice: {text!r}')
    return values


def _command_line(ctx: click.Context) -> str:
    r"""The command as typed, rebuilt from its parsed parameters (options
    only when they differ from their default), for the result tables."""
    words = ['vgdcn', ctx.info_name]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if isinstance(param, click.Argument):
            if value is not None:
                words.append(str(value))
        elif value is not None and value != param.get_default(ctx):
            if param.is_flag:
                flags = param.opts if value else param.secondary_opts
                words += flags[:1]
            else:
                words += [param.opts[-1] if param.opts[-1].startswith('--')
                          else param.opts[0], str(value)]
    return shlex.join(words)


def _write_labels(path, names, labels, confidence):
    save_csv(path, ['sample', 'cluster', 'confidence'],
             ((n, int(c), f'{p:.4f}')
              for n, c, p in zip(names, labels, confidence)))


class _OneLineErrors(click.Group):
    r"""A command group whose usage errors (unknown option, bad value, ...)
    are one line, ``error: ...``, with exit status 2, like every other
    error of the command line."""
    def main(self, args=None, prog_name=None, complete_var=None,
             standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False,
                                **extra)
        try:
            code = super().main(args, prog_name, complete_var, False,
                                **extra)
        except click.UsageError as e:
            hint = f" (see '{e.ctx.command_path} --help')" if e.ctx else ''
            _fail(f'{e.format_message()}{hint}')
        except click.ClickException as e:
            _fail(e.format_message())
        except click.Abort:
            _fail('interrupted')
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=_OneLineErrors,
             context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(__version__)
def main():
    r"""Deep clustering of images and feature vectors with VGDCN (VaDE + a
    GCN over a kNN heat-kernel graph) and its baselines."""


#: What -m/--neighbors is, in fit, sweep, benchmark and graph alike: the
#: estimator's n_neighbors (the thesis's M).
NEIGHBORS_HELP = ('M, the number of nearest neighbours of each sample in the '
                  'kNN graph')
FEATURES_HELP = ('Input of the auto-encoder: pixels, hog (gradient '
                 'histograms) or shape (silhouette and texture descriptors, '
                 'rotation invariant); hog and shape need images and '
                 'scikit-image, and are standardised.')


def _fit_option_list():
    r"""``(parameter name, click option)`` of the options shared by fit,
    sweep and benchmark."""
    return [
        ('n_clusters', click.option(
            '-k', '--clusters', 'n_clusters', type=click.IntRange(min=2),
            default=None, help='Number of clusters K (default: the number '
            'of classes when labels are known, else 10).')),
        ('model', click.option(
            '--model', type=click.Choice(list(MODELS)), default='vgdcn',
            show_default=True, help='VGDCN or a baseline: vade (VAE + GMM), '
            'vae_kmeans, ae_kmeans, dec, idec, sdcn.')),
        ('eps', click.option(
            '--eps', type=click.FloatRange(0, 1), default=None,
            help='Fusion weight epsilon of the GCN branch, 0..1: the share '
            'of the auto-encoder\'s features in each GCN layer (graph '
            'models; default 0.5).')),
        ('gcn_weight', click.option(
            '--gcn-weight', type=click.FloatRange(min=0, min_open=True),
            default=None,
            help='Weight lambda of the self-supervision term KL(P || Z_G) '
            'against the negative ELBO (vgdcn; default 1000) or of '
            'KL(P || Z_G) (sdcn; default 0.01).')),
        ('n_neighbors', click.option(
            '-m', '--neighbors', 'n_neighbors', type=click.IntRange(min=1),
            default=None, help=NEIGHBORS_HELP + ' (graph models; default '
            + ', '.join(f'{cls.default_n_neighbors} for {name}'
                        for name, cls in MODELS.items() if cls.requires_graph)
            + '). Not the per-hop sampling fan-out of mini-batch training '
            '(num_neighbors, Python API only).')),
        ('epochs', click.option(
            '--epochs', type=click.IntRange(min=0), default=None,
            help='Joint training epochs (default 50; 200 for sdcn).')),
        ('pretrain_epochs', click.option(
            '--pretrain-epochs', type=click.IntRange(min=0), default=None,
            help='Auto-encoder pretraining epochs (default: enough for '
            f'{MIN_PRETRAIN_STEPS} mini-batch steps, and at least '
            f'{MIN_PRETRAIN_STEPS // STEPS_PER_PRETRAIN_EPOCH}).')),
        ('hidden', click.option(
            '--hidden', default=None,
            help='Encoder widths, comma-separated (default: 500,500,2000).')),
        ('latent', click.option(
            '--latent', type=click.IntRange(min=1), default=None,
            help='Latent dimension (default: 10).')),
        ('seed', click.option(
            '--seed', type=int, default=0, show_default=True,
            help='Random seed (same seed, same machine, same labels).')),
        ('device', click.option(
            '--device', default='auto', show_default=True,
            help='cpu, cuda, cuda:N or auto (CUDA when present).')),
        ('image_size', click.option(
            '--image-size', default=None,
            help='Resize images to WIDTHxHEIGHT (aspect kept, padded), '
            'e.g. 64x48 (image folders; default 64x48).')),
        ('color', click.option(
            '--color', is_flag=True,
            help='Keep colour (default: greyscale).')),
        ('skip_bad_images', click.option(
            '--skip-bad-images', is_flag=True,
            help='Skip image files that cannot be read, with a warning '
            'naming each (default: stop and name it).')),
        ('features', click.option(
            '--features', type=click.Choice(list(FEATURES)),
            default='pixels', show_default=True, help=FEATURES_HELP)),
        ('quiet', click.option(
            '--quiet', is_flag=True, help='No progress output.')),
    ]


def _fit_options(func=None, *, exclude=()):
    r"""Adds the options shared by fit, sweep and benchmark, less
    :obj:`exclude` (parameter names)."""
    if func is None:
        return functools.partial(_fit_options, exclude=exclude)
    for name, option in reversed(_fit_option_list()):
        if name not in exclude:
            func = option(func)
    return func


def _estimator_params(n_clusters, model, eps, n_neighbors, epochs,
                      pretrain_epochs, seed, device, quiet, hidden=None,
                      latent=None, gcn_weight=None):
    params = dict(n_clusters=n_clusters, model=model, random_state=seed,
                  device=device, verbose=not quiet)
    for name, value in (('eps', eps), ('gcn_weight', gcn_weight),
                        ('n_neighbors', n_neighbors),
                        ('epochs', epochs),
                        ('pretrain_epochs', pretrain_epochs),
                        ('hidden_channels', _hidden(hidden)),
                        ('latent_channels', latent)):
        if value is not None:
            params[name] = value
    return params


@main.command()
@click.argument('data')
@_fit_options
@click.option('-o', '--out', type=click.Path(file_okay=False),
              default='vgdcn-out', show_default=True,
              help='Output folder (created).')
@click.option('--figures/--no-figures', default=True, show_default=True,
              help='Write PNG figures (curves, clusters, latent map).')
@click.option('--checkpoint-every', type=click.IntRange(min=1), default=None,
              metavar='N', help='Write OUT/checkpoint.pt every N '
              'pretraining and every N joint epochs (deleted at the end).')
@click.option('--resume', is_flag=True,
              help='Continue an interrupted run from OUT/checkpoint.pt '
              '(same DATA and options); the labels are those of an '
              'uninterrupted run.')
@user_errors
@_with_data_help
def fit(data, n_clusters, model, eps, gcn_weight, n_neighbors, epochs,
        pretrain_epochs, hidden, latent, seed, device, image_size, color,
        skip_bad_images, features, quiet, out, figures, checkpoint_every,
        resume):
    r"""Cluster DATA and write the results into --out.

    DATA is {data_help}

    Shows progress bars for pretraining, the kNN graph and initial
    partition, and training (not with --quiet). Writes labels.csv (sample,
    cluster, confidence), model.pt (for `vgdcn predict` and `vgdcn
    sample`), history.json (losses per epoch, and metrics when labels are
    known) and metrics.json (ACC, NMI, ARI, F1, purity; only when labels are
    known, which are never used for training), and figures: loss.png,
    quality.png (with labels), latent.png (t-SNE), clusters.png (images of
    each cluster) and generated.png (images generated per cluster, for
    vgdcn and vade on pixels). They appear together when the run succeeds;
    a failed or interrupted run adds none (only the checkpoint, with
    --checkpoint-every).
    """
    remove_stale_temporaries(out)
    dataset = _load(data, _image_size(image_size), not color,
                    skip_bad_images)
    x, extractor = _featurize(dataset, features)
    if n_clusters is None:
        # One class (or none known) says nothing about K.
        n_clusters = dataset.n_classes if (dataset.n_classes or 0) >= 2 \
            else 10
    est = DeepClustering(**_estimator_params(
        n_clusters, model, eps, n_neighbors, epochs, pretrain_epochs, seed,
        device, quiet, hidden, latent, gcn_weight))
    checkpoint = os.path.join(out, CHECKPOINT_NAME) \
        if checkpoint_every or resume else None
    start = time.perf_counter()
    est.fit(x, dataset.y, checkpoint=checkpoint,
            checkpoint_every=checkpoint_every, resume=resume)
    seconds = time.perf_counter() - start
    summary = f'{dataset.n_samples} samples -> {n_clusters} clusters ' \
              f'({model}) in {seconds:.1f} s'
    # A rerun into the same folder must not leave an earlier run's metrics
    # or figures beside the new results.
    with staged_output_dir(out, replaces=FIT_OPTIONAL_OUTPUTS) as stage:
        _write_labels(os.path.join(stage, 'labels.csv'), dataset.names,
                      est.labels_, est.proba_.max(-1))
        est.save(os.path.join(stage, 'model.pt'), metadata={
            'features': extractor.state(),
            'image_shape': None if dataset.image_shape is None else
            list(dataset.image_shape)})
        save_json(est.history_, os.path.join(stage, 'history.json'))
        if dataset.y is not None:
            metrics = evaluate(dataset.y, est.labels_)
            metrics.update(model=model, seconds=seconds, seed=seed,
                           features=features, n_samples=dataset.n_samples,
                           n_clusters=n_clusters)
            save_json(metrics, os.path.join(stage, 'metrics.json'))
            summary += ': ' + ', '.join(f'{k.upper()} {metrics[k]:.4f}'
                                        for k in ('acc', 'nmi', 'ari'))
        if figures:
            _fit_figures(est, dataset, model, features, stage)
    click.echo(summary)
    click.echo(f'results in {out}/')


def _fit_figures(est, dataset, model, features, out):
    if est.history_:
        plotting.plot_loss(est.history_, os.path.join(out, 'loss.png'),
                           title=f'{model}: loss terms per epoch')
        if 'acc' in est.history_[0]:
            plotting.plot_history({model: est.history_},
                                  os.path.join(out, 'quality.png'),
                                  title=f'{model}: quality per epoch '
                                  f'(labels only score)')
    plotting.plot_embedding(est.embedding_, est.labels_,
                            os.path.join(out, 'latent.png'),
                            random_state=est.random_state or 0)
    if dataset.image_shape is not None:
        plotting.plot_cluster_grid(dataset.x, dataset.image_shape,
                                   est.labels_,
                                   os.path.join(out, 'clusters.png'),
                                   y=dataset.y,
                                   class_names=dataset.class_names)
        # Generated samples are images only when the model saw pixels.
        if hasattr(est.model_, 'sample') and features == 'pixels':
            plotting.save_image_grid(
                est.sample(8), dataset.image_shape,
                os.path.join(out, 'generated.png'),
                row_titles=[f'cluster {c}' for c in range(est.n_clusters)],
                title='Images generated per cluster')


def _model_features(est, dataset):
    r"""The samples of :obj:`dataset` as the saved model saw its training
    data (the same feature extraction and standardisation)."""
    state = est.metadata_.get('features')
    if not state or state['kind'] == 'pixels':
        return dataset.x
    shape = tuple(state['image_shape'])
    if dataset.image_shape is None or tuple(dataset.image_shape) != shape:
        got = 'plain vectors' if dataset.image_shape is None else \
            f'images of shape {tuple(dataset.image_shape)}'
        raise DataError(f'the model was fitted on {state["kind"]} features '
                        f'of images of shape {shape}; DATA holds {got}')
    return ImageFeatures.from_state(state).transform(dataset.x)


@main.command()
@click.argument('model_path', metavar='MODEL', type=click.Path())
@click.argument('data')
@click.option('-o', '--out', type=click.Path(file_okay=False),
              default='vgdcn-predict', show_default=True,
              help='Output folder (created).')
@click.option('--image-size', default=None,
              help='Resize images to WIDTHxHEIGHT (must match the model).')
@click.option('--color', is_flag=True, help='Keep colour.')
@click.option('--device', default=None,
              help='Device to run on (default: the one saved).')
@user_errors
def predict(model_path, data, out, image_size, color, device):
    r"""Assign the samples of DATA to the clusters of a saved MODEL (graph
    models connect them to the training graph by kNN)."""
    remove_stale_temporaries(out)
    est = DeepClustering.load(model_path, device=device)
    dataset = _load(data, _image_size(image_size), not color)
    proba = est.predict_proba(_model_features(est, dataset))
    labels = proba.argmax(-1)
    with staged_output_dir(out, replaces=('metrics.json', )) as stage:
        _write_labels(os.path.join(stage, 'labels.csv'), dataset.names,
                      labels, proba.max(-1))
        if dataset.y is not None:
            save_json(evaluate(dataset.y, labels),
                      os.path.join(stage, 'metrics.json'))
    click.echo(f'{len(labels)} samples assigned; results in {out}/')


@main.command()
@click.argument('data')
@click.option('-m', '--neighbors', 'n_neighbors', type=click.IntRange(min=1),
              default=MODELS['vgdcn'].default_n_neighbors, show_default=True,
              help=NEIGHBORS_HELP + ' (default: that of the vgdcn model, '
              'as in vgdcn fit).')
@click.option('--backend', default='auto', show_default=True,
              type=click.Choice(['auto', 'torch', 'torch_cluster', 'faiss']),
              help='kNN back end.')
@click.option('--device', default='cpu', show_default=True,
              help='Where to search (cpu, cuda).')
@click.option('--image-size', default=None, help='WIDTHxHEIGHT for images.')
@click.option('--color', is_flag=True, help='Keep colour.')
@click.option('-o', '--out', type=click.Path(dir_okay=False), default=None,
              help='Save the graph (a PyG Data) to this .pt file.')
@user_errors
def graph(data, n_neighbors, backend, device, image_size, color, out):
    r"""Build the kNN heat-kernel graph of DATA and print its statistics."""
    dataset = _load(data, _image_size(image_size), not color)
    x = torch.from_numpy(dataset.x).to(resolve_device(device))
    start = time.perf_counter()
    g = knn_heat_kernel_graph(x, n_neighbors=n_neighbors, backend=backend,
                              y=dataset.y)
    seconds = time.perf_counter() - start
    stats = graph_stats(g)
    stats['seconds'] = round(seconds, 3)
    for key, value in stats.items():
        click.echo(f'{key:>16}: {value}')
    if out:
        save_torch(g.cpu(), out)
        click.echo(f'graph saved to {out}')


@main.command()
@click.argument('model_path', metavar='MODEL', type=click.Path())
@click.option('-n', '--per-cluster', type=click.IntRange(min=1), default=8,
              show_default=True, help='Images generated per cluster.')
@click.option('--seed', type=int, default=0, show_default=True,
              help='Random seed of the generated latent codes.')
@click.option('-o', '--out', type=click.Path(dir_okay=False),
              default='samples.png', show_default=True,
              help='PNG grid, one row per cluster.')
@click.option('--image-shape', default=None,
              help='HEIGHTxWIDTH of one image (default: the shape of the '
              'training images, else square).')
@click.option('--device', default=None,
              help='Device to run on (default: the one saved).')
@user_errors
def sample(model_path, per_cluster, seed, out, image_shape, device):
    r"""Generate new images of every cluster from a saved VGDCN/VaDE MODEL
    (z ~ N(mu_c, sigma_c^2), decoded)."""
    est = DeepClustering.load(model_path, device=device)
    kind = (est.metadata_.get('features') or {}).get('kind', 'pixels')
    if kind != 'pixels':
        raise VGDCNError(f'the model was fitted on {kind} features, so what '
                         f'it generates are {kind} descriptors, not images')
    images = est.sample(per_cluster, random_state=seed)
    d = images.shape[-1]
    saved = est.metadata_.get('image_shape')
    if image_shape is None and saved is not None:
        shape = tuple(saved)
    elif image_shape:
        try:
            shape = tuple(int(v) for v in image_shape.lower().split('x'))
        except ValueError:
            raise VGDCNError('--image-shape must be HEIGHTxWIDTH, e.g. '
                             '16x16') from None
        if len(shape) != 2 or shape[0] * shape[1] != d:
            raise VGDCNError(f'--image-shape {image_shape} does not hold '
                             f'the {d} values the model generates')
    else:
        side = int(round(d ** 0.5))
        if side * side != d:
            raise VGDCNError(f'{d} features are not a square image; give '
                             f'--image-shape HEIGHTxWIDTH')
        shape = (side, side)
    plotting.save_image_grid(
        images, shape, out,
        row_titles=[f'cluster {c}' for c in range(len(images))],
        title='Generated images per cluster')
    click.echo(f'{images.shape[0]} x {per_cluster} images written to {out}')


def _experiment_params(n_clusters, epochs, pretrain_epochs, device, quick,
                       **fixed):
    r"""Estimator parameters shared by the runs of a sweep or benchmark;
    --quick shortens every phase unless an option says otherwise."""
    params = dict(QUICK) if quick else {}
    params.update(n_clusters=n_clusters, device=device, verbose=False)
    for name, value in dict(fixed, epochs=epochs,
                            pretrain_epochs=pretrain_epochs).items():
        if value is not None:
            params[name] = value
    return params


def _progress(quiet: bool):
    def report(run):
        if quiet:
            return
        what = f'{run["param"]}={run["value"]}' if 'param' in run else \
            run['model']
        click.echo(f'seed {run["seed"]} {what:>12}: ACC {run["acc"]:.4f} '
                   f'NMI {run["nmi"]:.4f} ARI {run["ari"]:.4f} '
                   f'({run["seconds"]:.0f} s)')
    return report


def _experiment_command(default_out: str):
    r"""The options and wrappers that sweep and benchmark share: --quick,
    -o/--out (written through a staging folder), the click context (for the
    command line recorded with the results), one-line errors and the DATA
    help."""
    def decorate(func):
        func = _with_data_help(func)
        func = user_errors(func)
        func = click.pass_context(func)
        func = click.option(
            '-o', '--out', type=click.Path(file_okay=False),
            default=default_out, show_default=True,
            help='Output folder (created at the end).')(func)
        return click.option(
            '--quick', is_flag=True,
            help='Smoke run: the first seed only, 5 pretraining, 5 warm-up '
            'and 5 joint epochs (options given win).')(func)
    return decorate


def _seeds(seeds_text: str, quick: bool):
    r"""The --seeds of a sweep or benchmark; --quick keeps the first."""
    seeds = _split(seeds_text, int, '--seeds')
    return seeds[:1] if quick else seeds


def _experiment_data(data, out, image_size, color, features,
                     skip_bad_images, what, n_clusters, epochs,
                     pretrain_epochs, device, quick, hidden, latent,
                     **fixed):
    r"""What a sweep or benchmark starts from: clears a killed run's
    temporaries from --out, loads the labelled DATA with its features and
    builds the estimator parameters shared by its runs. Returns
    ``(dataset, samples, params)``."""
    remove_stale_temporaries(out)
    dataset, samples = _labelled_features(data, image_size, color, features,
                                          what, skip_bad_images)
    params = _experiment_params(n_clusters or dataset.n_classes, epochs,
                                pretrain_epochs, device, quick,
                                hidden_channels=_hidden(hidden),
                                latent_channels=latent, **fixed)
    return dataset, samples, params


def _labelled_features(data, image_size, color, features, what,
                       skip_bad_images=False):
    r"""Loads DATA for a sweep or benchmark: it must have labels."""
    dataset = _load(data, _image_size(image_size), not color,
                    skip_bad_images)
    if dataset.y is None:
        raise DataError(f'{what} needs labels to score its runs, and {data} '
                        f'has none (use a bundled data set, an image folder '
                        f'with one sub-folder per class, or an array file '
                        f'with labels)')
    x, _ = _featurize(dataset, features)
    return dataset, ClusteringData(x=x, y=dataset.y, names=dataset.names,
                                   class_names=dataset.class_names,
                                   source=dataset.source)


def _data_name(data: str, features: str) -> str:
    name = os.path.basename(os.path.normpath(data)) or data
    return name if features == 'pixels' else f'{name}, {features} features'


@main.command()
@click.argument('data')
@click.option('--param', type=click.Choice(['eps', 'M']), required=True,
              help='The setting to vary: eps (fusion weight of the GCN '
              'branch, thesis Fig. 4.4b) or M (neighbours per sample in the '
              'kNN graph, Fig. 4.5).')
@click.option('--values', 'values_text', required=True, metavar='V1,V2,..',
              help='Comma-separated values, e.g. 0,0.1,0.3,0.5,0.7,0.9,1 '
              'for eps or 1,3,5,10 for M.')
@click.option('--seeds', 'seeds_text', default='0,1,2', show_default=True,
              metavar='S1,S2,..',
              help='Comma-separated random seeds; one auto-encoder is '
              'pretrained per seed and shared by all values.')
@_fit_options(exclude=('seed', ))
@_experiment_command(default_out='vgdcn-sweep')
def sweep(ctx, data, param, values_text, seeds_text, n_clusters, model, eps,
          gcn_weight, n_neighbors, epochs, pretrain_epochs, hidden, latent,
          device, image_size, color, skip_bad_images, features, quiet, quick,
          out):
    r"""Sweep eps or M over seeds on labelled DATA (the thesis's Fig. 4.4b
    and 4.5) and write the results into --out.

    DATA is {data_help}
    Its labels only score the runs; a sweep needs them.

    Writes sweep.md and sweep.csv (mean +- std over seeds of ACC, NMI, ARI
    per value, last epoch), runs.csv (every run) and sweep.png (ACC and NMI
    against the value, error bars over seeds).
    """
    values = _split(values_text, int if param == 'M' else float, '--values')
    seeds = _seeds(seeds_text, quick)
    fixed = {'eps': eps, 'M': n_neighbors}[param]
    if fixed is not None:
        raise ModelError(f'{param} is swept by --values; drop '
                         f'{"--eps" if param == "eps" else "-m/--neighbors"}')
    dataset, samples, params = _experiment_data(
        data, out, image_size, color, features, skip_bad_images, 'a sweep',
        n_clusters, epochs, pretrain_epochs, device, quick, hidden, latent,
        model=model, eps=eps, gcn_weight=gcn_weight, n_neighbors=n_neighbors)
    runs = run_sweep(samples, param, values, seeds, params,
                     on_run=_progress(quiet))
    with staged_output_dir(out, replaces=SWEEP_OUTPUTS) as stage:
        table = write_sweep(runs, stage, model, _command_line(ctx),
                            device=device,
                            data_name=_data_name(data, features))
    click.echo(table)
    click.echo(f'results in {out}/')


@main.command()
@click.argument('data', default='usps', required=False)
@click.option('--models', 'models_text', default=None,
              metavar='M1,M2,..',
              help='Comma-separated models to compare (default: all, '
              f'{",".join(MODELS)}).')
@click.option('--seeds', 'seeds_text', default='0,1,2,3,4',
              show_default=True, metavar='S1,S2,..',
              help='Comma-separated random seeds.')
@click.option('--share-pretraining/--own-pretraining', default=False,
              show_default=True,
              help='Pretrain one auto-encoder per seed and start every model '
              'from it (faster; differences then come from the clustering '
              'phase alone), or let every model pretrain its own, as a user '
              'fitting it would (the published table).')
@_fit_options(exclude=('seed', 'model'))
@_experiment_command(default_out='vgdcn-benchmark')
def benchmark(ctx, data, models_text, seeds_text, share_pretraining,
              n_clusters, eps, gcn_weight, n_neighbors, epochs,
              pretrain_epochs, hidden, latent, device, image_size, color,
              skip_bad_images, features, quiet, quick, out):
    r"""Compare VGDCN with its baselines over seeds on labelled DATA
    (default: usps) and write the results into --out.

    DATA is {data_help}
    Its labels only score the runs; a benchmark needs them.

    Writes benchmark.md (mean +- std over seeds of ACC, NMI, ARI and F1 per
    model, last epoch), benchmark.json (every run with its per-epoch
    history) and quality.png (ACC and NMI per epoch, mean over seeds with a
    band of one standard deviation; models without a joint phase as
    horizontal lines; thesis Fig. 4.2 and 4.4).
    """
    models = list(MODELS) if models_text is None else \
        _split(models_text, str, '--models')
    check_models(models)
    seeds = _seeds(seeds_text, quick)
    dataset, samples, params = _experiment_data(
        data, out, image_size, color, features, skip_bad_images,
        'a benchmark', n_clusters, epochs, pretrain_epochs, device, quick,
        hidden, latent, eps=eps, gcn_weight=gcn_weight,
        n_neighbors=n_neighbors)
    runs = run_benchmark(samples, models, seeds, params,
                         on_run=_progress(quiet),
                         share_pretraining=share_pretraining)
    name = _data_name(data, features)
    usps = data.lower() == 'usps' and features == 'pixels'
    with staged_output_dir(out, replaces=BENCHMARK_OUTPUTS) as stage:
        table = write_benchmark(
            runs, models, os.path.join(stage, 'benchmark.md'),
            os.path.join(stage, 'benchmark.json'),
            f'{name} ({dataset.n_samples} samples, {params["n_clusters"]} '
            f'clusters): VGDCN and baselines', _command_line(ctx),
            device=device, published=PUBLISHED_USPS if usps else None)
        plotting.plot_history(
            {m: [r['history'] for r in runs if r['model'] == m]
             for m in models if any(r['history'] for r in runs
                                    if r['model'] == m)},
            os.path.join(stage, 'quality.png'),
            title=f'{name}: quality per epoch (mean +- std over '
            f'{len(seeds)} seed{"s" if len(seeds) > 1 else ""}; labels only '
            f'score)',
            finals={m: {k: [r[k] for r in runs if r['model'] == m]
                        for k in ('acc', 'nmi')}
                    for m in models})
    click.echo(table)
    click.echo(f'results in {out}/')


if __name__ == '__main__':
    main()
