r"""Reading a folder of images into a :class:`ClusteringData`.

Every image becomes one flat float32 vector in :obj:`[0, 1]`.  All images are
brought to one size: by default each is scaled to fit the target box keeping
its aspect ratio and the rest of the box is padded with white, which is the
background of typical object photographs (leaves, products) and so adds no
spurious edges.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Optional, Sequence, Union

import numpy as np
from PIL import Image, ImageOps
from tqdm.auto import tqdm

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]
ImageSize = Union[int, tuple[int, int], None]

#: File extensions read as images (compared case-insensitively).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
# Folders that file managers and archivers leave behind; never classes.
_JUNK_DIRS = {"__MACOSX"}
# ITU-R 601-2 luma, the weights PIL's own "L" conversion uses.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# More images than this get a progress bar.
_PROGRESS_MIN = 200


def _normalize_size(image_size: ImageSize) -> Optional[tuple[int, int]]:
    if image_size is None:
        return None
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        size = (int(image_size), int(image_size))
    else:
        try:
            w, h = image_size  # type: ignore[misc]
            size = (int(w), int(h))
        except (TypeError, ValueError):
            raise DataError(f"image_size must be an int or a (width, height) pair, got {image_size!r}") from None
    if min(size) < 1:
        raise DataError(f"image_size must be positive, got {image_size!r}")
    return size


def _to_float(img: Image.Image, background: float) -> np.ndarray:
    r"""Returns :obj:`img` as float32 :obj:`(H, W, 1)` grey or :obj:`(H, W, 3)`
    colour in :obj:`[0, 1]`, with transparency composited on
    :obj:`background`."""
    mode = img.mode
    if mode.startswith("I;16"):
        arr = np.asarray(img, dtype=np.float32) / 65535.0
    elif mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        if mode == "I" and lo >= 0 and hi <= 65535:
            arr = arr / 65535.0  # a 16-bit image (PIL opens some as 32-bit "I")
        elif mode == "F" and lo >= 0 and hi <= 1:
            pass  # already in [0, 1]
        else:  # no known range: stretch what is there
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        arr = arr.astype(np.float32)
    elif mode in ("L", "RGB", "LA", "RGBA"):
        arr = np.asarray(img, dtype=np.float32) / 255.0
    elif mode == "1":
        arr = np.asarray(img.convert("L"), dtype=np.float32) / 255.0
    elif mode in ("PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info):
        # Palette with transparency or premultiplied alpha: go through RGBA.
        arr, mode = np.asarray(img.convert("RGBA"), dtype=np.float32) / 255.0, "RGBA"
    else:  # P, CMYK, YCbCr, LAB, HSV, ...
        arr, mode = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0, "RGB"

    if arr.ndim == 2:
        arr = arr[:, :, None]
    if mode in ("LA", "RGBA"):
        alpha = arr[:, :, -1:]
        arr = arr[:, :, :-1] * alpha + np.float32(background) * (1.0 - alpha)
    return arr


def _resize(arr: np.ndarray, size: tuple[int, int], keep_aspect: bool, pad_value: float) -> np.ndarray:
    r"""Resizes :obj:`(H, W, C)` :obj:`arr` to the :obj:`(width, height)`
    box :obj:`size`, letterboxed with :obj:`pad_value` if :obj:`keep_aspect`."""
    box_w, box_h = size
    h, w = arr.shape[:2]
    if keep_aspect:
        scale = min(box_w / w, box_h / h)
        new_w = min(box_w, max(1, round(w * scale)))
        new_h = min(box_h, max(1, round(h * scale)))
    else:
        new_w, new_h = box_w, box_h
    if (new_w, new_h) != (w, h):
        # Channel-wise in float ("F") mode: no 8-bit rounding, 16-bit data
        # keep their precision, and Lanczos filtering anti-aliases shrinking.
        chans = [np.asarray(Image.fromarray(np.ascontiguousarray(arr[:, :, c]))
                            .resize((new_w, new_h), Image.Resampling.LANCZOS))
                 for c in range(arr.shape[2])]
        arr = np.clip(np.stack(chans, axis=2), 0.0, 1.0)  # Lanczos overshoots slightly
    if (new_w, new_h) == (box_w, box_h):
        return arr
    out = np.full((box_h, box_w, arr.shape[2]), pad_value, dtype=np.float32)
    top, left = (box_h - new_h) // 2, (box_w - new_w) // 2
    out[top:top + new_h, left:left + new_w] = arr
    return out


def load_image(path: PathLike, image_size: ImageSize = (64, 48), grayscale: bool = True, *,
               keep_aspect: bool = True, pad_value: float = 1.0) -> np.ndarray:
    r"""Reads one image as a float32 array in :obj:`[0, 1]`.

    Args:
        path (str or PathLike): The image file.
        image_size (int or tuple, optional): Target :obj:`(width, height)`
            box, an int for a square, or :obj:`None` for the native size.
        grayscale (bool): Return :obj:`(H, W)` grey instead of
            :obj:`(H, W, 3)` RGB.
        keep_aspect (bool): Fit the image into the box keeping its aspect
            ratio and pad the rest with :obj:`pad_value` (centred).  If
            :obj:`False`, stretch it to the box.
        pad_value (float): Value of padding and of transparent pixels;
            white (1.0) by default.

    Modes ``L``, ``LA``, ``RGB``, ``RGBA``, ``P``, ``CMYK``, ``1`` and the
    16-bit ``I;16``/``I`` (divided by 65535) are read; EXIF rotation is
    applied.

    Raises:
        DataError: If the file cannot be decoded (the message names it).
    """
    size = _normalize_size(image_size)
    if not 0.0 <= pad_value <= 1.0:
        raise DataError(f"pad_value must be in [0, 1], got {pad_value}")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            arr = _to_float(img, pad_value)
    except DataError:
        raise
    except Exception as exc:  # PIL raises many types (OSError, ValueError, SyntaxError...) for bad files
        raise DataError(f"cannot read image '{path}': {type(exc).__name__}: {exc}") from None
    if grayscale and arr.shape[2] == 3:
        arr = (arr @ _LUMA)[:, :, None]
    elif not grayscale and arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if size is not None:
        arr = _resize(arr, size, keep_aspect, pad_value)
    arr = arr.astype(np.float32, copy=False)
    return arr[:, :, 0] if grayscale else arr


def _is_hidden(name: str) -> bool:
    return name.startswith(".") or name in _JUNK_DIRS


def _images_under(folder: Path, recursive: bool) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not _is_hidden(d)] if recursive else []
        found.extend(Path(dirpath) / f for f in filenames
                     if not _is_hidden(f) and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS)
    return found


def _scan(root: Path) -> tuple[list[Path], Optional[list[str]], Optional[list[int]]]:
    r"""Lists the images under :obj:`root` in sorted order, with their class
    names and labels if :obj:`root` has class sub-folders."""
    subdirs = sorted((d for d in root.iterdir() if d.is_dir() and not _is_hidden(d.name)),
                     key=lambda d: d.name)
    classes = [(d.name, _images_under(d, recursive=True)) for d in subdirs]
    classes = [(name, files) for name, files in classes if files]
    loose = _images_under(root, recursive=False)
    exts = " ".join(IMAGE_EXTENSIONS)
    if not classes:
        if not loose:
            raise DataError(f"no images found in folder '{root}' (looked for {exts})")
        return sorted(loose, key=lambda p: p.relative_to(root).as_posix()), None, None
    if loose:
        # A few stray files next to class folders are usually previews or
        # leftovers; treating the root as one more class would be a guess.
        warnings.warn(f"ignoring {len(loose)} image(s) directly in '{root}' because it has class "
                      f"sub-folders (e.g. '{sorted(loose)[0].name}')", stacklevel=3)
    files, labels = [], []
    for label, (_, paths) in enumerate(classes):
        paths = sorted(paths, key=lambda p: p.relative_to(root).as_posix())
        files.extend(paths)
        labels.extend([label] * len(paths))
    return files, [name for name, _ in classes], labels


def load_image_folder(path: PathLike, image_size: ImageSize = (64, 48), grayscale: bool = True,
                      on_error: str = "raise", *, keep_aspect: bool = True, pad_value: float = 1.0,
                      progress: Optional[bool] = None) -> ClusteringData:
    r"""Loads every image in a folder.

    Two layouts are understood:

    * **class folders** -- ``root/<class>/<image>`` (images may sit deeper
      inside a class folder): labels are known, :obj:`class_names` are the
      sorted sub-folder names.  Images lying directly in ``root`` next to
      class folders are ignored with a warning.
    * **flat** -- ``root/<image>``: no labels (:obj:`y` is :obj:`None`).

    Files with other extensions, hidden files and folders (``.*``) and
    ``__MACOSX`` are ignored.  Samples are sorted by class, then by path, so
    the order is the same on every machine; :obj:`names` are the paths
    relative to ``root`` with ``/`` separators.

    Args:
        path (str or PathLike): The root folder.
        image_size (int or tuple, optional): The :obj:`(width, height)` box
            every image is brought to (an int gives a square).  :obj:`None`
            keeps the native size, which must then be the same for all images.
        grayscale (bool): Convert to grey (one value per pixel, ITU-R 601
            luma); otherwise to RGB (three values per pixel, interleaved).
        on_error (str): What to do with a file that cannot be decoded:
            ``"raise"`` a :class:`DataError` naming it, or ``"skip"`` it with
            a warning naming it.
        keep_aspect (bool): Keep each image's aspect ratio and pad the box
            with :obj:`pad_value` (centred).  :obj:`False` stretches images to
            the box, which is right when they were squashed before.
        pad_value (float): Padding and background for transparent pixels,
            in :obj:`[0, 1]`; white (1.0) by default.
        progress (bool, optional): Show a progress bar; by default only for
            more than 200 images on a terminal.

    Returns:
        ClusteringData: :obj:`x` of shape :obj:`(N, height * width)` for grey
        or :obj:`(N, height * width * 3)` for RGB, values in :obj:`[0, 1]`.

    Raises:
        DataError: If the folder does not exist or has no images, an image
            cannot be read (with ``on_error="raise"``) or none can, or with
            :obj:`image_size=None` two images differ in size.
    """
    if on_error not in ("raise", "skip"):
        raise DataError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    size = _normalize_size(image_size)
    if not 0.0 <= pad_value <= 1.0:
        raise DataError(f"pad_value must be in [0, 1], got {pad_value}")
    root = Path(path)
    if not root.exists():
        raise DataError(f"no such file or folder: '{root}'")
    if not root.is_dir():
        raise DataError(f"'{root}' is not a folder of images")

    files, class_names, labels = _scan(root)
    if progress is None:
        disable = None if len(files) > _PROGRESS_MIN else True  # None: tqdm shows it only on a tty
    else:
        disable = not progress
    x, kept, first_shape = _read_images(files, root, on_error, disable, size, grayscale,
                                        keep_aspect=keep_aspect, pad_value=pad_value)
    names = [files[i].relative_to(root).as_posix() for i in kept]
    y = None
    if labels is not None:
        y, class_names = _relabel(labels, class_names, kept)
    h, w = first_shape[:2]
    kind = "grey" if grayscale else "RGB"
    n_cls = f", {len(class_names)} classes" if class_names is not None else ""
    return ClusteringData(x=x, y=y, names=names, class_names=class_names,
                          image_shape=first_shape,
                          source=f"image folder '{root}' ({len(kept)} images{n_cls}, {w}x{h} {kind})")


def _read_images(files: Sequence[Path], root: Path, on_error: str, disable: Optional[bool],
                 size: Optional[tuple[int, int]], grayscale: bool,
                 **kwargs) -> tuple[np.ndarray, list[int], tuple]:
    r"""Reads :obj:`files` (under :obj:`root`) with :func:`load_image` into
    one :obj:`(n_read, D)` float32 array, with a progress bar unless
    :obj:`disable` (:obj:`None`: on a terminal only). Returns it, the
    positions in :obj:`files` of the images read (all unless :obj:`on_error`
    is ``"skip"``) and the shape of one image; all images must have that
    shape (it is the first one's)."""
    x: Optional[np.ndarray] = None
    kept: list[int] = []
    first_shape: Optional[tuple] = None
    for i, file in enumerate(tqdm(files, desc="reading images", unit="img", disable=disable)):
        rel = file.relative_to(root).as_posix()
        try:
            img = load_image(file, size, grayscale, **kwargs)
        except DataError as exc:
            if on_error == "raise":
                raise
            warnings.warn(f"skipping {exc}", stacklevel=3)  # where load_image_folder was called
            continue
        if x is None:
            first_shape, first_name = img.shape, rel
            x = np.empty((len(files), img.size), dtype=np.float32)
        elif img.shape != first_shape:
            raise DataError(f"image '{rel}' is {img.shape[1]}x{img.shape[0]} but '{first_name}' is "
                            f"{first_shape[1]}x{first_shape[0]}; pass image_size to resize all images")
        x[len(kept)] = img.reshape(-1)
        kept.append(i)
    if x is None:
        raise DataError(f"none of the {len(files)} images in '{root}' could be read")
    return x[:len(kept)], kept, first_shape


def _relabel(labels: list[int], class_names: list[str], kept: list[int]) -> tuple[np.ndarray, list[str]]:
    r"""The labels of the images :obj:`kept` and the names of their classes,
    renumbered so that labels stay :obj:`0..C-1` when skipping emptied a
    class."""
    present = sorted({labels[i] for i in kept})
    remap = {old: new for new, old in enumerate(present)}
    y = np.array([remap[labels[i]] for i in kept], dtype=np.int64)
    return y, [class_names[old] for old in present]
