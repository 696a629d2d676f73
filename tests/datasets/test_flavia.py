import numpy as np
import pytest
from PIL import Image

from vgdcn_pyg.datasets import FLAVIA10_CLASSES, load_dataset, load_flavia10
from vgdcn_pyg.exceptions import DataError

from ..conftest import shared_data

# Image counts per species from the Flavia file-number ranges (SOURCE.md).
COUNTS = {
    "Acer_palmatum": 56, "Cercis_chinensis": 72, "Cinnamomum_camphora": 65, "Ginkgo_biloba": 62,
    "Ilex_macrocarpa": 50, "Koelreuteria_paniculata": 59, "Manglietia_fordiana": 52,
    "Phyllostachys_edulis": 59, "Pittosporum_tobira": 63, "Viburnum_awabuki": 60,
}


@pytest.fixture(scope="module")
def flavia():
    return load_flavia10()


def test_bundle_shape_classes_and_counts(flavia):
    assert flavia.x.shape == (598, 48 * 64) and flavia.x.dtype == np.float32
    assert flavia.image_shape == (48, 64)
    assert flavia.n_classes == 10 and flavia.class_names == sorted(COUNTS)
    assert dict(zip(flavia.class_names, np.bincount(flavia.y).tolist())) == COUNTS
    assert FLAVIA10_CLASSES == COUNTS
    assert 0.0 <= flavia.x.min() and flavia.x.max() <= 1.0


def test_bundle_names_match_official_id_ranges(flavia):
    ranges = {"Phyllostachys_edulis": (1001, 1059), "Cercis_chinensis": (1123, 1194),
              "Acer_palmatum": (1268, 1323), "Koelreuteria_paniculata": (1438, 1496),
              "Ilex_macrocarpa": (2001, 2050), "Pittosporum_tobira": (2051, 2113),
              "Cinnamomum_camphora": (2166, 2230), "Viburnum_awabuki": (2231, 2290),
              "Ginkgo_biloba": (2424, 2485), "Manglietia_fordiana": (3230, 3281)}
    for name, label in zip(flavia.names, flavia.y):
        species, file = name.split("/")
        assert species == flavia.class_names[label]
        lo, hi = ranges[species]
        assert lo <= int(file.removesuffix(".jpg")) <= hi


def test_white_background(flavia):
    # leaves are photographed on white: the image borders are bright
    imgs = flavia.images()
    border = np.concatenate([imgs[:, 0, :], imgs[:, -1, :]], axis=1)
    assert np.median(border) > 0.9


def test_colour_and_size_options(flavia):
    rgb = load_flavia10(grayscale=False)
    assert rgb.image_shape == (48, 64, 3)
    np.testing.assert_array_equal(rgb.images()[..., 1], flavia.images())
    assert load_flavia10(image_size=(64, 48)).n_samples == 598
    with pytest.raises(DataError, match="pass path"):
        load_flavia10(image_size=32)
    assert load_dataset("flavia10").n_samples == 598
    assert load_dataset("Flavia").n_samples == 598


def test_folder_path_stretches_instead_of_letterboxing(tmp_path):
    # A 256x256 square must fill the whole 4:3 box, not be padded.
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        Image.fromarray(np.zeros((256, 256), np.uint8)).save(tmp_path / cls / "1.jpg")
    data = load_flavia10(path=tmp_path, image_size=(16, 12))
    assert data.image_shape == (12, 16)
    np.testing.assert_allclose(data.x, 0.0, atol=2 / 255)


def test_folder_matches_bundle(flavia):
    data = load_flavia10(path=shared_data("flavia10"))
    assert data.names == flavia.names and data.class_names == flavia.class_names
    np.testing.assert_array_equal(data.y, flavia.y)
    assert np.abs(data.x - flavia.x).max() <= 1 / 255 + 1e-6
