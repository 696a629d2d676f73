r"""The ``vgdcn`` command line.

Every user error (bad data, bad option, unreadable model) ends with a one-line
``error: ...`` on stderr and exit status 2, never a traceback; every output
file is written atomically.
"""
import contextlib
import functools
import os
import sys
import time
from typing import Optional

import click
import torch

from .exceptions import VGDCNError

DATA_HELP = ('"usps" (bundled), "flavia10" (bundled leaves), an image folder '
             '(one sub-folder per class, or flat), or an array file '
             '(.npy, .npz, .csv, USPS-layout .h5).')


#: Files `vgdcn fit` writes only in some runs (labels known, figures on).
FIT_OPTIONAL_OUTPUTS = ('metrics.json', 'loss.png', 'quality.png',
                        'latent.png', 'clusters.png', 'generated.png')


def _fail(message: str):
    click.echo(f'error: {message}', err=True)
    sys.exit(2)


def user_errors(func):
    r"""Turns the errors a user can cause into a one-line message."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
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
        except KeyboardInterrupt:
            _fail('interrupted')
    return wrapper


def _image_size(value: Optional[str]):
    if value is None:
        return None
    try:
        parts = [int(v) for v in value.lower().split('x')]
    except ValueError:
        raise click.BadParameter('use WIDTHxHEIGHT, e.g. 64x48, or one number')
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 1:
        raise click.BadParameter('use WIDTHxHEIGHT, e.g. 64x48')
    return tuple(parts)


def _load(data: str, image_size, grayscale: bool):
    from .datasets import load_dataset
    kwargs = {}
    if image_size is not None:
        kwargs['image_size'] = image_size
    if not grayscale:
        kwargs['grayscale'] = False
    return load_dataset(data, **kwargs)


def _write_labels(path, names, labels, confidence):
    from .io import save_csv
    save_csv(path, ['sample', 'cluster', 'confidence'],
             ((n, int(c), f'{p:.4f}')
              for n, c, p in zip(names, labels, confidence)))


@click.group(context_settings={'help_option_names': ['-h', '--help']})
@click.version_option(package_name='vgdcn-pyg')
def main():
    r"""Deep clustering of images and feature vectors with VGDCN (VaDE + a
    GCN over a kNN heat-kernel graph) and its baselines."""


def _fit_options(func):
    from .cluster import MODELS
    options = [
        click.option('-k', '--clusters', 'n_clusters', type=int,
                     default=None, help='Number of clusters K (default: the '
                     'number of classes when labels are known, else 10).'),
        click.option('--model', type=click.Choice(list(MODELS)),
                     default='vgdcn', show_default=True,
                     help='VGDCN or a baseline.'),
        click.option('--eps', type=click.FloatRange(0, 1), default=None,
                     help='Fusion weight epsilon of the GCN branch, 0..1.'),
        click.option('-m', '--neighbors', 'n_neighbors', type=int,
                     default=None, help='M, neighbours per sample in the '
                     'kNN graph.'),
        click.option('--epochs', type=int, default=None,
                     help='Joint training epochs.'),
        click.option('--pretrain-epochs', type=int, default=None,
                     help='Auto-encoder pretraining epochs.'),
        click.option('--seed', type=int, default=0, show_default=True,
                     help='Random seed (same seed, same machine, same '
                     'labels).'),
        click.option('--device', default='auto', show_default=True,
                     help='cpu, cuda, cuda:N or auto (CUDA when present).'),
        click.option('--image-size', default=None,
                     help='Resize images to WIDTHxHEIGHT (aspect kept, '
                     'padded), e.g. 64x48.'),
        click.option('--color', is_flag=True,
                     help='Keep colour (default: greyscale).'),
        click.option('--quiet', is_flag=True, help='No progress bars.'),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _estimator_params(n_clusters, model, eps, n_neighbors, epochs,
                      pretrain_epochs, seed, device, quiet):
    params = dict(n_clusters=n_clusters, model=model, random_state=seed,
                  device=device, verbose=not quiet)
    for name, value in (('eps', eps), ('n_neighbors', n_neighbors),
                        ('epochs', epochs),
                        ('pretrain_epochs', pretrain_epochs)):
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
@user_errors
def fit(data, n_clusters, model, eps, n_neighbors, epochs, pretrain_epochs,
        seed, device, image_size, color, quiet, out, figures):
    r"""Cluster DATA and write the results into --out.

    DATA is """ + DATA_HELP + r"""

    Writes labels.csv (sample, cluster, confidence), model.pt (for `vgdcn
    predict` and `vgdcn sample`), history.json (losses per epoch, and
    metrics when labels are known) and metrics.json (ACC, NMI, ARI, F1,
    purity; only when labels are known, which are never used for training),
    and figures: loss.png, quality.png (with labels), latent.png (t-SNE),
    clusters.png and generated.png (for images).
    """
    from .cluster import DeepClustering
    from .evaluation import evaluate
    from .io import save_json
    dataset = _load(data, _image_size(image_size), not color)
    if n_clusters is None:
        n_clusters = dataset.n_classes or 10
    est = DeepClustering(**_estimator_params(
        n_clusters, model, eps, n_neighbors, epochs, pretrain_epochs, seed,
        device, quiet))
    start = time.perf_counter()
    est.fit(dataset.x, dataset.y)
    seconds = time.perf_counter() - start
    os.makedirs(out, exist_ok=True)
    # A rerun into the same folder must not leave an earlier run's metrics
    # or figures beside the new results.
    for name in FIT_OPTIONAL_OUTPUTS:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(os.path.join(out, name))
    _write_labels(os.path.join(out, 'labels.csv'), dataset.names,
                  est.labels_, est.proba_.max(-1))
    est.save(os.path.join(out, 'model.pt'))
    save_json(est.history_, os.path.join(out, 'history.json'))
    summary = f'{dataset.n_samples} samples -> {n_clusters} clusters ' \
              f'({model}) in {seconds:.1f} s'
    if dataset.y is not None:
        metrics = evaluate(dataset.y, est.labels_)
        metrics.update(model=model, seconds=seconds, seed=seed,
                       n_samples=dataset.n_samples, n_clusters=n_clusters)
        save_json(metrics, os.path.join(out, 'metrics.json'))
        summary += ': ' + ', '.join(f'{k.upper()} {metrics[k]:.4f}'
                                    for k in ('acc', 'nmi', 'ari'))
    if figures:
        _fit_figures(est, dataset, model, out)
    click.echo(summary)
    click.echo(f'results in {out}/')


def _fit_figures(est, dataset, model, out):
    from . import plotting
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
        if hasattr(est.model_, 'sample'):
            plotting.save_image_grid(
                est.sample(8), dataset.image_shape,
                os.path.join(out, 'generated.png'),
                row_titles=[f'cluster {c}' for c in range(est.n_clusters)],
                title='Images generated per cluster')


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
    from .cluster import DeepClustering
    from .evaluation import evaluate
    from .io import save_json
    est = DeepClustering.load(model_path, device=device)
    dataset = _load(data, _image_size(image_size), not color)
    proba = est.predict_proba(dataset.x)
    labels = proba.argmax(-1)
    os.makedirs(out, exist_ok=True)
    _write_labels(os.path.join(out, 'labels.csv'), dataset.names, labels,
                  proba.max(-1))
    if dataset.y is not None:
        save_json(evaluate(dataset.y, labels),
                  os.path.join(out, 'metrics.json'))
    click.echo(f'{len(labels)} samples assigned; results in {out}/')


@main.command()
@click.argument('data')
@click.option('-m', '--neighbors', 'k', type=int, default=3,
              show_default=True, help='M, neighbours per sample.')
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
def graph(data, k, backend, device, image_size, color, out):
    r"""Build the kNN heat-kernel graph of DATA and print its statistics."""
    import torch
    from .cluster import resolve_device
    from .graph import graph_stats, knn_heat_kernel_graph
    from .io import save_torch
    dataset = _load(data, _image_size(image_size), not color)
    x = torch.from_numpy(dataset.x).to(resolve_device(device))
    start = time.perf_counter()
    g = knn_heat_kernel_graph(x, k=k, backend=backend, y=dataset.y)
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
@click.option('--seed', type=int, default=0, show_default=True)
@click.option('-o', '--out', type=click.Path(dir_okay=False),
              default='samples.png', show_default=True,
              help='PNG grid, one row per cluster.')
@click.option('--image-shape', default=None,
              help='HEIGHTxWIDTH of one image (default: square).')
@click.option('--device', default=None,
              help='Device to run on (default: the one saved).')
@user_errors
def sample(model_path, per_cluster, seed, out, image_shape, device):
    r"""Generate new images of every cluster from a saved VGDCN/VaDE MODEL
    (z ~ N(mu_c, sigma_c^2), decoded)."""
    from .cluster import DeepClustering
    from .plotting import save_image_grid
    est = DeepClustering.load(model_path, device=device)
    images = est.sample(per_cluster, random_state=seed)
    d = images.shape[-1]
    if image_shape:
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
    save_image_grid(images, shape, out,
                    row_titles=[f'cluster {c}' for c in range(len(images))],
                    title='Generated images per cluster')
    click.echo(f'{images.shape[0]} x {per_cluster} images written to {out}')


if __name__ == '__main__':
    main()
