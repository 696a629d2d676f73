r"""Rebuilds the bundled data in ``vgdcn_pyg/datasets/_data`` from the sources.

Usage, from a source checkout::

    python -m vgdcn_pyg.datasets.make_bundles [NAME ...] [--shared ../shared/data]

(``NAME`` picks bundles, e.g. ``coil20 isolet``; default all.)

``--shared`` must hold ``usps/usps.h5``, ``flavia10/<species>/<id>.jpg``,
``coil20/coil20.npz`` and ``isolet/isolet.npz``; by default it is
``$VGDCN_SHARED_DATA``, else ``../shared/data`` next to the checkout
(:func:`default_shared`), where the tests look too.
Each bundle is checked against its source before it is written:

* ``usps.npz``: ``x`` = uint16 ``round(2000 * pixel)`` (decodes bit-exactly,
  see :func:`vgdcn_pyg.datasets.usps.decode_usps`), ``y`` = uint8 digits;
  train then test.
* ``flavia10_64x48.npz``: ``x`` = uint8 ``round(255 * pixel)`` of
  :func:`load_image_folder` at 64x48 grey, stretched (``keep_aspect=False``),
  ``y`` = uint8 labels, ``class_names``, ``names``.
* ``coil20.npz``: the source's uint8 ``x`` (1440, 1024) and ``y`` unchanged
  (only recompressed), after checking its hash and the 20 x 72 labels.
* ``isolet.npz``: ``x`` = int16 ``round(10000 * x)`` (decodes bit-exactly,
  see :func:`vgdcn_pyg.datasets.isolet.decode_isolet`), ``y`` = uint8.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
from pathlib import Path

import numpy as np

from vgdcn_pyg.datasets.coil20 import COIL20_N_OBJECTS, COIL20_N_VIEWS, COIL20_SHA256, read_coil20
from vgdcn_pyg.datasets.flavia import FLAVIA10_CLASSES, FLAVIA10_IMAGE_SIZE
from vgdcn_pyg.datasets.images import load_image_folder
from vgdcn_pyg.datasets.isolet import ISOLET_CLASSES, ISOLET_N_PER_CLASS, ISOLET_SHA256, decode_isolet, \
    encode_isolet, read_isolet
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


def _check_sha256(path: Path, expected: str) -> None:
    r"""Refuses a source other than the one ``_data/SOURCE.md`` describes,
    so that a rebuilt bundle is the documented one."""
    digest = _sha256(path)
    if digest != expected:
        raise SystemExit(f"{path}: sha256 {digest} is not the reference {expected}")


def _check_counts(path: Path, y: np.ndarray, n_classes: int, per_class: int) -> None:
    r"""Refuses labels other than :obj:`per_class` of each of
    :obj:`n_classes` classes (the documented balanced sets)."""
    counts = np.bincount(y, minlength=n_classes)
    if counts.shape != (n_classes,) or np.any(counts != per_class):
        raise SystemExit(f"{path}: label counts {counts.tolist()}, expected {n_classes} x {per_class}")


def _save_exact(source: Path, target: Path, x: np.ndarray, encode, decode, y: np.ndarray) -> Path:
    r"""Writes :obj:`encode(x)` and uint8 :obj:`y` to :obj:`target` only if
    :obj:`decode` gives back every float32 bit of :obj:`x`, so that no
    bundle ever differs from its source."""
    k = encode(x)
    if not np.array_equal(decode(k).view(np.uint32), x.view(np.uint32)):
        raise SystemExit(f"{source}: the {k.dtype} encoding is not lossless")
    np.savez_compressed(target, x=k, y=y.astype(np.uint8))
    return target


def build_usps(h5: Path, out: Path) -> Path:
    r"""Writes ``usps.npz`` from ``usps.h5`` after checking the hash and that
    decoding gives back every float32 bit for bit."""
    _check_sha256(h5, USPS_SHA256)
    x, y, n_train = read_usps_h5(h5)
    if x.shape != (USPS_N_TRAIN + USPS_N_TEST, 256) or n_train != USPS_N_TRAIN:
        raise SystemExit(f"{h5}: unexpected shape {x.shape} / {n_train} training images")
    return _save_exact(h5, out / "usps.npz", x, encode_usps, decode_usps, y)


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


def build_coil20(source: Path, out: Path) -> Path:
    r"""Writes ``coil20.npz``: the source's uint8 arrays unchanged, since
    8-bit pixels are already as compact as lossless storage gets here."""
    _check_sha256(source, COIL20_SHA256)
    x, y = read_coil20(source)
    _check_counts(source, y, COIL20_N_OBJECTS, COIL20_N_VIEWS)
    target = out / "coil20.npz"
    np.savez_compressed(target, x=x, y=y.astype(np.uint8))
    return target


def build_isolet(source: Path, out: Path) -> Path:
    r"""Writes ``isolet.npz`` as int16 after checking the hash and that
    decoding gives back every float32 bit for bit (int16 compresses to about
    70% of the float32 size)."""
    _check_sha256(source, ISOLET_SHA256)
    x, y = read_isolet(source)
    _check_counts(source, y, len(ISOLET_CLASSES), ISOLET_N_PER_CLASS)
    return _save_exact(source, out / "isolet.npz", x, encode_isolet, decode_isolet, y)


#: Bundle name -> (builder, its source inside ``--shared``), in build order.
BUNDLES = {
    "usps": (build_usps, "usps/usps.h5"),
    "flavia10": (build_flavia10, "flavia10"),
    "coil20": (build_coil20, "coil20/coil20.npz"),
    "isolet": (build_isolet, "isolet/isolet.npz"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"bundles to rebuild, of {', '.join(BUNDLES)} (default: all); naming some "
                             "leaves the other files untouched")
    parser.add_argument("--shared", type=Path, default=default_shared(),
                        help=f"folder holding {', '.join(src for _, src in BUNDLES.values())} "
                             f"(default: ${SHARED_ENV} or ../shared/data beside the checkout: %(default)s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BUNDLES]
    if unknown:
        parser.error(f"unknown bundle {', '.join(unknown)} (choose from {', '.join(BUNDLES)})")
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or BUNDLES:
        build, source = BUNDLES[name]
        target = build(args.shared / source, args.out)
        blob = target.read_bytes()
        print(f"{target}: {len(blob)} bytes, sha256 {hashlib.sha256(blob).hexdigest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
