r"""Hand-crafted image descriptors, a step between the data and the graph.

Raw pixels are a weak input on small photo collections: on the 598 Flavia
leaves the same species appears at any rotation and position, so pixel
distances mostly measure pose. :class:`ImageFeatures` turns images into

* :obj:`"pixels"`: the images themselves (values kept in :math:`[0, 1]`, so
  the auto-encoder keeps its Bernoulli likelihood);
* :obj:`"hog"`: histograms of oriented gradients (`Dalal and Triggs, CVPR
  2005 <https://doi.org/10.1109/CVPR.2005.177>`_), local edge directions;
* :obj:`"shape"`: rotation- and position-invariant descriptors of the
  object's silhouette, the classic features of leaf recognition (`Wu et al.,
  ISSPIT 2007 <https://arxiv.org/abs/0707.4289>`_): relative area,
  eccentricity, solidity, extent, aspect ratio, roundness, the seven Hu
  moments (`Hu, IRE Trans. Inf. Theory 1962
  <https://doi.org/10.1109/TIT.1962.1057692>`_, log magnitudes, so also
  invariant to mirroring), mean and spread
  of the grey level inside the silhouette, and a rotation-invariant uniform
  LBP texture histogram (`Ojala et al., TPAMI 2002
  <https://doi.org/10.1109/TPAMI.2002.1017623>`_) of the object's pixels.

:obj:`"hog"` and :obj:`"shape"` are standardised to zero mean and unit
variance over the fitted samples; their values leave :math:`[0, 1]`, so the
estimators then use the Gaussian likelihood. They need scikit-image (the
:obj:`features` extra: ``pip install vgdcn-pyg[features]``).
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
from scipy import ndimage

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.exceptions import DataError

#: The descriptor kinds :class:`ImageFeatures` knows.
FEATURES = ('pixels', 'hog', 'shape')
#: Number of :obj:`"shape"` descriptors per image.
N_SHAPE_FEATURES = 8 + 7 + 10
# Grey-level weights of colour images (ITU-R 601-2 luma, as PIL uses).
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _skimage():
    try:
        import skimage  # noqa: F401
    except ImportError:
        raise ImportError("the 'hog' and 'shape' features need scikit-image: "
                          "pip install 'vgdcn-pyg[features]'") from None


def _grey_images(x: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    r"""Rows of :obj:`x` as grey images :obj:`(N, H, W)`."""
    images = np.asarray(x, dtype=np.float32).reshape((len(x), ) +
                                                     tuple(image_shape))
    if images.ndim == 4:
        images = images @ _LUMA if images.shape[-1] == 3 else \
            images.mean(-1)
    return images


def hog_features(images: np.ndarray) -> np.ndarray:
    r"""HOG descriptors of grey images :obj:`(N, H, W)`: 9 orientations,
    cells of about a sixth of the shorter side (8 pixels for 64 x 48),
    2 x 2-cell blocks with L2-Hys normalisation."""
    _skimage()
    from skimage.feature import hog
    h, w = images.shape[1:]
    cell = max(2, int(round(min(h, w) / 6)))
    if min(h, w) < 2 * cell:
        raise DataError(f'images of {w}x{h} pixels are too small for HOG '
                        f'features (at least {2 * cell} pixels a side)')
    return np.stack([
        hog(img, orientations=9, pixels_per_cell=(cell, cell),
            cells_per_block=(2, 2), block_norm='L2-Hys', feature_vector=True)
        for img in images
    ]).astype(np.float32)


def _silhouette(img: np.ndarray) -> np.ndarray:
    r"""The largest object of :obj:`img` as a boolean mask (Otsu's threshold;
    the background is the side the image border lies on)."""
    from skimage.filters import threshold_otsu
    if img.max() - img.min() < 1e-6:
        return np.zeros(img.shape, dtype=bool)
    t = threshold_otsu(img)
    border = np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])
    mask = img < t if np.median(border) >= t else img > t
    mask = ndimage.binary_fill_holes(mask)
    parts, n = ndimage.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(parts.ravel())[1:]
    return parts == (int(sizes.argmax()) + 1)


def shape_features(images: np.ndarray) -> np.ndarray:
    r"""The :obj:`"shape"` descriptors (see the module documentation) of
    grey images :obj:`(N, H, W)`, :obj:`N_SHAPE_FEATURES` per image. An image
    without an object (a blank one) gets zeros."""
    _skimage()
    from skimage.feature import local_binary_pattern
    from skimage.measure import regionprops
    out = np.zeros((len(images), N_SHAPE_FEATURES), dtype=np.float64)
    for i, img in enumerate(images):
        mask = _silhouette(img)
        if mask.sum() < 3:
            continue
        region = regionprops(mask.astype(np.uint8))[0]
        major = max(region.axis_major_length, 1e-6)
        perimeter = max(region.perimeter, 1e-6)
        # Hu moments span many orders of magnitude: compare the logs of
        # their magnitudes. Signs are dropped (the last one flips with a
        # mirrored leaf; a signed log jumps between +-large values near 0),
        # and magnitudes below 1e-15 are rounding noise.
        hu = -np.log10(np.maximum(np.abs(region.moments_hu), 1e-15))
        grey = img[mask]
        codes = local_binary_pattern(
            np.round(img * 255).astype(np.uint8), 8, 1, 'uniform')[mask]
        texture = np.bincount(codes.astype(np.int64), minlength=10)[:10] / \
            codes.size
        out[i] = np.concatenate([
            [region.area / img.size, region.eccentricity, region.solidity,
             region.extent, region.axis_minor_length / major,
             4 * np.pi * region.area / perimeter ** 2,
             grey.mean(), grey.std()],
            np.clip(hu, -30, 30), texture])
    return out.astype(np.float32)


class ImageFeatures:
    r"""Turns images into descriptors, in the style of a scikit-learn
    transformer: :meth:`fit` learns the standardisation on the training
    images, :meth:`transform` applies the same to new ones.

    Args:
        kind (str): :obj:`"pixels"`, :obj:`"hog"` or :obj:`"shape"` (see the
            module documentation). (default: :obj:`"pixels"`)
        image_shape (tuple): :obj:`(H, W)` or :obj:`(H, W, C)` of one row
            of :obj:`X`. Required for :obj:`"hog"` and :obj:`"shape"`.
    """
    def __init__(self, kind: str = 'pixels',
                 image_shape: Optional[Sequence[int]] = None):
        self.kind = kind
        self.image_shape = image_shape

    def _check(self, x) -> np.ndarray:
        if self.kind not in FEATURES:
            raise DataError(f'unknown features {self.kind!r}; choose one of '
                            f'{", ".join(FEATURES)}')
        x = np.asarray(x, dtype=np.float32)
        if x.ndim != 2:
            raise DataError(f'X must be 2-D (n_samples, n_features), got '
                            f'shape {x.shape}')
        if self.kind == 'pixels':
            return x
        if self.image_shape is None:
            raise DataError(f"'{self.kind}' features need images; these "
                            f'samples are plain vectors')
        if int(np.prod(self.image_shape)) != x.shape[1] or \
                len(self.image_shape) not in (2, 3):
            raise DataError(f'image shape {tuple(self.image_shape)} does not '
                            f'match {x.shape[1]} values per sample')
        return x

    def _describe(self, x: np.ndarray) -> np.ndarray:
        images = _grey_images(x, self.image_shape)
        if self.kind == 'hog':
            return hog_features(images)
        return shape_features(images)

    def fit(self, X, y=None) -> 'ImageFeatures':
        r"""Learns the mean and scale of the descriptors of :obj:`X`."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        r"""Descriptors of :obj:`X`, standardised with their own mean and
        scale (which are kept for :meth:`transform`)."""
        x = self._check(X)
        if self.kind == 'pixels':
            self.mean_ = self.scale_ = None
            self.n_features_out_ = x.shape[1]
            return x
        f = self._describe(x)
        self.mean_ = f.mean(0)
        std = f.std(0)
        # A constant descriptor carries nothing; keep it at zero.
        self.scale_ = np.where(std > 1e-8, std, 1.0).astype(np.float32)
        self.n_features_out_ = f.shape[1]
        return (f - self.mean_) / self.scale_

    def transform(self, X) -> np.ndarray:
        r"""Descriptors of :obj:`X` with the standardisation of :meth:`fit`."""
        x = self._check(X)
        if self.kind == 'pixels':
            return x
        if not hasattr(self, 'mean_'):
            raise DataError('call fit() before transform()')
        return (self._describe(x) - self.mean_) / self.scale_

    def state(self) -> dict:
        r"""What :meth:`from_state` needs to rebuild the fitted transformer
        (plain lists, storable in a model file)."""
        return {'kind': self.kind,
                'image_shape': None if self.image_shape is None else
                [int(s) for s in self.image_shape],
                'mean': None if self.mean_ is None else self.mean_.tolist(),
                'scale': None if self.scale_ is None else
                self.scale_.tolist()}

    @classmethod
    def from_state(cls, state: dict) -> 'ImageFeatures':
        r"""The inverse of :meth:`state`."""
        out = cls(state['kind'], state['image_shape'])
        out.mean_ = None if state['mean'] is None else \
            np.asarray(state['mean'], dtype=np.float32)
        out.scale_ = None if state['scale'] is None else \
            np.asarray(state['scale'], dtype=np.float32)
        out.n_features_out_ = None if out.mean_ is None else len(out.mean_)
        return out

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(kind={self.kind!r})'


def extract_features(data: ClusteringData, kind: str = 'pixels'
                     ) -> ClusteringData:
    r"""Returns :obj:`data` with its images replaced by standardised
    :obj:`kind` descriptors (:class:`ImageFeatures`); labels, names and class
    names are kept, :obj:`image_shape` becomes :obj:`None` (except for
    :obj:`"pixels"`, which returns :obj:`data` unchanged).

    >>> from vgdcn_pyg.datasets import load_flavia10, extract_features
    >>> leaves = extract_features(load_flavia10(), 'shape')  # 598 x 25
    """
    if kind == 'pixels':
        return data
    x = ImageFeatures(kind, data.image_shape).fit_transform(data.x)
    return ClusteringData(x=x, y=data.y, names=list(data.names),
                          class_names=data.class_names, image_shape=None,
                          source=f'{data.source}, {kind} features'
                          if data.source else f'{kind} features')
