r"""Checkpoints of a fit in progress, so that an interrupted run continues
bit for bit: the estimator stores the phase and epoch, model, optimizer and
scheduler states, every random-number state and what initialisation
computed; this module adds the format tag, the random states and a
fingerprint of the settings and the data, and refuses a checkpoint of
another fit."""
import hashlib
import os
import random
from typing import Any, Dict, Optional

import numpy as np
import torch

from ..exceptions import ModelError
from ..io import save_torch

CHECKPOINT_FORMAT = 'vgdcn-pyg-checkpoint'
CHECKPOINT_VERSION = 1
#: Estimator parameters that do not change the result (progress bars) or
#: may change between the run and its resume (the device; only the same
#: device is bit-exact, see docs/guarantees.rst).
UNFINGERPRINTED = ('verbose', 'device')


def rng_state() -> Dict[str, Any]:
    r"""The Python, NumPy, PyTorch CPU (and, once used, CUDA) random states,
    in types that :func:`torch.load` with :obj:`weights_only=True` reads."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        'python': random.getstate(),
        'numpy': (name, torch.from_numpy(keys.astype(np.int64)), int(pos),
                  int(has_gauss), float(cached)),
        'torch': torch.get_rng_state(),
        'cuda': torch.cuda.get_rng_state_all()
        if torch.cuda.is_available() and torch.cuda.is_initialized() else None,
    }


def set_rng_state(state: Dict[str, Any]):
    r"""Restores what :func:`rng_state` returned."""
    random.setstate(state['python'])
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos,
                         has_gauss, cached))
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available() and \
            len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


def _digest(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:16]


def _plain(value):
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def fingerprint(params: Dict[str, Any], x: np.ndarray,
                y: Optional[np.ndarray] = None,
                pretrained: Optional[Dict[str, torch.Tensor]] = None
                ) -> Dict[str, Any]:
    r"""What a checkpoint must match to be resumed: the estimator parameters
    (but :obj:`UNFINGERPRINTED`), the shape and a SHA-256 of the samples, of
    the labels (they fill the history) and of a given pretrained state."""
    out = {'params': {k: _plain(v) for k, v in sorted(params.items())
                      if k not in UNFINGERPRINTED},
           'data': f'{x.shape[0]}x{x.shape[1]} '
                   f'{_digest(np.ascontiguousarray(x).view(np.uint8))}',
           'labels': None, 'pretrained': None}
    if y is not None:
        out['labels'] = _digest(repr(np.asarray(y).tolist()).encode())
    if pretrained is not None:
        out['pretrained'] = _digest(*(
            k.encode() + v.detach().cpu().contiguous().numpy().tobytes()
            for k, v in sorted(pretrained.items())))
    return out


def _differences(found: Dict[str, Any], expected: Dict[str, Any]):
    diffs = []
    old, new = found.get('params', {}), expected['params']
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            diffs.append(f'{key} {old.get(key)!r} -> {new.get(key)!r}')
    if found.get('data') != expected['data']:
        diffs.append(f'data {found.get("data")} -> {expected["data"]}')
    for key in ('labels', 'pretrained'):
        if found.get(key) != expected[key]:
            diffs.append(f'other {key}')
    return diffs


def save_checkpoint(path, state: Dict[str, Any],
                    fingerprint: Dict[str, Any]) -> None:
    r"""Writes :obj:`state` (phase, epoch, model and optimizer states ...)
    with the format tag, :obj:`fingerprint` and the current random states,
    atomically: a kill while writing leaves the previous checkpoint."""
    save_torch(dict(state, format=CHECKPOINT_FORMAT,
                    format_version=CHECKPOINT_VERSION,
                    fingerprint=fingerprint, rng=rng_state()), path)


def load_checkpoint(path, expected: Dict[str, Any]) -> Dict[str, Any]:
    r"""Reads a checkpoint written by :func:`save_checkpoint` and checks
    that it belongs to a fit with the :obj:`expected` fingerprint.

    Raises:
        ModelError: If the file is missing, unreadable, of another format
            version, or from other settings or data (the message lists
            what differs).
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ModelError(f'no checkpoint to resume from: {path} does not '
                         f'exist')
    try:
        # weights_only: reading a checkpoint never runs code.
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:
        raise ModelError(f'cannot read checkpoint {path} (truncated or not '
                         f'a vgdcn-pyg checkpoint): {type(e).__name__}'
                         ) from None
    if not isinstance(state, dict) or \
            state.get('format') != CHECKPOINT_FORMAT:
        raise ModelError(f'{path} is not a vgdcn-pyg checkpoint')
    if state.get('format_version') != CHECKPOINT_VERSION:
        raise ModelError(f'{path} has checkpoint format '
                         f'{state.get("format_version")}; this version '
                         f'resumes format {CHECKPOINT_VERSION} only')
    diffs = _differences(state.get('fingerprint', {}), expected)
    if diffs:
        raise ModelError(f'checkpoint {path} is from a fit with other '
                         f'settings or data ({"; ".join(diffs)}); delete it '
                         f'or start without resuming')
    return state


class Checkpointer:
    r"""Writes the checkpoints of one fit every :obj:`every` epochs of each
    phase, and holds the checkpoint it resumes from.

    Args:
        path (str or PathLike): The checkpoint file.
        fit_print (dict): The fit's :func:`fingerprint`.
        every (int, optional): Epochs between checkpoints. :obj:`None`: 1,
            or when resuming the value the checkpoint was written with.
        resume (bool): Read the checkpoint at :obj:`path` (it must match
            :obj:`fit_print`) and continue from it.
    """
    def __init__(self, path, fit_print: Dict[str, Any],
                 every: Optional[int] = None, resume: bool = False):
        self.path = path
        self.fit_print = fit_print
        self.saved = load_checkpoint(path, fit_print) if resume else None
        self.every = every or \
            (self.saved['checkpoint_every'] if self.saved else 1)

    @property
    def phase(self) -> Optional[str]:
        r"""The phase the resumed checkpoint was written in, if any."""
        return None if self.saved is None else self.saved['phase']

    def save(self, phase: str, epoch: int, model, optimizer, scheduler,
             generator: torch.Generator, **extra):
        r"""Writes a checkpoint after :obj:`epoch` (counted from 0) of
        :obj:`phase` when it is due: the model and its training state, the
        optimizer and scheduler, :obj:`generator`, every random state and
        :obj:`extra`."""
        if (epoch + 1) % self.every:
            return
        state = dict(
            phase=phase, epoch=epoch + 1, checkpoint_every=self.every,
            model=model.state_dict(), training=model.training_state(),
            optimizer=optimizer.state_dict(),
            scheduler=None if scheduler is None else scheduler.state_dict(),
            generator=generator.get_state(), **extra)
        save_checkpoint(self.path, state, self.fit_print)

    def remove(self):
        r"""Deletes the checkpoint (the fit succeeded)."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
