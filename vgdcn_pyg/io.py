r"""Atomic output files: a crash or a kill never leaves a half-written file."""
import contextlib
import csv
import json
import os
import tempfile
from typing import Any, Iterable, Sequence


@contextlib.contextmanager
def atomic_write(path, mode: str = 'w', **kwargs):
    r"""Opens a temporary file next to :obj:`path` and renames it over
    :obj:`path` only when the block finishes without an exception."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-',
                               suffix='-' + os.path.basename(path))
    # mkstemp creates 0600 files; give the result the usual umask mode.
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def save_torch(obj: Any, path) -> None:
    r""":func:`torch.save`, atomically."""
    import torch
    with atomic_write(path, 'wb') as f:
        torch.save(obj, f)


def save_json(obj: Any, path) -> None:
    with atomic_write(path, 'w') as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write('\n')


def save_csv(path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    with atomic_write(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
