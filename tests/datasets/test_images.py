import warnings

import numpy as np
import pytest
from PIL import Image

from vgdcn_pyg.datasets import load_dataset, load_image, load_image_folder
from vgdcn_pyg.exceptions import DataError


def save(path, array, mode=None, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    img.save(path, **kw)
    return path


def grey(h, w, value):
    return np.full((h, w), value, dtype=np.uint8)


def test_class_folders_give_labels_sorted_names_and_relative_paths(tmp_path):
    save(tmp_path / "b" / "2.png", grey(4, 4, 0))
    save(tmp_path / "b" / "1.png", grey(4, 4, 255))
    save(tmp_path / "a" / "z.png", grey(4, 4, 51))
    save(tmp_path / "a" / "sub" / "deep.png", grey(4, 4, 102))
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    (tmp_path / "b" / ".hidden.png").write_bytes(b"junk")
    (tmp_path / "empty").mkdir()  # no images: not a class
    data = load_image_folder(tmp_path, image_size=4)
    assert data.class_names == ["a", "b"]
    assert data.names == ["a/sub/deep.png", "a/z.png", "b/1.png", "b/2.png"]
    assert data.y.tolist() == [0, 0, 1, 1]
    assert data.x.shape == (4, 16) and data.image_shape == (4, 4)
    np.testing.assert_allclose(data.x[:, 0], [0.4, 0.2, 1.0, 0.0], atol=1e-6)


def test_flat_folder_has_no_labels_and_ignores_non_images(tmp_path):
    save(tmp_path / "b.PNG", grey(3, 3, 255))  # upper-case extension
    save(tmp_path / "a.jpg", grey(3, 3, 0))
    save(tmp_path / "c.bmp", grey(3, 3, 0))
    save(tmp_path / "d.tif", grey(3, 3, 0))
    (tmp_path / "readme.md").write_text("# not an image")
    (tmp_path / "data.csv").write_text("1,2\n")
    data = load_image_folder(tmp_path, image_size=(3, 3))
    assert data.y is None and data.class_names is None and data.n_classes is None
    assert data.names == ["a.jpg", "b.PNG", "c.bmp", "d.tif"]
    np.testing.assert_allclose(data.x[1], 1.0)


def test_mixed_sizes_and_modes(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (10, 7, 3), dtype=np.uint8)
    save(tmp_path / "rgb.png", rgb)
    save(tmp_path / "rgba.png", np.dstack([rgb, np.full((10, 7), 255, np.uint8)]))
    save(tmp_path / "l.png", grey(5, 20, 128))
    save(tmp_path / "i16.png", np.full((6, 6), 65535 // 2, dtype=np.uint16))
    save(tmp_path / "p.png", rgb, mode="P")
    save(tmp_path / "cmyk.jpg", rgb, mode="CMYK")
    assert Image.open(tmp_path / "i16.png").mode.startswith("I")  # really a 16-bit file
    data = load_image_folder(tmp_path, image_size=(8, 6))
    assert data.x.shape == (6, 48) and data.image_shape == (6, 8)
    assert data.x.dtype == np.float32 and data.x.min() >= 0 and data.x.max() <= 1
    # 16-bit is scaled by 65535, not clipped at 255
    i16 = data.x[data.names.index("i16.png")].reshape(6, 8)
    np.testing.assert_allclose(i16[:, 1:7], 0.5, atol=1e-4)
    # opaque RGBA equals RGB
    np.testing.assert_allclose(data.x[data.names.index("rgba.png")], data.x[data.names.index("rgb.png")])
    colour = load_image_folder(tmp_path, image_size=(8, 6), grayscale=False)
    assert colour.x.shape == (6, 144) and colour.image_shape == (6, 8, 3)


def test_grey_conversion_uses_luma(tmp_path):
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    save(tmp_path / "red.png", red)
    np.testing.assert_allclose(load_image(tmp_path / "red.png", None), 0.299, atol=1e-6)
    np.testing.assert_allclose(load_image(tmp_path / "red.png", None, grayscale=False)[..., 0], 1.0)


def test_transparency_composited_on_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)  # black, fully transparent
    rgba[0, 0, 3] = 255  # one opaque black pixel
    save(tmp_path / "t.png", rgba)
    img = load_image(tmp_path / "t.png", None)
    np.testing.assert_allclose(img, [[0.0, 1.0], [1.0, 1.0]])
    la = np.zeros((1, 2, 2), np.uint8)
    la[0, 1, 1] = 255
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    np.testing.assert_allclose(load_image(tmp_path / "la.png", None), [[1.0, 0.0]])
    np.testing.assert_allclose(load_image(tmp_path / "t.png", None, pad_value=0.0), 0.0)


def test_palette_with_transparency(tmp_path):
    p = Image.new("P", (2, 1))
    p.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    p.putpixel((0, 0), 0)
    p.putpixel((1, 0), 0)
    p.info["transparency"] = 0
    p.save(tmp_path / "p.png", transparency=0)
    np.testing.assert_allclose(load_image(tmp_path / "p.png", None), [[1.0, 1.0]])


def test_aspect_ratio_padding_known_answer(tmp_path):
    save(tmp_path / "wide.png", grey(2, 4, 0))  # 4 wide, 2 high, black
    img = load_image(tmp_path / "wide.png", (4, 4))
    expected = np.array([[1, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 1, 1, 1]], dtype=np.float32)
    np.testing.assert_array_equal(img, expected)
    # stretching instead fills the whole box
    np.testing.assert_array_equal(load_image(tmp_path / "wide.png", (4, 4), keep_aspect=False), 0.0)
    # a tall image is padded left and right
    save(tmp_path / "tall.png", grey(8, 4, 0))  # halved to 2x4
    tall = load_image(tmp_path / "tall.png", (4, 4))
    np.testing.assert_array_equal(tall[:, [0, 3]], 1.0)
    np.testing.assert_allclose(tall[:, 1:3], 0.0, atol=1e-6)
    # another pad value
    np.testing.assert_array_equal(load_image(tmp_path / "wide.png", (4, 4), pad_value=0.5)[0], 0.5)


def test_shrinking_keeps_mean_and_range(tmp_path):
    stripes = np.tile(np.array([0, 255], np.uint8), (32, 16))  # 32x32 fine stripes
    save(tmp_path / "s.png", stripes)
    img = load_image(tmp_path / "s.png", 8)
    assert img.shape == (8, 8)
    np.testing.assert_allclose(img.mean(), 0.5, atol=0.02)


def test_image_size_semantics(tmp_path):
    save(tmp_path / "x.png", grey(30, 40, 0))
    assert load_image(tmp_path / "x.png", (20, 10)).shape == (10, 20)  # (width, height)
    assert load_image(tmp_path / "x.png", 12).shape == (12, 12)
    assert load_image(tmp_path / "x.png", None).shape == (30, 40)
    for bad in [(0, 4), "big", (1, 2, 3)]:
        with pytest.raises(DataError, match="image_size"):
            load_image(tmp_path / "x.png", bad)


def test_native_size_requires_equal_sizes(tmp_path):
    save(tmp_path / "a.png", grey(4, 4, 0))
    save(tmp_path / "b.png", grey(5, 4, 0))
    with pytest.raises(DataError, match=r"'b.png' is 4x5 but 'a.png' is 4x4"):
        load_image_folder(tmp_path, image_size=None)


def test_corrupt_file_raises_or_is_skipped(tmp_path):
    save(tmp_path / "cls" / "good.png", grey(4, 4, 0))
    (tmp_path / "cls" / "x.png").write_bytes(b"\x00garbage bytes, not a PNG")
    with pytest.raises(DataError, match=r"cannot read image '.*x\.png'"):
        load_image_folder(tmp_path, image_size=4)
    with pytest.warns(UserWarning, match=r"x\.png"):
        data = load_image_folder(tmp_path, image_size=4, on_error="skip")
    assert data.names == ["cls/good.png"]


def test_skip_drops_classes_left_empty(tmp_path):
    (tmp_path / "a" ).mkdir()
    (tmp_path / "a" / "bad.jpg").write_bytes(b"nope")
    save(tmp_path / "b" / "ok.png", grey(2, 2, 0))
    with pytest.warns(UserWarning, match="bad.jpg"):
        data = load_image_folder(tmp_path, image_size=2, on_error="skip")
    assert data.class_names == ["b"] and data.y.tolist() == [0]


def test_nothing_readable_is_an_error(tmp_path):
    (tmp_path / "x.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning), pytest.raises(DataError, match="none of the 1 images"):
        load_image_folder(tmp_path, on_error="skip")


def test_empty_folder_and_bad_arguments(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match=r"no images found in folder .*\(looked for .jpg .jpeg .png"):
        load_image_folder(tmp_path)
    with pytest.raises(DataError, match="no such file or folder"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(DataError, match="not a folder"):
        load_image_folder(tmp_path / "notes.txt")
    with pytest.raises(DataError, match="on_error"):
        load_image_folder(tmp_path, on_error="ignore")
    with pytest.raises(DataError, match="pad_value"):
        load_image_folder(tmp_path, pad_value=2.0)


def test_loose_files_next_to_class_folders_are_ignored_with_warning(tmp_path):
    save(tmp_path / "a" / "1.png", grey(2, 2, 0))
    save(tmp_path / "stray.png", grey(2, 2, 0))
    with pytest.warns(UserWarning, match="ignoring 1 image"):
        data = load_image_folder(tmp_path, image_size=2)
    assert data.names == ["a/1.png"]


def test_exif_orientation_is_applied(tmp_path):
    img = Image.fromarray(grey(2, 4, 0))  # 4 wide, 2 high
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg", None).shape == (4, 2)


def test_order_is_deterministic_and_load_dataset_dispatches(tmp_path):
    for name in ["c.png", "a.png", "b.png"]:
        save(tmp_path / "k" / name, grey(3, 3, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no progress bar noise or warnings for a small folder
        first = load_image_folder(tmp_path, image_size=3)
    assert first.names == ["k/a.png", "k/b.png", "k/c.png"]
    via = load_dataset(str(tmp_path), image_size=3)
    np.testing.assert_array_equal(via.x, first.x)
    assert load_dataset(tmp_path).image_shape == (48, 64)  # default (64, 48) box


def test_float_and_32bit_images_without_known_range_are_stretched(tmp_path):
    Image.fromarray(np.array([[0.0, 5.0], [10.0, 10.0]], dtype=np.float32)).save(tmp_path / "f.tif")
    assert Image.open(tmp_path / "f.tif").mode == "F"
    np.testing.assert_allclose(load_image(tmp_path / "f.tif", None), [[0.0, 0.5], [1.0, 1.0]])
    Image.fromarray(np.array([[0.25, 0.5]], dtype=np.float32)).save(tmp_path / "unit.tif")
    np.testing.assert_allclose(load_image(tmp_path / "unit.tif", None), [[0.25, 0.5]])  # kept as is


def test_progress_bar_can_be_forced(tmp_path, capsys):
    for i in range(3):
        save(tmp_path / f"{i}.png", grey(2, 2, 0))
    assert load_image_folder(tmp_path, image_size=2, progress=True).n_samples == 3
    assert "reading images" in capsys.readouterr().err
