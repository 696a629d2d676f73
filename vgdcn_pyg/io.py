r"""Atomic outputs: a crash or a kill never leaves a half-written file, and
the files of one command appear together or not at all.

* :func:`atomic_write` (and :func:`save_json`, :func:`save_csv`,
  :func:`save_torch`) writes one file through a temporary file next to it,
  renamed into place when complete.
* :func:`staged_output_dir` gathers several files in a hidden staging folder
  inside the output folder and moves them into place together at the end.
* :func:`remove_stale_temporaries` clears what a killed process (SIGKILL,
  power loss), which cannot clean up, left behind.

Every temporary file and staging folder starts with :data:`TMP_PREFIX`.
A signal handler that turns a signal into an exception (the command line's
SIGTERM) asks :func:`defer_signal` first, so that the exception is raised
after a file being written is complete instead of inside a writer (an
exception inside :func:`torch.save` leaves its zip writer in a state whose
clean-up raises another error in place of the first).
"""
import contextlib
import csv
import json
import os
import shutil
import signal
import tempfile
from typing import Any, Iterable, Iterator, List, Sequence

import torch

#: Prefix of the temporary files and staging folders of this module (hidden
#: on POSIX; :func:`remove_stale_temporaries` removes them).
TMP_PREFIX = '.tmp-'


#: Depth of the :func:`atomic_write` blocks running, and the signals that
#: :func:`defer_signal` held back in them.
_writing = 0
_deferred: List[int] = []


def defer_signal(signum: int) -> bool:
    r"""For a signal handler: :obj:`True` (the signal is held back, the
    handler should return) while a file is being written by
    :func:`atomic_write`; the signal is raised again once the outermost
    write has finished, so the handler then sees it outside any write."""
    if _writing:
        _deferred.append(signum)
        return True
    return False


@contextlib.contextmanager
def _signals_held():
    global _writing
    _writing += 1
    try:
        yield
    finally:
        _writing -= 1
        if not _writing and _deferred:
            # Also when the write failed: the interrupt was asked for.
            signum = _deferred.pop(0)
            _deferred.clear()
            signal.raise_signal(signum)


@contextlib.contextmanager
def atomic_write(path, mode: str = 'w', **kwargs):
    r"""Opens a temporary file next to :obj:`path` and renames it over
    :obj:`path` only when the block finishes without an exception. Signals
    that a handler defers with :func:`defer_signal` arrive after the
    block."""
    with _signals_held():
        with _atomic_file(path, mode, **kwargs) as f:
            yield f


@contextlib.contextmanager
def _atomic_file(path, mode: str, **kwargs):
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=TMP_PREFIX,
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
    with atomic_write(path, 'wb') as f:
        torch.save(obj, f)


def save_json(obj: Any, path) -> None:
    r"""Writes :obj:`obj` as indented JSON with sorted keys, atomically."""
    with atomic_write(path, 'w') as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write('\n')


def save_csv(path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    r"""Writes a CSV file of a :obj:`header` row and :obj:`rows`,
    atomically."""
    with atomic_write(path, 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def remove_stale_temporaries(folder) -> None:
    r"""Removes the temporary files and staging folders (names starting with
    :data:`TMP_PREFIX`) directly inside :obj:`folder`, which a killed
    process could not clean up; nothing else is touched. A missing
    :obj:`folder` is fine.

    Only call it on a folder no other process is writing into: their
    temporaries would be removed too."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        return
    for entry in os.scandir(folder):
        if entry.name.startswith(TMP_PREFIX):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


@contextlib.contextmanager
def staged_output_dir(out, replaces: Iterable[str] = ()) -> Iterator[str]:
    r"""Yields a fresh staging folder inside the output folder :obj:`out`
    (created if needed) to write the files of one command into.

    When the block finishes without an exception, the files named in
    :obj:`replaces` (outputs of an earlier run that this one may not write,
    e.g. metrics without labels) are deleted from :obj:`out`, and every
    staged file is moved into :obj:`out` by a rename (same file system, so
    no copy) and the staging folder is removed. On any exception, including
    :class:`KeyboardInterrupt`, the staging folder is deleted, :obj:`out` is
    removed again if this call created it and it is still empty, and the
    exception propagates: a failed command adds nothing and leaves an
    earlier run's files as they were.

    Example::

        with staged_output_dir('results', replaces=('metrics.json',)) as d:
            save_csv(os.path.join(d, 'labels.csv'), ['cluster'], rows)
            save_torch(state, os.path.join(d, 'model.pt'))
    """
    out = os.fspath(out)
    created = not os.path.isdir(out)
    os.makedirs(out, exist_ok=True)
    stage = tempfile.mkdtemp(prefix=TMP_PREFIX + 'stage-', dir=out)
    try:
        yield stage
        for name in replaces:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(out, name))
        for name in sorted(os.listdir(stage)):
            os.replace(os.path.join(stage, name), os.path.join(out, name))
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        if created:
            with contextlib.suppress(OSError):  # only if still empty
                os.rmdir(out)
        raise
    shutil.rmtree(stage, ignore_errors=True)
