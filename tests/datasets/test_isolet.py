import numpy as np
import pytest

from vgdcn_pyg.datasets import ISOLET_CLASSES, load_dataset, load_isolet
from vgdcn_pyg.datasets.isolet import decode_isolet, encode_isolet, minmax_scale
from vgdcn_pyg.exceptions import DataError


@pytest.fixture(scope="module")
def isolet():
    return load_isolet()


@pytest.fixture(scope="module")
def raw():
    return load_isolet(scale=False)


def test_bundle_shape_range_and_labels(isolet):
    assert isolet.x.shape == (1560, 617) and isolet.x.dtype == np.float32
    assert isolet.y.dtype == np.int64 and isolet.image_shape is None
    assert np.bincount(isolet.y).tolist() == [60] * 26
    assert isolet.n_classes == 26 and isolet.class_names == list("abcdefghijklmnopqrstuvwxyz")
    assert ISOLET_CLASSES == tuple(isolet.class_names)
    # min-max per feature: every column spans exactly [0, 1]
    np.testing.assert_array_equal(isolet.x.min(axis=0), 0.0)
    np.testing.assert_array_equal(isolet.x.max(axis=0), 1.0)
    isolet.validate()


def test_raw_features_and_scaling(isolet, raw):
    assert raw.x.dtype == np.float32 and raw.x.min() == -1.0 and raw.x.max() == 1.0
    np.testing.assert_array_equal(raw.y, isolet.y)
    np.testing.assert_array_equal(minmax_scale(raw.x), isolet.x)
    k = raw.x.astype(np.float64) * 10000  # four decimals
    assert np.abs(k - np.rint(k)).max() < 1e-2


def test_minmax_scale_keeps_constant_columns_finite():
    x = np.array([[1.0, 5.0, -2.0], [3.0, 5.0, 0.0], [2.0, 5.0, 2.0]], dtype=np.float32)
    np.testing.assert_allclose(minmax_scale(x), [[0, 0, 0], [1, 0, 0.5], [0.5, 0, 1]])


def test_encode_decode_roundtrip_is_bit_exact(raw):
    k = encode_isolet(raw.x)
    assert k.dtype == np.int16 and np.abs(k).max() == 10000
    np.testing.assert_array_equal(decode_isolet(k).view(np.uint32), raw.x.view(np.uint32))
    with pytest.raises(DataError, match=r"\[-1, 1\]"):
        encode_isolet(np.array([1.5]))


def test_load_dataset_name_and_options():
    assert load_dataset("isolet").n_features == 617
    assert load_dataset("ISOLET", scale=False).x.min() == -1.0
    with pytest.raises(DataError, match="not images"):
        load_dataset("isolet", image_size=32)
    with pytest.raises(DataError, match="not images"):
        load_dataset("isolet", grayscale=False)


def test_user_file_and_bad_files(tmp_path):
    x = np.linspace(-1, 1, 3 * 617, dtype=np.float32).reshape(3, 617)
    np.savez(tmp_path / "i.npz", x=x, y=np.array([2, 0, 1]))
    np.testing.assert_array_equal(load_isolet(path=tmp_path / "i.npz", scale=False).x, x)
    assert load_isolet(path=tmp_path / "i.npz").x.max() == 1.0
    np.savez(tmp_path / "wide.npz", x=np.zeros((3, 618)), y=np.zeros(3, int))
    with pytest.raises(DataError, match=r"expected \(N, 617\)"):
        load_isolet(path=tmp_path / "wide.npz")
    np.save(tmp_path / "bare.npy", x)
    with pytest.raises(DataError, match="single array"):
        load_isolet(path=tmp_path / "bare.npy")
    (tmp_path / "junk.npz").write_bytes(b"not an npz")
    with pytest.raises(DataError, match="cannot read"):
        load_isolet(path=tmp_path / "junk.npz")

