r"""Checks of what a user passes to the estimators: devices, sample
matrices and hyper-parameters, each failing with a one-line
:class:`~vgdcn_pyg.exceptions.VGDCNError`."""
from typing import Any, Optional, Type

import numpy as np
import torch

from .exceptions import DataError, GraphError, ModelError
from .graph.sampling import check_num_neighbors
from .models import MODELS, DeepClusteringModel
from .training.trainer import ADAM_IMPLEMENTATIONS, PRECISIONS


def resolve_device(device: Optional[str]) -> torch.device:
    r""":obj:`"auto"` picks CUDA when present."""
    if device is None or device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ModelError(f'unknown device {device!r} (use cpu, cuda, cuda:N '
                         f'or auto)') from None
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ModelError('device cuda was asked for but no CUDA GPU is '
                             'available (use --device cpu)')
        if device.index is not None and \
                device.index >= torch.cuda.device_count():
            raise ModelError(f'{device} does not exist: '
                             f'{torch.cuda.device_count()} GPU(s) present')
    return device


def check_samples(x: Any, name: str = 'X') -> np.ndarray:
    r"""Returns :obj:`x` as a finite float32 matrix or raises
    :class:`~vgdcn_pyg.exceptions.DataError`."""
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    try:
        x = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise DataError(f'{name} cannot be read as an array: {e}') from None
    if x.dtype.kind not in 'biuf':
        raise DataError(f'{name} must be numeric, got dtype {x.dtype}')
    if x.ndim != 2:
        raise DataError(f'{name} must be 2-D (n_samples, n_features), got '
                        f'shape {x.shape}')
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f'{name} is empty (shape {x.shape})')
    x = x.astype(np.float32, copy=False)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise DataError(f'{name} contains {int(bad.sum())} NaN/inf values '
                        f'(first in row {row})')
    return x


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and \
        not isinstance(value, bool)


def check_params(est, cls: Type[DeepClusteringModel], n_samples: int):
    r"""Checks the hyper-parameters of the estimator :obj:`est`, fitting the
    model class :obj:`cls` on :obj:`n_samples` samples."""
    if not _is_int(est.n_clusters) or est.n_clusters < 2:
        raise ModelError(f'n_clusters must be an integer >= 2, got '
                         f'{est.n_clusters!r}')
    if n_samples <= est.n_clusters:
        samples = '1 sample is' if n_samples == 1 else \
            f'{n_samples} samples are'
        raise DataError(f'{samples} too few for {est.n_clusters} clusters '
                        f'(need more samples than clusters)')
    k, space = est.graph_settings(n_samples)
    if cls.requires_graph and not 1 <= k < n_samples:
        raise DataError(f'n_neighbors={k} must be in [1, {n_samples}) for '
                        f'{n_samples} samples')
    if not 0.0 <= est.eps <= 1.0:
        raise ModelError(f'eps must be in [0, 1], got {est.eps}')
    if space not in ('input', 'latent', 'auto'):
        raise ModelError("graph_space must be 'input', 'latent' or 'auto', "
                         f'got {space!r}')
    if est.input_spectral and 'input_spectral' in cls.options and \
            space == 'latent':
        raise ModelError("input_spectral partitions the input's kNN graph: "
                         "it needs graph_space 'auto' or 'input', got "
                         "'latent'")
    for name, value in (('tol', est.stopping_tol()),
                        ('pretrain_tol', est.pretrain_tol)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not value >= 0:
            raise ModelError(f'{name} must be a number >= 0, got {value!r}')
    if est.adam not in ADAM_IMPLEMENTATIONS:
        raise ModelError(f'adam must be one of '
                         f'{", ".join(map(repr, ADAM_IMPLEMENTATIONS))}, got '
                         f'{est.adam!r}')
    if est.precision not in PRECISIONS:
        raise ModelError(f'precision must be one of '
                         f'{", ".join(map(repr, PRECISIONS))}, got '
                         f'{est.precision!r}')
    for name, choices in cls.choices.items():
        value = getattr(est, name)
        if value is not None and value not in choices:
            raise ModelError(f'{name} must be one of '
                             f'{", ".join(map(repr, choices))}, got '
                             f'{value!r}')
    if est.batch_size_graph is not None:
        _check_minibatch(est, cls)
    if not _is_int(est.batch_size) or est.batch_size < 1:
        raise ModelError(f'batch_size must be an integer >= 1, got '
                         f'{est.batch_size!r}')
    # Before the epochs below: pretrain_length() reads pretrain_steps and
    # pretrain_batch_size.
    for name, least in (('pretrain_steps', 1), ('pretrain_batch_size', 1),
                        ('init_restarts', 1),
                        ('input_starts', 0), ('umap_epochs', 1),
                        ('gmm_starts', 1), ('graph_votes', 0)):
        value = getattr(est, name, None)
        if value is not None and (not _is_int(value) or value < least):
            raise ModelError(f'{name} must be an integer >= {least}, got '
                             f'{value!r}')
    epochs, _ = est.schedule()
    for name, value in (('epochs', epochs),
                        ('pretrain_epochs', est.pretrain_length(n_samples)),
                        ('lr_warmup', est.warmup_length())):
        if not _is_int(value) or value < 0:
            raise ModelError(f'{name} must be an integer >= 0, got {value!r}')


def _check_minibatch(est, cls: Type[DeepClusteringModel]):
    if not _is_int(est.batch_size_graph) or est.batch_size_graph < 1:
        raise ModelError(f'batch_size_graph must be a positive integer or '
                         f'None, got {est.batch_size_graph!r}')
    if not cls.supports_subgraphs:
        able = ', '.join(n for n, c in MODELS.items() if c.supports_subgraphs)
        raise ModelError(f'mini-batch graph training (batch_size_graph) '
                         f'supports the {able} model only, not {cls.name!r}')
    try:
        check_num_neighbors(est.num_neighbors)
    except GraphError as e:
        raise ModelError(str(e)) from None
    if est.minibatch_update not in ('epoch', 'batch'):
        raise ModelError(f"minibatch_update must be 'epoch' or 'batch', got "
                         f'{est.minibatch_update!r}')


def check_fit_args(n_samples: int, y, checkpoint, checkpoint_every,
                   resume: bool) -> Optional[np.ndarray]:
    r"""Checks :meth:`~vgdcn_pyg.cluster.DeepClustering.fit`'s other
    arguments; returns :obj:`y` as an array."""
    if y is not None:
        y = np.asarray(y)
        if y.shape != (n_samples, ):
            raise DataError(f'y has shape {y.shape}, expected '
                            f'({n_samples},)')
    if resume and checkpoint is None:
        raise ModelError('resume=True needs the checkpoint file to resume '
                         'from')
    if checkpoint_every is not None and (not _is_int(checkpoint_every) or
                                         checkpoint_every < 1):
        raise ModelError(f'checkpoint_every must be an integer >= 1, got '
                         f'{checkpoint_every!r}')
    return y
