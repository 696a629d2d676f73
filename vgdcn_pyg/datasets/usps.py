r"""The USPS handwritten digits (Hull, 1994), 9298 grey 16x16 images.

The clustering literature (DEC, IDEC, SDCN, VGDCN) uses all 9298 images: the
7291 of the ``train`` group followed by the 2007 of the ``test`` group of the
widely shared ``usps.h5`` file.  The package ships a lossless compact copy of
that file, so no download is needed.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from pathlib import Path
from typing import Optional, Union

import h5py
import numpy as np

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.bundled import read_bundle
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]

#: Where ``load_usps(download=True)`` fetches ``usps.h5`` (the layout of the
#: Kaggle "bistaumanga/usps-dataset" file that DEC/IDEC/SDCN code reads).  Kaggle
#: needs a login, so this is a public GitHub copy; whatever the URL serves is
#: accepted only if its SHA-256 equals :data:`USPS_SHA256`.
USPS_URL = "https://raw.githubusercontent.com/niuers/Learning-From-Data-A-Short-Course/master/data/usps.h5"
#: SHA-256 of the reference ``usps.h5`` (2,913,522 bytes).
USPS_SHA256 = "734f88c541104a956d88be2c95d03b4a463ffd74ccc2ba9c80841fb98e3fcb36"
USPS_N_TRAIN = 7291
USPS_N_TEST = 2007
USPS_IMAGE_SHAPE = (16, 16)

# The bundle stores k = round(2000 * x) as uint16.
_SCALE = 2000


def default_root() -> Path:
    r"""Folder for downloaded data: ``$VGDCN_DATA`` or ``~/.cache/vgdcn_pyg``."""
    env = os.environ.get("VGDCN_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "vgdcn_pyg"


def encode_usps(x: np.ndarray) -> np.ndarray:
    r"""Encodes USPS pixels as :obj:`uint16` :obj:`round(2000 * x)`; exact
    because every USPS value is a multiple of 0.0005 (see :func:`decode_usps`)."""
    return np.rint(np.asarray(x, dtype=np.float64) * _SCALE).astype(np.uint16)


def decode_usps(k: np.ndarray) -> np.ndarray:
    r"""Inverts :func:`encode_usps` bit-exactly.

    The h5 values were made as :obj:`(v + 1) / 2` in float32 from the original
    USPS scale :obj:`v` in :obj:`[-1, 1]` with three decimals, so replaying
    that float32 arithmetic (rather than :obj:`k / 2000`, which differs in the
    last bit for about 11% of the pixels) reproduces them exactly.
    """
    k = np.asarray(k)
    v = ((k.astype(np.float64) - _SCALE / 2) / (_SCALE / 2)).astype(np.float32)
    return (v + np.float32(1.0)) / np.float32(2.0)


def _sha256(path: PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_usps_h5(path: PathLike) -> tuple[np.ndarray, np.ndarray, int]:
    r"""Reads a ``usps.h5`` file (groups ``train`` and ``test``, each with
    ``data`` of shape :obj:`(N, 256)` and ``target``) and returns
    :obj:`(x, y, n_train)`: both groups concatenated, train first, with
    :obj:`x` as stored (float32 in :obj:`[0, 1]`) and :obj:`y` as
    :obj:`int64`.

    Raises:
        DataError: If the file is missing, not HDF5, or has another layout.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file or folder: '{path}'")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataError(f"cannot read '{path}' as HDF5: {exc}") from None
    xs, ys = [], []
    with f:
        for group in ("train", "test"):
            if group not in f or not isinstance(f[group], h5py.Group):
                raise DataError(f"'{path}' is not a USPS h5 file: it has no group '{group}' "
                                f"(top-level keys: {', '.join(sorted(f.keys())) or 'none'})")
            g = f[group]
            for key in ("data", "target"):
                if key not in g:
                    raise DataError(f"'{path}': group '{group}' has no dataset '{key}' "
                                    f"(keys: {', '.join(sorted(g.keys())) or 'none'})")
            x, y = np.asarray(g["data"][()]), np.asarray(g["target"][()]).reshape(-1)
            if x.ndim != 2 or x.shape[1] != 256 or y.shape[0] != x.shape[0]:
                raise DataError(f"'{path}': group '{group}' has data {x.shape} and target {y.shape}, "
                                "expected (N, 256) and (N,)")
            xs.append(x.astype(np.float32, copy=False))
            ys.append(y.astype(np.int64))
    return np.concatenate(xs), np.concatenate(ys), xs[0].shape[0]


