r"""The model file of a fitted estimator: its parameters, the trained
weights, the training samples and graph (which new samples are attached
to), and the history. Written atomically, read with
:obj:`weights_only=True` so that reading a file never runs code."""
from typing import Dict, Optional

import torch

from .exceptions import ModelError
from .io import save_torch
from .validation import resolve_device
from .version import __version__

MODEL_FILE_FORMAT = 'vgdcn-pyg-model'
MODEL_FILE_VERSION = 1


def _cpu(value):
    return None if value is None else value.cpu()


def save_estimator(est, path, metadata: Optional[Dict] = None) -> None:
    r"""Writes the fitted estimator :obj:`est` to :obj:`path`, with
    :obj:`metadata` (plain values) beside it."""
    state = {
        'format': MODEL_FILE_FORMAT,
        'format_version': MODEL_FILE_VERSION,
        'package_version': __version__,
        'params': dict(est.get_params(), model=est.model),
        'likelihood': est.likelihood_,
        'n_features': est.n_features_in_,
        'state_dict': {k: v.cpu() for k, v in est.model_.state_dict().items()},
        'x_train': est._x_train.cpu(),
        'edge_index': _cpu(est.edge_index_),
        'edge_weight': _cpu(est.edge_weight_),
        'graph_t': getattr(est, 'graph_t_', None),
        'graph_space': getattr(est, 'graph_space_', None),
        'n_neighbors': est.n_neighbors_,
        'n_iter': est.n_iter_,
        'history': est.history_,
        'metadata': dict(metadata or {}),
    }
    save_torch(state, path)


def _read(path) -> Dict:
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except FileNotFoundError:
        raise ModelError(f'no such model file: {path}') from None
    except Exception as e:
        raise ModelError(f'cannot read model file {path} (truncated or not '
                         f'a vgdcn-pyg model): {type(e).__name__}') from None
    if not isinstance(state, dict) or \
            state.get('format') != MODEL_FILE_FORMAT:
        raise ModelError(f'{path} is not a vgdcn-pyg model file')
    if state.get('format_version') != MODEL_FILE_VERSION:
        raise ModelError(
            f'{path} has model format {state.get("format_version")} '
            f'(written by vgdcn-pyg {state.get("package_version")}); this '
            f'version reads format {MODEL_FILE_VERSION}')
    return state


def _estimator(cls, params: Dict, path):
    name = params.pop('model', None)
    fixed = getattr(cls, 'fixed_model', None)
    if fixed is not None and name != fixed:
        raise ModelError(f'{path} holds a {name!r} model, not {fixed!r}; '
                         f'load it with DeepClustering.load')
    if fixed is None:
        params['model'] = name
    try:
        return cls(**params)
    except TypeError as e:
        raise ModelError(f'{path} was written with parameters this version '
                         f'does not know: {e}') from None


def load_estimator(cls, path, device: Optional[str] = None):
    r"""An estimator of class :obj:`cls` with the model in :obj:`path`,
    on :obj:`device` (:obj:`None`: the device it was fitted with); its
    fitted attributes are then computed by
    :func:`~vgdcn_pyg.phases.finish`."""
    state = _read(path)
    params = dict(state['params'])
    if device is not None:
        params['device'] = device
    est = _estimator(cls, params, path)
    dev = resolve_device(est.device)
    net = est.build_model(state['n_features'], state['likelihood'])
    try:
        net.load_state_dict(state['state_dict'])
    except RuntimeError as e:
        raise ModelError(f'{path} does not match this version\'s model '
                         f'layout: {str(e).splitlines()[0]}') from None
    est.model_ = net.to(dev)
    est.likelihood_ = state['likelihood']
    est._x_train = state['x_train'].to(dev)
    for name in ('edge_index', 'edge_weight'):
        value = state[name]
        setattr(est, name + '_', None if value is None else value.to(dev))
    if state['graph_t'] is not None:
        est.graph_t_ = state['graph_t']
        est.graph_space_ = state.get('graph_space') or \
            est._graph_space_before_auto()
    # Files before n_neighbors_ was saved: those versions used the
    # configured or default M whatever the data's size.
    est.n_neighbors_ = state.get('n_neighbors') or est.graph_settings()[0]
    est.history_ = state['history']
    est.n_iter_ = state['n_iter']
    est.metadata_ = state.get('metadata') or {}
    return est
