import sys

import numpy as np
import pytest

from vgdcn_pyg.datasets import (ClusteringData, ImageFeatures,
                                extract_features)
from vgdcn_pyg.datasets.features import (N_SHAPE_FEATURES, hog_features,
                                         shape_features)
from vgdcn_pyg.exceptions import DataError

from ..conftest import make_shapes


@pytest.fixture(scope='module')
def shapes():
    return make_shapes()


def test_pixels_pass_through(shapes):
    x, _, shape = shapes
    f = ImageFeatures('pixels', shape)
    out = f.fit_transform(x)
    assert out is not None and np.array_equal(out, x)
    # no image shape needed for pixels, and values stay in [0, 1]
    assert np.array_equal(ImageFeatures().fit_transform(x), x)


@pytest.mark.parametrize('kind', ['hog', 'shape'])
def test_descriptors_are_standardised(shapes, kind):
    x, _, shape = shapes
    f = ImageFeatures(kind, shape)
    out = f.fit_transform(x)
    assert out.shape[0] == len(x) and out.dtype == np.float32
    assert np.isfinite(out).all()
    assert np.allclose(out.mean(0), 0, atol=1e-4)
    varying = out.std(0) > 0
    assert varying.sum() > out.shape[1] // 2
    assert np.allclose(out.std(0)[varying], 1, atol=1e-3)
    # transform of new images uses the training mean and scale
    assert np.allclose(f.transform(x), out, atol=1e-5)
    assert not np.allclose(f.transform(x[:5]).mean(0), 0, atol=1e-3)


def test_shape_features_ignore_rotation_and_polarity(shapes):
    x, _, shape = shapes
    images = x.reshape((-1, ) + shape)
    base = shape_features(images[:6])
    assert base.shape == (6, N_SHAPE_FEATURES)
    rotated = shape_features(np.stack([np.rot90(im) for im in images[:6]]))
    # rot90 is exact: the silhouette and its pixels do not change
    assert np.allclose(rotated[:, :15], base[:, :15], atol=1e-4)
    # a light object on a dark background gives the same silhouette
    inverted = shape_features(1 - images[:6])
    assert np.allclose(inverted[:, :6], base[:, :6], atol=1e-6)


def test_shape_features_separate_the_shapes(shapes):
    x, y, shape = shapes
    f = shape_features(x.reshape((-1, ) + shape))
    # eccentricity: the thin ellipse stands out from the disc and square
    ecc = [f[y == c, 1].mean() for c in range(3)]
    assert ecc[1] > 0.9 and ecc[0] < 0.6 and ecc[2] < 0.6


def test_blank_images_get_zeros():
    blank = np.ones((2, 10, 12), dtype=np.float32)
    assert np.array_equal(shape_features(blank),
                          np.zeros((2, N_SHAPE_FEATURES)))


def test_hog_cells_follow_image_size(shapes):
    x, _, shape = shapes
    assert hog_features(x[:2].reshape((-1, ) + shape)).shape[1] > 0
    with pytest.raises(DataError, match='too small'):
        hog_features(np.ones((1, 3, 3), dtype=np.float32))


def test_colour_images_are_made_grey(shapes):
    x, _, shape = shapes
    colour = np.repeat(x.reshape(len(x), -1, 1), 3, axis=2).reshape(len(x),
                                                                    -1)
    grey = ImageFeatures('shape', shape).fit_transform(x)
    rgb = ImageFeatures('shape', shape + (3, )).fit_transform(colour)
    assert np.allclose(grey, rgb, atol=1e-3)


def test_state_round_trip(shapes):
    x, _, shape = shapes
    f = ImageFeatures('hog', shape).fit(x)
    g = ImageFeatures.from_state(f.state())
    assert np.array_equal(f.transform(x[:4]), g.transform(x[:4]))
    p = ImageFeatures.from_state(ImageFeatures('pixels').fit(x).state())
    assert np.array_equal(p.transform(x), x)


def test_extract_features_keeps_labels(shapes):
    x, y, shape = shapes
    data = ClusteringData(x=x, y=y, image_shape=shape, source='shapes',
                          class_names=['disc', 'ellipse', 'square'])
    out = extract_features(data, 'shape')
    assert out.x.shape == (len(x), N_SHAPE_FEATURES)
    assert out.image_shape is None and np.array_equal(out.y, y)
    assert out.names == data.names and out.class_names == data.class_names
    assert 'shape features' in out.source
    assert extract_features(data, 'pixels') is data


@pytest.mark.parametrize('kwargs, x, message', [
    (dict(kind='sift', image_shape=(2, 2)), np.ones((3, 4)), 'unknown'),
    (dict(kind='hog'), np.ones((3, 4)), 'plain vectors'),
    (dict(kind='shape', image_shape=(3, 3)), np.ones((3, 4)), 'does not'),
    (dict(kind='shape', image_shape=(2, 2)), np.ones(4), '2-D'),
])
def test_bad_input(kwargs, x, message):
    with pytest.raises(DataError, match=message):
        ImageFeatures(**kwargs).fit(x)


def test_transform_before_fit(shapes):
    x, _, shape = shapes
    with pytest.raises(DataError, match='fit'):
        ImageFeatures('shape', shape).transform(x)


def test_missing_scikit_image_names_the_extra(shapes, monkeypatch):
    x, _, shape = shapes
    monkeypatch.setitem(sys.modules, 'skimage', None)
    with pytest.raises(ImportError, match=r'vgdcn-pyg\[features\]'):
        ImageFeatures('hog', shape).fit(x)
