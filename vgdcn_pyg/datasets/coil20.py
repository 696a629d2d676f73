r"""COIL-20, the Columbia Object Image Library (Nene, Nayar, Murase, 1996):
1440 grey 32x32 images of 20 objects, 72 views each (one every 5 degrees).

A classic image-clustering benchmark of objects rather than digits, kept as a
development set beside USPS and the leaves so that defaults are not fitted to
one data set.  The package ships the 8-bit pixels unchanged, so no download
is needed.
"""

from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.bundled import check_samples, read_bundle, read_npz
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]

#: SHA-256 of the source ``coil20.npz`` the bundle was made from (see
#: ``_data/SOURCE.md``); :mod:`~vgdcn_pyg.datasets.make_bundles` checks it.
COIL20_SHA256 = "d5c706a5ee704d60cc9dcd31b2388589cdb556d8834b7a5684aa693502cddf32"
COIL20_IMAGE_SHAPE = (32, 32)
COIL20_N_OBJECTS = 20
COIL20_N_VIEWS = 72


def read_coil20(path: Optional[PathLike] = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The raw :obj:`(x, y)`: :obj:`uint8` pixels :obj:`(N, 1024)`
    (row-major 32x32) and int64 object indices, from :obj:`path` (an
    ``.npz`` with ``x`` and ``y`` in that layout) or from the bundle.

    Raises:
        DataError: If the file is missing or has another layout, or the
            pixels are not 8-bit.
    """
    if path is None:
        arrays, where = read_bundle("coil20.npz", "COIL-20", "pass path=... to a coil20.npz"), "bundled COIL-20"
    else:
        arrays, where = read_npz(path, "COIL-20"), f"'{path}'"
    x, y = check_samples(arrays["x"], arrays["y"], int(np.prod(COIL20_IMAGE_SHAPE)), where)
    if x.dtype != np.uint8:
        raise DataError(f"{where}: COIL-20 pixels must be uint8 0-255, got dtype {x.dtype}")
    return x, y


def load_coil20(path: Optional[PathLike] = None) -> ClusteringData:
    r"""Loads the 1440 COIL-20 object images.

    Pixels are 8-bit in the source, so :obj:`pixel / 255` in float32 loses
    nothing and puts them in :obj:`[0, 1]`, as the estimators' default
    Bernoulli likelihood needs.  Cite S. A. Nene, S. K. Nayar, H. Murase,
    "Columbia Object Image Library (COIL-20)", Technical Report
    CUCS-005-96, Columbia University, 1996.

    Args:
        path (str or PathLike, optional): An ``.npz`` with ``x`` (uint8,
            :obj:`(N, 1024)` row-major 32x32) and ``y`` (object index 0-19)
            to read instead of the bundled copy, which is such a file.

    Returns:
        ClusteringData: :obj:`x` float32 :obj:`(1440, 1024)` in
        :obj:`[0, 1]`, :obj:`y` 0-19 (72 views each, object by object),
        :obj:`class_names` ``"obj1"``..``"obj20"`` (the original object
        numbers), :obj:`image_shape` :obj:`(32, 32)`.
    """
    k, y = read_coil20(path)
    return ClusteringData(
        x=k.astype(np.float32) / np.float32(255.0), y=y,
        class_names=[f"obj{i + 1}" for i in range(COIL20_N_OBJECTS)],
        image_shape=COIL20_IMAGE_SHAPE,
        source=f"COIL-20 objects (Nene et al. 1996), {k.shape[0]} images, "
               + ("bundled copy" if path is None else f"'{path}'"),
    )
