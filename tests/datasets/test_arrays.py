import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vgdcn_pyg.datasets import ClusteringData, encode_labels, load_array, load_dataset
from vgdcn_pyg.exceptions import DataError


@pytest.fixture
def x():
    return np.arange(12, dtype=np.float32).reshape(4, 3) / 10


def test_npy_roundtrip(tmp_path, x):
    np.save(tmp_path / "x.npy", x)
    data = load_array(tmp_path / "x.npy")
    np.testing.assert_array_equal(data.x, x)
    assert data.y is None and data.image_shape is None and data.names == ["0", "1", "2", "3"]


def test_npy_integers_become_float32_unscaled(tmp_path):
    np.save(tmp_path / "i.npy", np.array([[1, 2], [300, 4]], dtype=np.int64))
    data = load_array(tmp_path / "i.npy")
    assert data.x.dtype == np.float32 and data.x[1, 0] == 300.0


def test_npy_images_are_flattened(tmp_path):
    imgs = np.random.default_rng(0).random((5, 4, 3)).astype(np.float32)
    np.save(tmp_path / "im.npy", imgs)
    data = load_array(tmp_path / "im.npy")
    assert data.x.shape == (5, 12) and data.image_shape == (4, 3)
    np.testing.assert_array_equal(data.images(), imgs)
    rgb = np.random.default_rng(1).random((2, 5, 6, 3))
    np.save(tmp_path / "rgb.npy", rgb)
    assert load_array(tmp_path / "rgb.npy").image_shape == (5, 6, 3)
    # channels-first (PyTorch layout) is moved to channels-last
    np.save(tmp_path / "chw.npy", np.transpose(rgb, (0, 3, 1, 2)))
    chw = load_array(tmp_path / "chw.npy")
    assert chw.image_shape == (5, 6, 3)
    np.testing.assert_allclose(chw.images(), rgb.astype(np.float32))
    np.save(tmp_path / "one.npy", np.zeros((2, 1, 4, 4)))
    assert load_array(tmp_path / "one.npy").image_shape == (4, 4)