def download_usps(root: Optional[PathLike] = None, url: str = USPS_URL, timeout: float = 60.0) -> Path:
    r"""Downloads ``usps.h5`` into :obj:`root` (default :func:`default_root`)
    unless a verified copy is already there, and returns its path.

    The file is streamed to a temporary file in :obj:`root`, its SHA-256 is
    checked against :data:`USPS_SHA256`, and only then is it renamed into
    place, so an interrupted or wrong download never leaves a bad
    ``usps.h5`` behind.

    Raises:
        DataError: If the URL cannot be reached or serves another file.
    """
    root = Path(root).expanduser() if root is not None else default_root()
    target = root / "usps.h5"
    if target.is_file() and _sha256(target) == USPS_SHA256:
        return target
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create download folder '{root}': {exc}") from None

    fd, tmp = tempfile.mkstemp(prefix=".usps.h5.", suffix=".part", dir=root)
    try:
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 16), b""):
                    digest.update(block)
                    out.write(block)
        except OSError as exc:  # URLError, timeouts and HTTP errors are all OSErrors
            raise DataError(f"cannot download USPS from {url} ({exc}); are you offline? "
                            "Get usps.h5 by hand and pass path=..., or use the bundled copy "
                            "(download=False)") from None
        if digest.hexdigest() != USPS_SHA256:
            raise DataError(f"the file downloaded from {url} is not the reference usps.h5 "
                            f"(sha256 {digest.hexdigest()}, expected {USPS_SHA256})")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_usps(path: Optional[PathLike] = None, download: bool = False,
              root: Optional[PathLike] = None, *, url: str = USPS_URL) -> ClusteringData:
    r"""Loads the 9298 USPS digits used in deep clustering papers.

    Samples are the 7291 ``train`` images followed by the 2007 ``test``
    images, as 256 float32 pixels in :obj:`[0, 1]` (row-major 16x16, ink is
    bright), with digit labels 0-9.  Cite Hull, J. J., "A database for
    handwritten text recognition research", IEEE TPAMI 16(5), 1994.

    Args:
        path (str or PathLike, optional): A ``usps.h5`` file to read instead
            of the bundled copy.
        download (bool): If :obj:`True` (and no :obj:`path`), fetch
            ``usps.h5`` from :obj:`url` into :obj:`root` (reused when already
            there) and read it.  Not needed: the bundled copy is identical.
        root (str or PathLike, optional): Download folder; default
            ``$VGDCN_DATA`` or ``~/.cache/vgdcn_pyg``.
        url (str): Download address, :data:`USPS_URL` by default.

    Returns:
        ClusteringData: :obj:`x` of shape :obj:`(9298, 256)`, :obj:`y`,
        names ``"train/i"`` / ``"test/i"``, :obj:`image_shape` :obj:`(16, 16)`.
    """
    if path is not None:
        x, y, n_train = read_usps_h5(path)
        origin = f"'{path}'"
    elif download:
        h5 = download_usps(root, url=url)
        x, y, n_train = read_usps_h5(h5)
        origin = f"'{h5}'"
    else:
        z = read_bundle("usps.npz", "USPS", "pass path=... to a usps.h5 file")
        x, y, n_train = decode_usps(z["x"]), z["y"].astype(np.int64), USPS_N_TRAIN
        origin = "bundled copy"

    names = [f"train/{i}" for i in range(n_train)] + [f"test/{i}" for i in range(x.shape[0] - n_train)]
    return ClusteringData(
        x=x, y=y, names=names, class_names=[str(d) for d in range(10)],
        image_shape=USPS_IMAGE_SHAPE,
        source=f"USPS digits (Hull 1994), {x.shape[0]} images, {origin}",
    )
