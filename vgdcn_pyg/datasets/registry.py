r"""One entry point, :func:`load_dataset`, for every kind of input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from vgdcn_pyg.datasets.arrays import load_array
from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.coil20 import COIL20_IMAGE_SHAPE, load_coil20
from vgdcn_pyg.datasets.flavia import load_flavia10
from vgdcn_pyg.datasets.images import ImageSize, _normalize_size, load_image_folder
from vgdcn_pyg.datasets.isolet import load_isolet
from vgdcn_pyg.datasets.usps import USPS_IMAGE_SHAPE, load_usps
from vgdcn_pyg.exceptions import DataError

#: Names of the bundled data sets accepted by :func:`load_dataset`.
DATASETS = ("usps", "flavia10", "coil20", "isolet")
_ALIASES = {"usps": "usps", "flavia10": "flavia10", "flavia": "flavia10", "coil20": "coil20",
            "coil-20": "coil20", "isolet": "isolet"}
#: The bundled image sets of one fixed grey size: name -> (label, (H, W), loader).
_FIXED_GREY = {"usps": ("USPS", USPS_IMAGE_SHAPE, load_usps),
               "coil20": ("COIL-20", COIL20_IMAGE_SHAPE, load_coil20)}
_ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
_H5_SUFFIXES = (".h5", ".hdf5")


def _check_fixed_grey(name: str, image_size: ImageSize, grayscale: bool) -> None:
    r"""Refuses a size or colour a fixed grey bundled set (USPS, COIL-20)
    does not have, rather than silently ignoring the option."""
    label, (h, w), _ = _FIXED_GREY[name]
    size = _normalize_size(image_size)
    if size is not None and size != (w, h):
        raise DataError(f"{label} images are {w}x{h}; image_size {size} is not available")
    if not grayscale:
        raise DataError(f"{label} images are grey only; grayscale=False is not available")


def load_dataset(spec: Union[str, os.PathLike], image_size: ImageSize = None, grayscale: bool = True,
                 **kwargs: Any) -> ClusteringData:
    r"""Loads a data set named by a string, as the command line does.

    Args:
        spec (str or PathLike): ``"usps"``, ``"flavia10"``, ``"coil20"`` or
            ``"isolet"`` (bundled, see :func:`load_usps`,
            :func:`load_flavia10`, :func:`load_coil20` and
            :func:`load_isolet`); a folder of images
            (:func:`load_image_folder`); a ``.npy`` / ``.npz`` / ``.csv``
            file (:func:`load_array`); or a ``.h5`` file in the USPS layout.
            The names win over a folder of the same name in the working
            directory; write ``./usps`` for the folder.
        image_size (int or tuple, optional): :obj:`(width, height)` for image
            folders (default :obj:`(64, 48)`) and Flavia; USPS (16x16) and
            COIL-20 (32x32) are fixed, and arrays and ISOLET (feature
            vectors) cannot be resized.
        grayscale (bool): Grey or RGB for image folders and Flavia; USPS and
            COIL-20 are grey only.
        **kwargs: Passed on to the loader (e.g. :obj:`on_error` for folders,
            :obj:`labels` for arrays, :obj:`path` for the named sets).

    Raises:
        DataError: If :obj:`spec` is neither a known name nor an existing
            file or folder, the file type is unsupported, or an option does
            not apply.
    """
    text = os.fspath(spec)
    name = _ALIASES.get(text.lower()) if isinstance(spec, str) else None
    if name in _FIXED_GREY:
        _check_fixed_grey(name, image_size, grayscale)
        return _FIXED_GREY[name][2](**kwargs)
    if name == "flavia10":
        return load_flavia10(image_size=image_size, grayscale=grayscale, **kwargs)
    if name == "isolet":
        if image_size is not None or not grayscale:
            raise DataError("ISOLET samples are 617 speech features, not images; "
                            "image_size/grayscale do not apply")
        return load_isolet(**kwargs)

    path = Path(text).expanduser()
    if path.is_dir():
        return load_image_folder(path, image_size=image_size if image_size is not None else (64, 48),
                                 grayscale=grayscale, **kwargs)
    if not path.exists():
        raise DataError(f"no such file or folder: '{text}' (nor a data set name: {', '.join(DATASETS)})")
    suffix = path.suffix.lower()
    if suffix in _H5_SUFFIXES:
        if image_size is not None or not grayscale:
            raise DataError(f"'{text}' is read as USPS (16x16 grey); image_size/grayscale do not apply")
        return load_usps(path=path, **kwargs)
    if suffix in _ARRAY_SUFFIXES:
        if image_size is not None:
            raise DataError(f"image_size applies to image folders, not to the array file '{text}'")
        return load_array(path, **kwargs)
    raise DataError(f"unsupported file type '{suffix or text}' for '{text}' (expected a folder of images, "
                    f"{', '.join(_ARRAY_SUFFIXES + _H5_SUFFIXES)})")
