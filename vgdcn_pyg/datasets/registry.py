r"""One entry point, :func:`load_dataset`, for every kind of input."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Union

from vgdcn_pyg.datasets.arrays import load_array
from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.flavia import load_flavia10
from vgdcn_pyg.datasets.images import ImageSize, _normalize_size, load_image_folder
from vgdcn_pyg.datasets.usps import USPS_IMAGE_SHAPE, load_usps
from vgdcn_pyg.exceptions import DataError

#: Names of the bundled data sets accepted by :func:`load_dataset`.
DATASETS = ("usps", "flavia10")
_ALIASES = {"usps": "usps", "flavia10": "flavia10", "flavia": "flavia10"}
_ARRAY_SUFFIXES = (".npy", ".npz", ".csv")
_H5_SUFFIXES = (".h5", ".hdf5")


def load_dataset(spec: Union[str, os.PathLike], image_size: ImageSize = None, grayscale: bool = True,
                 **kwargs: Any) -> ClusteringData:
    r"""Loads a data set named by a string, as the command line does.

    Args:
        spec (str or PathLike): ``"usps"`` or ``"flavia10"`` (bundled, see
            :func:`load_usps` and :func:`load_flavia10`); a folder of images
            (:func:`load_image_folder`); a ``.npy`` / ``.npz`` / ``.csv``
            file (:func:`load_array`); or a ``.h5`` file in the USPS layout.
            The names win over a folder of the same name in the working
            directory; write ``./usps`` for the folder.
        image_size (int or tuple, optional): :obj:`(width, height)` for image
            folders (default :obj:`(64, 48)`) and Flavia; USPS is fixed at
            16x16 and arrays cannot be resized.
        grayscale (bool): Grey or RGB for image folders and Flavia; USPS is
            grey only.
        **kwargs: Passed on to the loader (e.g. :obj:`on_error` for folders,
            :obj:`labels` for arrays, :obj:`path` for the named sets).

    Raises:
        DataError: If :obj:`spec` is neither a known name nor an existing
            file or folder, the file type is unsupported, or an option does
            not apply.
    """
    text = os.fspath(spec)
    name = _ALIASES.get(text.lower()) if isinstance(spec, str) else None
    if name == "usps":
        size = _normalize_size(image_size)
        if size is not None and size != USPS_IMAGE_SHAPE[::-1]:
            raise DataError(f"USPS images are 16x16; image_size {size} is not available")
        if not grayscale:
            raise DataError("USPS images are grey only; grayscale=False is not available")
        return load_usps(**kwargs)
    if name == "flavia10":
        return load_flavia10(image_size=image_size, grayscale=grayscale, **kwargs)

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
