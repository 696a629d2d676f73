import hashlib
import io
import os
import urllib.request

import h5py
import numpy as np
import pytest

from vgdcn_pyg.datasets import USPS_SHA256, load_dataset, load_usps
from vgdcn_pyg.datasets.usps import decode_usps, download_usps, encode_usps
from vgdcn_pyg.exceptions import DataError

from ..conftest import shared_data


@pytest.fixture
def shared_h5():
    r"""The reference usps.h5 of the shared data (the test is skipped, saying
    where it was looked for, if it is missing)."""
    return shared_data("usps/usps.h5")


@pytest.fixture(scope="module")
def usps():
    return load_usps()


def test_bundled_usps_shape_range_and_labels(usps):
    assert usps.x.shape == (9298, 256) and usps.x.dtype == np.float32
    assert usps.x.min() == 0.0 and usps.x.max() == 1.0
    counts = np.bincount(usps.y, minlength=10)
    assert counts.tolist() == [1553, 1269, 929, 824, 852, 716, 834, 792, 708, 821]
    assert counts.sum() == 9298
    assert usps.class_names == [str(d) for d in range(10)]
    assert usps.image_shape == (16, 16) and usps.n_classes == 10
    assert usps.names[0] == "train/0" and usps.names[7290] == "train/7290"
    assert usps.names[7291] == "test/0" and usps.names[-1] == "test/2006"


def test_values_are_multiples_of_0_0005(usps):
    k = usps.x.astype(np.float64) * 2000
    assert np.abs(k - np.rint(k)).max() < 1e-3


def test_encode_decode_roundtrip_is_bit_exact(usps):
    np.testing.assert_array_equal(decode_usps(encode_usps(usps.x)).view(np.uint32), usps.x.view(np.uint32))


def write_h5(path, train, test):
    with h5py.File(path, "w") as f:
        for name, (x, y) in (("train", train), ("test", test)):
            g = f.create_group(name)
            g["data"] = x
            g["target"] = y


def test_user_h5_train_then_test(tmp_path):
    rng = np.random.default_rng(0)
    xtr, xte = rng.random((5, 256), dtype=np.float32), rng.random((3, 256), dtype=np.float32)
    write_h5(tmp_path / "u.h5", (xtr, np.arange(5) % 10), (xte, np.array([9, 8, 7])))
    data = load_usps(path=tmp_path / "u.h5")
    np.testing.assert_array_equal(data.x, np.concatenate([xtr, xte]))
    assert data.y.tolist() == [0, 1, 2, 3, 4, 9, 8, 7]
    assert data.names == [f"train/{i}" for i in range(5)] + ["test/0", "test/1", "test/2"]
    assert load_dataset(tmp_path / "u.h5").n_samples == 8


def test_bad_h5_files(tmp_path):
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["train/data"] = np.zeros((2, 256))
        f["train/target"] = np.zeros(2)
    with pytest.raises(DataError, match=r"no group 'test' \(top-level keys: train\)"):
        load_usps(path=tmp_path / "other.h5")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(DataError, match="cannot read .*junk.h5.* as HDF5"):
        load_usps(path=tmp_path / "junk.h5")
    with pytest.raises(DataError, match="no such file"):
        load_usps(path=tmp_path / "missing.h5")
    write_h5(tmp_path / "shape.h5", (np.zeros((2, 255)), np.zeros(2)), (np.zeros((1, 256)), np.zeros(1)))
    with pytest.raises(DataError, match=r"expected \(N, 256\)"):
        load_usps(path=tmp_path / "shape.h5")


def test_bundle_is_bit_exact_copy_of_shared_h5(usps, shared_h5):
    with h5py.File(shared_h5, "r") as f:
        x = np.concatenate([f["train/data"][()], f["test/data"][()]])
        y = np.concatenate([f["train/target"][()], f["test/target"][()]])
    assert x.dtype == np.float32 and usps.x.shape == x.shape
    # the first 7291 rows are the train group; compare every bit, not approximately
    np.testing.assert_array_equal(usps.x[:7291].view(np.uint32), x[:7291].view(np.uint32))
    np.testing.assert_array_equal(usps.x.view(np.uint32), x.view(np.uint32))
    np.testing.assert_array_equal(usps.y, y)
    from_h5 = load_usps(path=shared_h5)
    np.testing.assert_array_equal(from_h5.x, usps.x)


def fail_urlopen(*args, **kwargs):
    raise OSError("network is unreachable")


def test_download_offline_raises_clean_error(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", fail_urlopen)
    with pytest.raises(DataError, match="cannot download USPS from .*network is unreachable"):
        load_usps(download=True, root=tmp_path)
    assert os.listdir(tmp_path) == []  # no partial file left behind


def test_download_rejects_wrong_file(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: io.BytesIO(b"<html>not found</html>"))
    with pytest.raises(DataError, match="not the reference usps.h5"):
        download_usps(tmp_path)
    assert os.listdir(tmp_path) == []


def test_download_verifies_and_renames_into_place(tmp_path, monkeypatch, shared_h5):
    payload = shared_h5.read_bytes()
    assert hashlib.sha256(payload).hexdigest() == USPS_SHA256
    calls = []

    def serve(url, timeout):
        calls.append(url)
        return io.BytesIO(payload)

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    data = load_usps(download=True, root=tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == ["usps.h5"]
    assert data.n_samples == 9298
    load_usps(download=True, root=tmp_path / "cache")  # verified copy is reused
    assert len(calls) == 1


def test_load_dataset_usps_options():
    with pytest.raises(DataError, match="16x16"):
        load_dataset("usps", image_size=32)
    with pytest.raises(DataError, match="grey only"):
        load_dataset("usps", grayscale=False)
