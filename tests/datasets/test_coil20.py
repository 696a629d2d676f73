import numpy as np
import pytest

from vgdcn_pyg.datasets import load_coil20, load_dataset
from vgdcn_pyg.exceptions import DataError


@pytest.fixture(scope="module")
def coil20():
    return load_coil20()


def test_bundle_shape_range_and_labels(coil20):
    assert coil20.x.shape == (1440, 1024) and coil20.x.dtype == np.float32
    assert coil20.x.min() == 0.0 and coil20.x.max() == 1.0
    assert coil20.y.dtype == np.int64
    assert np.bincount(coil20.y).tolist() == [72] * 20
    np.testing.assert_array_equal(coil20.y, np.repeat(np.arange(20), 72))  # object by object
    assert coil20.n_classes == 20 and coil20.class_names == [f"obj{i}" for i in range(1, 21)]
    assert coil20.image_shape == (32, 32) and coil20.images().shape == (1440, 32, 32)
    coil20.validate()


def test_pixels_are_exact_multiples_of_1_255(coil20):
    k = coil20.x.astype(np.float64) * 255
    assert np.abs(k - np.rint(k)).max() < 1e-4


def test_load_dataset_names_and_options():
    assert load_dataset("coil20").n_samples == 1440
    assert load_dataset("COIL-20").n_samples == 1440
    assert load_dataset("coil20", image_size=32).n_samples == 1440
    with pytest.raises(DataError, match="32x32"):
        load_dataset("coil20", image_size=(16, 16))
    with pytest.raises(DataError, match="grey only"):
        load_dataset("coil20", grayscale=False)


def test_user_file_and_bad_files(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 32, 32), dtype=np.uint8)
    np.savez(tmp_path / "c.npz", x=x, y=np.array([0, 1, 1, 0]))
    data = load_coil20(path=tmp_path / "c.npz")
    np.testing.assert_array_equal(data.x, x.reshape(4, -1) / np.float32(255))
    assert data.y.tolist() == [0, 1, 1, 0] and "c.npz" in data.source
    np.savez(tmp_path / "float.npz", x=x.astype(np.float32), y=np.zeros(4, int))
    with pytest.raises(DataError, match="uint8"):
        load_coil20(path=tmp_path / "float.npz")
    np.savez(tmp_path / "small.npz", x=x[:, :16], y=np.zeros(4, int))
    with pytest.raises(DataError, match=r"expected \(N, 1024\)"):
        load_coil20(path=tmp_path / "small.npz")
    np.savez(tmp_path / "nolabels.npz", x=x)
    with pytest.raises(DataError, match="no array 'y'"):
        load_coil20(path=tmp_path / "nolabels.npz")
    with pytest.raises(DataError, match="no such file"):
        load_coil20(path=tmp_path / "missing.npz")