def test_npy_with_separate_label_files(tmp_path, x):
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.array([3, 1, 3, 1]))
    (tmp_path / "y.txt").write_text("cat\ndog\ncat\nbird\n")
    (tmp_path / "y.csv").write_text("label\n10\n2\n2\n10\n")
    data = load_array(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    assert data.y.tolist() == [1, 0, 1, 0] and data.class_names == ["1", "3"]
    data = load_array(tmp_path / "x.npy", labels=str(tmp_path / "y.txt"))
    assert data.y.tolist() == [1, 2, 1, 0] and data.class_names == ["bird", "cat", "dog"]
    data = load_array(tmp_path / "x.npy", labels=tmp_path / "y.csv")
    # numeric strings are ordered as numbers: 2 < 10
    assert data.y.tolist() == [1, 0, 0, 1] and data.class_names == ["2", "10"]
    data = load_array(tmp_path / "x.npy", labels=["b", "a", "b", "a"])
    assert data.class_names == ["a", "b"]
    with pytest.raises(DataError, match="no such file"):
        load_array(tmp_path / "x.npy", labels=tmp_path / "missing.npy")


def test_npy_label_column(tmp_path, x):
    np.save(tmp_path / "x.npy", x)
    data = load_array(tmp_path / "x.npy", labels="last")
    np.testing.assert_array_equal(data.x, x[:, :2])
    assert data.class_names == ["0.2", "0.5", "0.8", "1.1"]
    assert load_array(tmp_path / "x.npy", labels="first").n_features == 2


def test_npz_default_and_explicit_keys(tmp_path, x):
    np.savez(tmp_path / "a.npz", features=x, target=np.array(["u", "v", "u", "v"]))
    data = load_array(tmp_path / "a.npz")
    np.testing.assert_array_equal(data.x, x)
    assert data.y.tolist() == [0, 1, 0, 1] and data.class_names == ["u", "v"]
    np.savez(tmp_path / "b.npz", emb=x, lab=np.array([5, 5, 6, 6]))
    data = load_array(tmp_path / "b.npz", x_key="emb", y_key="lab")
    assert data.y.tolist() == [0, 0, 1, 1]
    np.savez(tmp_path / "single.npz", x)  # stored as arr_0
    np.testing.assert_array_equal(load_array(tmp_path / "single.npz").x, x)


def test_npz_missing_keys_are_listed(tmp_path, x):
    np.savez(tmp_path / "k.npz", emb=x, other=x)
    with pytest.raises(DataError, match=r"no feature array: looked for x, X, data, features; keys present: emb, other"):
        load_array(tmp_path / "k.npz")
    with pytest.raises(DataError, match=r"no array 'feat'; keys present: emb, other"):
        load_array(tmp_path / "k.npz", x_key="feat")
    with pytest.raises(DataError, match=r"no array 'lab'; keys present: emb, other"):
        load_array(tmp_path / "k.npz", x_key="emb", y_key="lab")


def test_clustering_data_save_roundtrip(tmp_path):
    data = ClusteringData(x=np.eye(4, dtype=np.float32), y=[0, 2, 2, 0], names=list("abcd"),
                          class_names=["p", "q", "r"], image_shape=(2, 2), source="toy")
    data.save(tmp_path / "d.npz")
    back = load_array(tmp_path / "d.npz")
    np.testing.assert_array_equal(back.x, data.x)
    np.testing.assert_array_equal(back.y, data.y)
    assert back.names == data.names and back.class_names == data.class_names
    assert back.image_shape == (2, 2)


def test_csv_with_header_and_label_column(tmp_path):
    (tmp_path / "d.csv").write_text("f1,f2,species\n1.5,2,setosa\n3,4e-1,virginica\n-1,0,setosa\n")
    data = load_array(tmp_path / "d.csv", labels="species")
    np.testing.assert_allclose(data.x, [[1.5, 2], [3, 0.4], [-1, 0]])
    assert data.y.tolist() == [0, 1, 0] and data.class_names == ["setosa", "virginica"]
    assert load_array(tmp_path / "d.csv", labels="last").class_names == ["setosa", "virginica"]
    with pytest.raises(DataError, match=r"label column 'kind' not found .*columns: f1, f2, species"):
        load_array(tmp_path / "d.csv", labels="kind")
    with pytest.raises(DataError, match=r"line 2, column species: 'setosa' is not a number"):
        load_array(tmp_path / "d.csv")


def test_csv_without_header_label_first_and_other_delimiters(tmp_path):
    (tmp_path / "n.csv").write_text("7,0.1,0.2\n3,0.3,0.4\n")
    data = load_array(tmp_path / "n.csv", labels="first")
    np.testing.assert_allclose(data.x, [[0.1, 0.2], [0.3, 0.4]])
    assert data.class_names == ["3", "7"] and data.y.tolist() == [1, 0]
    np.testing.assert_allclose(load_array(tmp_path / "n.csv").x[:, 0], [7, 3])
    (tmp_path / "s.csv").write_text("a;b\n1;2\n3;4\n")
    np.testing.assert_allclose(load_array(tmp_path / "s.csv").x, [[1, 2], [3, 4]])


def test_csv_errors(tmp_path):
    (tmp_path / "ragged.csv").write_text("1,2\n3\n")
    with pytest.raises(DataError, match="line 2 has 1 columns"):
        load_array(tmp_path / "ragged.csv")
    (tmp_path / "hole.csv").write_text("1,2\n3,\n")
    with pytest.raises(DataError, match="line 2, column 2: is empty"):
        load_array(tmp_path / "hole.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        load_array(tmp_path / "empty.csv")
    (tmp_path / "nan.csv").write_text("1,nan\n2,3\n")
    with pytest.raises(DataError, match=r"1 NaN/inf value\(s\), first in row 0"):
        load_array(tmp_path / "nan.csv")


def test_non_finite_values_rejected(tmp_path, x):
    x[2, 1] = np.inf
    np.save(tmp_path / "inf.npy", x)
    with pytest.raises(DataError, match=r"inf.npy.*1 NaN/inf value\(s\), first in row 2"):
        load_array(tmp_path / "inf.npy")


def test_wrong_label_length(tmp_path, x):
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(3))
    with pytest.raises(DataError, match="3 labels for 4 samples"):
        load_array(tmp_path / "x.npy", labels=tmp_path / "y.npy")
    np.savez(tmp_path / "z.npz", x=x, y=np.arange(5))
    with pytest.raises(DataError, match="5 labels for 4 samples"):
        load_array(tmp_path / "z.npz")


def test_non_numeric_arrays_rejected(tmp_path):
    np.save(tmp_path / "s.npy", np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(DataError, match="non-numeric dtype <U1"):
        load_array(tmp_path / "s.npy")
    np.save(tmp_path / "o.npy", np.array([[1, None]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        load_array(tmp_path / "o.npy")
    np.savez(tmp_path / "s.npz", x=np.array([["a"]]))
    with pytest.raises(DataError, match="non-numeric"):
        load_array(tmp_path / "s.npz")
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(DataError, match="cannot read"):
        load_array(tmp_path / "bad.npy")
    np.save(tmp_path / "v.npy", np.zeros(5))
    with pytest.raises(DataError, match="1-D array"):
        load_array(tmp_path / "v.npy")


def test_encode_labels_any_hashable():
    y, names = encode_labels([("b", 1), ("a", 2), ("b", 1)])
    assert y.tolist() == [1, 0, 1] and names == ["('a', 2)", "('b', 1)"]
    y, names = encode_labels(np.array([2.0, 0.0, 2.0]))
    assert names == ["0", "2"]
    y, names = encode_labels(np.array([1, "x"], dtype=object))
    assert y.tolist() == [0, 1]
    with pytest.raises(DataError, match="NaN"):
        encode_labels([1.0, np.nan])


def test_load_dataset_dispatch(tmp_path, x):
    np.save(tmp_path / "x.npy", x)
    (tmp_path / "x.csv").write_text("1,2\n3,4\n")
    np.savez(tmp_path / "x.npz", x=x)
    assert load_dataset(tmp_path / "x.npy").n_samples == 4
    assert load_dataset(str(tmp_path / "x.csv")).n_samples == 2
    assert load_dataset(tmp_path / "x.npz", labels=[0, 1, 0, 1]).n_classes == 2
    assert load_dataset("USPS").n_samples == 9298
    with pytest.raises(DataError, match="no such file or folder: 'nowhere/at/all'"):
        load_dataset("nowhere/at/all")
    (tmp_path / "pic.gif").write_bytes(b"GIF89a")
    with pytest.raises(DataError, match="unsupported file type '.gif'"):
        load_dataset(tmp_path / "pic.gif")
    with pytest.raises(DataError, match="image_size applies to image folders"):
        load_dataset(tmp_path / "x.npy", image_size=8)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "c"])), min_size=1, max_size=30))
def test_encode_labels_is_a_consistent_bijection(values):
    y, names = encode_labels(np.array(values, dtype=object))
    assert y.min() == 0 and y.max() == len(names) - 1 == len(set(values)) - 1
    # equal values get equal codes, different values different codes
    for i, a in enumerate(values):
        for j, b in enumerate(values):
            assert (y[i] == y[j]) == (a == b)
