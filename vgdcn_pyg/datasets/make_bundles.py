r"""Rebuilds the bundled data in ``vgdcn_pyg/datasets/_data`` from the sources.

Usage, from a source checkout::

    python -m vgdcn_pyg.datasets.make_bundles [--shared ../shared/data]

``--shared`` must hold ``usps/usps.h5`` and ``flavia10/<species>/<id>.jpg``;
by default it is ``$VGDCN_SHARED_DATA``, else ``../shared/data`` next to the
checkout (:func:`default_shared`), where the tests look too.
Each bundle is checked against its source before it is written:

* ``usps.npz``: ``x`` = uint16 ``round(2000 * pixel)`` (decodes bit-exactly,
  see :func:`vgdcn_pyg.datasets.usps.decode_usps`), ``y`` = uint8 digits;
  train then test.
* ``flavia10_64x48.npz``: ``x`` = uint8 ``round(255 * pixel)`` of
  :func:`load_image_folder` at 64x48 grey, stretched (``keep_aspect=False``),
  ``y`` = uint8 labels, ``class_names``, ``names``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from vgdcn_pyg.datasets.flavia import FLAVIA10_CLASSES, FLAVIA10_IMAGE_SIZE
from vgdcn_pyg.datasets.images import load_image_folder
from vgdcn_pyg.datasets.usps import USPS_N_TEST, USPS_N_TRAIN, USPS_SHA256, _sha256, decode_usps, \
    encode_usps, read_usps_h5

DEFAULT_OUT = Path(__file__).resolve().parent / "_data"
#: Environment variable naming the folder of the source data.
SHARED_ENV = "VGDCN_SHARED_DATA"


def default_shared() -> Path:
    r"""The folder of the source data: ``$VGDCN_SHARED_DATA`` if set, else
    ``shared/data`` beside the source checkout this module lies in."""
    env = os.environ.get(SHARED_ENV)
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / ".." / "shared" / "data"


def build_usps(h5: Path, out: Path) -> Path:
    r"""Writes ``usps.npz`` from ``usps.h5`` after checking the hash and that
    decoding gives back every float32 bit for bit."""
    digest = _sha256(h5)
    if digest != USPS_SHA256:
        raise SystemExit(f"{h5}: sha256 {digest} is not the reference {USPS_SHA256}")
    x, y, n_train = read_usps_h5(h5)
    if x.shape != (USPS_N_TRAIN + USPS_N_TEST, 256) or n_train != USPS_N_TRAIN:
        raise SystemExit(f"{h5}: unexpected shape {x.shape} / {n_train} training images")
    k = encode_usps(x)
    if not np.array_equal(decode_usps(k).view(np.uint32), x.view(np.uint32)):
        raise SystemExit(f"{h5}: the uint16 encoding is not lossless")
    target = out / "usps.npz"
    np.savez_compressed(target, x=k, y=y.astype(np.uint8))
    return target


def build_flavia10(folder: Path, out: Path) -> Path:
    r"""Writes ``flavia10_64x48.npz`` from the folder of Flavia JPEGs."""
    data = load_image_folder(folder, image_size=FLAVIA10_IMAGE_SIZE, grayscale=True, keep_aspect=False)
    counts = dict(zip(data.class_names, np.bincount(data.y).tolist()))
    if counts != FLAVIA10_CLASSES:
        raise SystemExit(f"{folder}: class sizes {counts} differ from {FLAVIA10_CLASSES}")
    target = out / f"flavia10_{FLAVIA10_IMAGE_SIZE[0]}x{FLAVIA10_IMAGE_SIZE[1]}.npz"
    np.savez_compressed(target, x=np.rint(data.x * 255).astype(np.uint8), y=data.y.astype(np.uint8),
                        class_names=np.asarray(data.class_names), names=np.asarray(data.names))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=default_shared(),
                        help=f"folder holding usps/usps.h5 and flavia10/ (default: ${SHARED_ENV} or "
                             f"../shared/data beside the checkout: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for target in (build_usps(args.shared / "usps" / "usps.h5", args.out),
                   build_flavia10(args.shared / "flavia10", args.out)):
        blob = target.read_bytes()
        print(f"{target}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
