r"""ISOLET spoken letters (Cole and Fanty, 1990), the 1560-sample subset of
clustering papers: 617 acoustic features per utterance, 26 letters, 60 each.

A development set of plain feature vectors (not images) beside the image
sets.  The source values are float32 in :obj:`[-1, 1]`, each the float32
nearest a multiple of 0.0001, so the bundle stores them exactly as
:obj:`int16` :obj:`round(10000 * x)` (1.5 MB instead of 2.1 MB as float32).
"""

from __future__ import annotations

import os
import string
from typing import Optional, Union

import numpy as np

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.bundled import check_samples, read_bundle, read_npz
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]

#: SHA-256 of the source ``isolet.npz`` the bundle was made from (see
#: ``_data/SOURCE.md``); :mod:`~vgdcn_pyg.datasets.make_bundles` checks it.
ISOLET_SHA256 = "94cdf64a90736389acfaf6b0517ac1bd6bceb42f693028c8e7d7b073993e9063"
ISOLET_N_FEATURES = 617
ISOLET_CLASSES = tuple(string.ascii_lowercase)
ISOLET_N_PER_CLASS = 60

# The bundle stores k = round(10000 * x) as int16 (|k| <= 10000).
_SCALE = 10000


def encode_isolet(x: np.ndarray) -> np.ndarray:
    r"""Encodes ISOLET features as :obj:`int16` :obj:`round(10000 * x)`;
    exact for the source (see :func:`decode_isolet`), which
    :mod:`~vgdcn_pyg.datasets.make_bundles` checks before writing.  The
    result is column-major (feature by feature, like the MATLAB source),
    which compresses 3% better than row by row.

    Raises:
        DataError: If a value lies outside :obj:`[-1, 1]` (it would not fit).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size and np.abs(x).max() > 1.0:
        raise DataError(f"ISOLET features lie in [-1, 1]; got values up to {np.abs(x).max()}")
    return np.asfortranarray(np.rint(x * _SCALE).astype(np.int16))


def decode_isolet(k: np.ndarray) -> np.ndarray:
    r"""Inverts :func:`encode_isolet`: :obj:`float32(k / 10000)`, divided in
    float64 so that the result is the float32 nearest the 4-decimal value,
    as the source's float32 cast of its float64 values was."""
    return (np.asarray(k, dtype=np.float64) / _SCALE).astype(np.float32)


def minmax_scale(x: np.ndarray) -> np.ndarray:
    r"""Scales every column of :obj:`x` to :obj:`[0, 1]` (its minimum to 0,
    its maximum to 1), in float64 then float32; a constant column becomes 0
    rather than a division by zero."""
    x = np.asarray(x, dtype=np.float64)
    low, high = x.min(axis=0), x.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return ((x - low) / span).astype(np.float32)


def read_isolet(path: Optional[PathLike] = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The raw :obj:`(x, y)`: float32 features :obj:`(N, 617)` in
    :obj:`[-1, 1]` as in the source, and int64 letter indices, from
    :obj:`path` (an ``.npz`` with ``x`` and ``y``) or decoded from the
    bundle.

    Raises:
        DataError: If the file is missing or has another layout.
    """
    if path is None:
        arrays = read_bundle("isolet.npz", "ISOLET", "pass path=... to an isolet.npz")
        x, y = check_samples(decode_isolet(arrays["x"]), arrays["y"], ISOLET_N_FEATURES, "bundled ISOLET")
        return x, y
    arrays = read_npz(path, "ISOLET")
    x, y = check_samples(arrays["x"], arrays["y"], ISOLET_N_FEATURES, f"'{path}'")
    if x.dtype.kind not in "iuf":
        raise DataError(f"'{path}': ISOLET features must be numeric, got dtype {x.dtype}")
    return x.astype(np.float32, copy=False), y


def load_isolet(path: Optional[PathLike] = None, scale: bool = True) -> ClusteringData:
    r"""Loads the 1560 ISOLET utterances, 617 features each.

    By default every feature is min-max scaled to :obj:`[0, 1]`
    (:func:`minmax_scale`): the source's :obj:`[-1, 1]` features would make
    the estimators' default :obj:`likelihood="auto"` fall back to a Gaussian
    likelihood, and their Bernoulli (cross-entropy) likelihood needs values in
    :obj:`[0, 1]`.  Cite R. Cole,
    M. Fanty, "Spoken letter recognition", Proc. DARPA Speech and Natural
    Language Workshop, 1990 (UCI Machine Learning Repository, ISOLET).

    Args:
        path (str or PathLike, optional): An ``.npz`` with ``x``
            :obj:`(N, 617)` and ``y`` (letter index 0-25) to read instead
            of the bundled copy, which gives back the source exactly.
        scale (bool): :obj:`False` keeps the raw features in
            :obj:`[-1, 1]`, bit for bit as in the source.

    Returns:
        ClusteringData: :obj:`x` float32 :obj:`(1560, 617)`, :obj:`y` 0-25
        (60 per letter, letter by letter), :obj:`class_names` ``"a"``..
        ``"z"``, no :obj:`image_shape` (plain vectors).
    """
    x, y = read_isolet(path)
    return ClusteringData(
        x=minmax_scale(x) if scale else x, y=y, class_names=list(ISOLET_CLASSES),
        source=f"ISOLET spoken letters (Cole and Fanty 1990), {x.shape[0]} samples"
               + (", min-max scaled" if scale else "")
               + (", bundled copy" if path is None else f", '{path}'"),
    )
