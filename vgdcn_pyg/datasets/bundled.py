r"""Reading the compact copies in ``vgdcn_pyg/datasets/_data`` and the
``.npz`` files they were made from.

One place for it, so that every bundled loader fails the same clear way when
a bundle is missing (a broken install) or a user's file has another layout.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Union

import numpy as np

from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]


def bundle_path(filename: str):
    r"""The packaged resource ``_data/<filename>`` (may not exist)."""
    return resources.files("vgdcn_pyg.datasets").joinpath("_data", filename)


def read_bundle(filename: str, what: str, instead: str = "") -> dict[str, np.ndarray]:
    r"""All arrays of the bundle ``_data/<filename>``, read with
    :obj:`allow_pickle=False` (the bundles hold plain arrays only).

    Args:
        filename (str): The bundle, e.g. ``"coil20.npz"``.
        what (str): The data set's name for the message, e.g. ``"COIL-20"``.
        instead (str): What else the user can do, e.g. ``"pass path=..."``;
            appended to the message.

    Raises:
        DataError: If the bundle is missing from the installation.
    """
    with resources.as_file(bundle_path(filename)) as bundle:
        if not bundle.is_file():
            raise DataError(f"the bundled {what} copy '{bundle}' is missing; reinstall vgdcn-pyg"
                            + (f" or {instead}" if instead else ""))
        with np.load(bundle, allow_pickle=False) as z:
            return {key: z[key] for key in z.files}


def read_npz(path: PathLike, what: str, keys: tuple = ("x", "y")) -> dict[str, np.ndarray]:
    r"""All arrays of a user's ``.npz`` file, after checking it has
    :obj:`keys`, so that a wrong file is named in the error rather than
    failing later with a :obj:`KeyError`.

    Raises:
        DataError: If the file is missing, not an ``.npz``, or lacks a key.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file or folder: '{path}'")
    try:
        z = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read '{path}' as .npz: {exc}") from None
    if not hasattr(z, "files"):  # a .npy holds one bare array
        raise DataError(f"'{path}' is a single array, not an .npz {what} file with {', '.join(keys)}")
    with z:
        arrays = {key: z[key] for key in z.files}
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise DataError(f"'{path}' is not a {what} file: it has no array {', '.join(map(repr, missing))} "
                        f"(keys: {', '.join(sorted(arrays)) or 'none'})")
    return arrays


def check_samples(x: np.ndarray, y: np.ndarray, n_features: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    r"""Flattens :obj:`x` to C-contiguous :obj:`(N, n_features)` (a
    bundle may be stored column-major) and :obj:`y` to :obj:`(N,)` int64,
    refusing other sizes so that a file of another data set is not silently
    read as this one.

    Raises:
        DataError: If the sizes do not fit.
    """
    x, y = np.asarray(x), np.asarray(y).reshape(-1)
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != n_features or y.shape[0] != x.shape[0]:
        raise DataError(f"{where}: x has shape {x.shape} and y {y.shape}, expected (N, {n_features}) and (N,)")
    if y.dtype.kind not in "iu":
        raise DataError(f"{where}: labels must be integers, got dtype {y.dtype}")
    return np.ascontiguousarray(x.reshape(x.shape[0], n_features)), y.astype(np.int64)
