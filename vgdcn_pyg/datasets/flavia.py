r"""Ten species of the Flavia leaf database (Wu et al., 2007), 598 photographs.

The public copy these come from stores every photograph as a 256x256 JPEG,
squashed from the original 1600x1200 (4:3).  Resizing straight to a 4:3 size
(64x48 by default) restores the true leaf shapes, so both the bundled copy
and :func:`load_flavia10` with a folder stretch rather than letterbox.
"""

from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.datasets.bundled import read_bundle
from vgdcn_pyg.datasets.images import ImageSize, _normalize_size, load_image_folder
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]

#: The ten species (folder names) and their number of images.
FLAVIA10_CLASSES = {
    "Acer_palmatum": 56,
    "Cercis_chinensis": 72,
    "Cinnamomum_camphora": 65,
    "Ginkgo_biloba": 62,
    "Ilex_macrocarpa": 50,
    "Koelreuteria_paniculata": 59,
    "Manglietia_fordiana": 52,
    "Phyllostachys_edulis": 59,
    "Pittosporum_tobira": 63,
    "Viburnum_awabuki": 60,
}
#: :obj:`(width, height)` of the bundled copy: 4:3 like the original photos.
FLAVIA10_IMAGE_SIZE = (64, 48)


def load_flavia10(path: Optional[PathLike] = None, image_size: ImageSize = None,
                  grayscale: bool = True) -> ClusteringData:
    r"""Loads the 598 leaf photographs of ten Flavia species.

    Cite Wu, Bao, Xu, Wang, Chang, Xiang, "A Leaf Recognition Algorithm for
    Plant Classification Using Probabilistic Neural Network", IEEE ISSPIT
    2007, arXiv:0707.4289.

    Args:
        path (str or PathLike, optional): The folder of 256x256 JPEGs, one
            sub-folder per species.  :obj:`None` uses the bundled 64x48 grey
            copy, made from that folder by this same loader.
        image_size (int or tuple, optional): :obj:`(width, height)`; default
            :obj:`(64, 48)`.  Other sizes need :obj:`path`.  Images are
            stretched to it (not letterboxed) to undo the square squash, so
            keep it 4:3 for true shapes.
        grayscale (bool): The photos are grey; :obj:`False` repeats the grey
            value in three RGB channels.

    Returns:
        ClusteringData: 598 samples, 10 classes named by species, values in
        :obj:`[0, 1]` (background white), :obj:`image_shape` :obj:`(48, 64)`.
    """
    size = _normalize_size(image_size) or FLAVIA10_IMAGE_SIZE
    if path is not None:
        data = load_image_folder(path, image_size=size, grayscale=grayscale, keep_aspect=False)
        data.source = f"Flavia leaves (Wu et al. 2007), {data.source}"
        return data

    if size != FLAVIA10_IMAGE_SIZE:
        raise DataError(f"the bundled Flavia copy is {FLAVIA10_IMAGE_SIZE[0]}x{FLAVIA10_IMAGE_SIZE[1]}; "
                        f"for image_size {size} pass path=... to the folder of Flavia JPEGs")
    z = read_bundle("flavia10_64x48.npz", "Flavia", "pass path=... to the folder of Flavia JPEGs")
    x = z["x"].astype(np.float32) / np.float32(255.0)
    y = z["y"].astype(np.int64)
    class_names = z["class_names"].tolist()
    names = z["names"].tolist()
    w, h = FLAVIA10_IMAGE_SIZE
    image_shape: tuple = (h, w)
    if not grayscale:
        x = np.repeat(x, 3, axis=1)  # (N, H*W) -> interleaved (N, H*W*3)
        image_shape = (h, w, 3)
    return ClusteringData(x=x, y=y, names=names, class_names=class_names, image_shape=image_shape,
                          source=f"Flavia leaves (Wu et al. 2007), bundled {w}x{h} grey copy, "
                                 f"{x.shape[0]} images, {len(class_names)} classes")
