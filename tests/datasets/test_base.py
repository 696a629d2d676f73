import numpy as np
import pytest

from vgdcn_pyg.datasets import ClusteringData
from vgdcn_pyg.exceptions import DataError


def make(n=6, d=4, **kw):
    x = np.arange(n * d, dtype=np.float64).reshape(n, d)
    return ClusteringData(x=x, **kw)


def test_fields_are_coerced_and_sizes_reported():
    data = make(y=[0, 1, 2, 0, 1, 2], class_names=["a", "b", "c"], source="toy")
    assert data.x.dtype == np.float32 and data.x.flags.c_contiguous
    assert data.y.dtype == np.int64
    assert (data.n_samples, data.n_features, data.n_classes, len(data)) == (6, 4, 3, 6)
    assert data.names == ["0", "1", "2", "3", "4", "5"]


def test_n_classes_without_names_and_without_labels():
    assert make(y=[3, 3, 5, 5, 5, 3]).n_classes == 2
    assert make().n_classes is None


def test_integer_valued_float_labels_are_accepted():
    assert make(y=np.array([0.0, 1, 1, 0, 1, 0])).y.dtype == np.int64


@pytest.mark.parametrize("x, match", [
    (np.zeros(5), "2-D"),
    (np.zeros((0, 3)), "no samples"),
    (np.zeros((3, 0)), "no features"),
    (np.array([["a", "b"]]), "numeric"),
])
def test_bad_features(x, match):
    with pytest.raises(DataError, match=match):
        ClusteringData(x=x)


def test_nan_and_inf_are_counted_and_located():
    x = np.zeros((5, 3))
    x[2, 1] = np.nan
    x[4, 0] = np.inf
    with pytest.raises(DataError, match=r"^toy.npy: .*2 NaN/inf value\(s\), first in row 2$"):
        ClusteringData(x=x, source="toy.npy")
    with pytest.raises(DataError, match=r"first in row 2 \('c.png'\)$"):
        ClusteringData(x=x, names=[f"{c}.png" for c in "abcde"])


def test_float64_overflow_to_float32_is_caught():
    with pytest.raises(DataError, match="NaN/inf"):
        ClusteringData(x=np.full((2, 2), 1e300))


def test_wrong_lengths():
    with pytest.raises(DataError, match=r"labels have shape \(5,\) but there are 6 samples"):
        make(y=[0, 1, 0, 1, 0])
    with pytest.raises(DataError, match="3 sample names but 6 samples"):
        make(names=["a", "b", "c"])
    with pytest.raises(DataError, match="labels must be integers"):
        make(y=["a"] * 6)
    with pytest.raises(DataError, match="label 2 has no class name"):
        make(y=[0, 1, 2, 0, 1, 2], class_names=["a", "b"])
    with pytest.raises(DataError, match=">= 0"):
        make(y=[-1, 0, 0, 0, 0, 0])


def test_image_shape_must_match_features():
    assert make(image_shape=[2, 2]).image_shape == (2, 2)
    assert make(image_shape=(2, 2)).images().shape == (6, 2, 2)
    with pytest.raises(DataError, match="image_shape"):
        make(image_shape=(3, 2))
    with pytest.raises(DataError, match="plain vectors"):
        make().images()


def test_validate_catches_later_changes():
    data = make()
    data.x = data.x[:, :0]
    with pytest.raises(DataError, match="no features"):
        data.validate()


def test_subset_by_indices_mask_and_slice():
    data = make(y=[0, 1, 2, 0, 1, 2], class_names=["a", "b", "c"],
                names=list("uvwxyz"), image_shape=(2, 2), source="toy")
    sub = data.subset([4, 1])
    assert sub.names == ["y", "v"]
    np.testing.assert_array_equal(sub.x, data.x[[4, 1]])
    np.testing.assert_array_equal(sub.y, [1, 1])
    # all class names kept so labels keep their meaning
    assert sub.class_names == ["a", "b", "c"] and sub.n_classes == 3
    assert sub.image_shape == (2, 2) and sub.source == "toy"
    assert data.subset(data.y == 2).names == ["w", "z"]
    assert data.subset(slice(0, 2)).names == ["u", "v"]
    with pytest.raises(DataError, match="no samples"):
        data.subset([])
    with pytest.raises(DataError, match="out of range"):
        data.subset([6])
    with pytest.raises(DataError, match="boolean mask"):
        data.subset(np.ones(3, dtype=bool))


def test_repr_is_short():
    text = repr(make(y=[0, 1, 0, 1, 0, 1]))
    assert text.startswith("ClusteringData(n_samples=6, n_features=4, n_classes=2")
