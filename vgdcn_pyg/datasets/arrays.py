r"""Loading feature matrices from ``.npy``, ``.npz`` and ``.csv`` files."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from vgdcn_pyg.datasets.base import ClusteringData
from vgdcn_pyg.exceptions import DataError

PathLike = Union[str, os.PathLike]
Labels = Union[None, str, int, os.PathLike, Sequence[Any], np.ndarray]

#: Keys tried, in order, for the features and the labels of an ``.npz``.
X_KEYS = ("x", "X", "data", "features")
Y_KEYS = ("y", "labels", "target")
#: Suffixes a separate label file may have.
LABEL_FILE_SUFFIXES = (".npy", ".txt", ".csv")


# ----------------------------------------------------------------- labels
def encode_labels(raw: Any, where: str = "labels") -> tuple[np.ndarray, list[str]]:
    r"""Maps labels of any hashable type to :obj:`0, ..., C-1`.

    Classes are numbered in sorted order (numerically for numbers, so
    ``"2" < "10"`` when all labels are numeric strings) and their names are
    returned as strings: ``encode_labels(["b", "a", "b"])`` gives
    :obj:`([1, 0, 1], ["a", "b"])`.

    Raises:
        DataError: If the labels are not one-dimensional or hold NaN.
    """
    arr = np.asarray(raw)
    if not isinstance(raw, np.ndarray) and arr.ndim > 1 and all(isinstance(v, tuple) for v in raw):
        arr = np.empty(len(raw), dtype=object)  # tuples are labels, not rows of a matrix
        for i, v in enumerate(raw):
            arr[i] = v
    if arr.ndim == 2 and 1 in arr.shape:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataError(f"{where}: labels must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind in "US":
        # Numeric strings (from CSV/text) are compared as numbers.
        try:
            num = arr.astype(np.float64)
        except ValueError:
            num = None
        if num is not None and arr.size:
            arr = num
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)):
            raise DataError(f"{where}: labels contain NaN/inf (row {int(np.argmax(~np.isfinite(arr)))})")
        if np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)  # so class names read "3", not "3.0"
    if arr.dtype.kind in "biufUS":
        classes, y = np.unique(arr, return_inverse=True)
        names = [str(c) for c in classes]  # NumPy scalars print short: float32 0.2 -> "0.2"
    else:  # objects: any hashable values
        values = arr.tolist()
        try:
            unique = set(values)
        except TypeError as exc:
            raise DataError(f"{where}: labels must be hashable values ({exc})") from None
        try:
            classes = sorted(unique)
        except TypeError:  # mixed types: order by type, then text
            classes = sorted(unique, key=lambda v: (type(v).__name__, str(v)))
        index = {c: i for i, c in enumerate(classes)}
        y = np.array([index[v] for v in values], dtype=np.int64)
        names = [str(c) for c in classes]
    if len(set(names)) != len(names):  # e.g. 1 and "1" among objects
        names = [f"{n} ({type(c).__name__})" for n, c in zip(names, classes)]
    return np.asarray(y, dtype=np.int64).reshape(-1), names


def _read_label_file(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError(f"no such file or folder: '{path}'")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _load_npy(path)
    # .txt: one label per line; .csv: one column, header optional.
    rows = _read_csv_rows(path, delimiter=None if suffix == ".csv" else "\n")
    if any(len(r) != 1 for r in rows):
        raise DataError(f"label file '{path}' must have exactly one column")
    values = [r[0] for r in rows]
    if len(values) > 1 and not _is_number(values[0]) and all(_is_number(v) for v in values[1:]):
        values = values[1:]  # a header line such as "label"
    return np.asarray(values)


# ----------------------------------------------------------------- readers
def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_numeric(arr: np.ndarray, where: str) -> np.ndarray:
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{where} has non-numeric dtype {arr.dtype}; features must be numbers")
    return arr


def _load_npy(path: Path) -> np.ndarray:
    try:
        # Never unpickle: a data file must not be able to run code.
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        with open(path, "rb") as f:
            is_npy = f.read(6) == b"\x93NUMPY"
        if is_npy and "pickle" in str(exc):
            raise DataError(f"'{path}' holds Python objects (a pickled object array); "
                            "save a numeric array instead") from None
        if not is_npy:
            exc = "no .npy header"
        raise DataError(f"cannot read '{path}' as a NumPy file: {exc}") from None
    except (OSError, EOFError) as exc:
        raise DataError(f"cannot read '{path}' as a NumPy file: {exc}") from None


def _read_csv_rows(path: Path, delimiter: Optional[str]) -> list[list[str]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # utf-8-sig drops an Excel BOM
            text = f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read '{path}' as text: {exc}") from None
    if delimiter == "\n":
        return [[line.strip()] for line in text.splitlines() if line.strip()]
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:4096], delimiters=",;\t").delimiter
        except csv.Error:
            delimiter = ","
    rows = [[cell.strip() for cell in row] for row in csv.reader(text.splitlines(), delimiter=delimiter)]
    return [r for r in rows if any(r)]


def _read_csv(path: Path, labels: Labels) -> tuple[np.ndarray, Optional[np.ndarray], Optional[list[str]]]:
    r"""Returns the features, the raw label column (or :obj:`None`) and the
    header (or :obj:`None`) of a CSV file."""
    rows = _read_csv_rows(path, delimiter=None)
    if not rows:
        raise DataError(f"'{path}' is empty")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataError(f"'{path}' line {i + 1} has {len(row)} columns, the first line has {width}")

    # Which column holds labels; a column name needs the header to resolve.
    named = isinstance(labels, str) and labels not in ("first", "last")
    if labels == "first":
        label_col = 0
    elif labels == "last":
        label_col = width - 1
    elif isinstance(labels, (int, np.integer)) and not isinstance(labels, bool):
        if not -width <= labels < width:
            raise DataError(f"label column {labels} is out of range for '{path}' ({width} columns)")
        label_col = int(labels) % width
    else:
        label_col = None

    # A header row is one whose feature cells are not numbers.
    feature_cols = [j for j in range(width) if j != label_col]
    header = None
    if named or any(not _is_number(rows[0][j]) for j in feature_cols):
        header, rows = rows[0], rows[1:]
        if not rows:
            raise DataError(f"'{path}' has a header but no data rows")
    if named:
        if header is None or labels not in header:
            cols = ", ".join(header) if header else "none (no header row)"
            raise DataError(f"label column '{labels}' not found in '{path}' (columns: {cols})")
        label_col = header.index(labels)
        feature_cols = [j for j in range(width) if j != label_col]
    if not feature_cols:
        raise DataError(f"'{path}' has no feature columns besides the labels")

    cells = np.asarray(rows, dtype=str)
    block = cells[:, feature_cols]
    try:
        x = block.astype(np.float64)
    except ValueError:
        # Find the first bad cell to name it; empty cells are "missing".
        first_data_line = 2 if header is not None else 1
        for i, row in enumerate(block):
            for j, cell in enumerate(row):
                if not _is_number(cell):
                    what = "is empty" if cell == "" else f"'{cell}' is not a number"
                    col = header[feature_cols[j]] if header else str(feature_cols[j] + 1)
                    raise DataError(f"'{path}' line {i + first_data_line}, column {col}: {what}") from None
        raise DataError(f"'{path}' has values that are not numbers") from None
    y = cells[:, label_col] if label_col is not None else None
    return x, y, header


def load_array(path: PathLike, labels: Labels = None, x_key: Optional[str] = None,
               y_key: Optional[str] = None) -> ClusteringData:
    r"""Loads a feature matrix, one sample per row, with optional labels.

    * ``.npy``: a numeric array.  2-D is :obj:`(N, D)`; 3-D or more is taken
      as images :obj:`(N, H, W[, C])` (a 4-D array with 1 or 3 channels first
      is read as :obj:`(N, C, H, W)`), flattened, with :obj:`image_shape`
      set.
    * ``.npz``: the features are :obj:`x_key` or the first of ``x``, ``X``,
      ``data``, ``features`` (or the only array); labels are :obj:`y_key`
      or the first of ``y``, ``labels``, ``target`` if present.  Optional
      ``names``, ``class_names`` and ``image_shape`` arrays are used, so files
      written by :meth:`ClusteringData.save` round-trip.
    * ``.csv``: numbers separated by ``,``, ``;`` or tabs, with an optional
      header row (detected when its feature cells are not numbers).

    Integer features are converted to float32 without rescaling.

    Args:
        path (str or PathLike): The file.
        labels: Where the labels are: :obj:`None` (the ``.npz`` label key if
            any, else no labels), ``"first"`` / ``"last"`` (that column of a
            CSV or 2-D array), a CSV column name or index, a path to a
            ``.npy`` / ``.txt`` (one per line) / ``.csv`` label file, or the
            labels themselves as a sequence.  Labels of any type are mapped
            to :obj:`0..C-1` in sorted order, their values kept as
            :obj:`class_names`.
        x_key (str, optional): Feature array name in an ``.npz``.
        y_key (str, optional): Label array name in an ``.npz``.

    Raises:
        DataError: If the file is missing or unreadable, a key or column is
            missing (the message lists what is there), the data are not
            numeric or not finite, or the labels do not match the samples.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such file or folder: '{path}'")
    suffix = path.suffix.lower()
    label_is_column = _label_is_column(labels, suffix)
    x, raw_y, meta = _read_features(path, suffix, labels, label_is_column, x_key, y_key)
    x, image_shape = _flatten_images(x, path, labels, label_is_column, meta["image_shape"])
    x, raw_y = _take_labels(x, raw_y, path, suffix, labels, label_is_column)
    y, class_names = _encode_raw_labels(raw_y, x.shape[0], path, meta["class_names"])
    return ClusteringData(x=x, y=y, names=meta["names"], class_names=class_names,
                          image_shape=image_shape, source=f"'{path}'")


def _label_is_column(labels: Labels, suffix: str) -> bool:
    r"""Whether :obj:`labels` picks a column ("first", "last", an index, or a
    CSV header name) rather than naming a label file or being the labels."""
    is_index = isinstance(labels, (int, np.integer)) and not isinstance(labels, bool)
    return is_index or (isinstance(labels, str) and (
        labels in ("first", "last") or (suffix == ".csv" and not _looks_like_label_file(labels))))


def _no_metadata() -> dict:
    r"""The metadata of a file that stores none: an ``.npz`` may store the
    sample :obj:`names`, :obj:`class_names` and :obj:`image_shape`."""
    return {"names": None, "class_names": None, "image_shape": None}


def _read_features(path: Path, suffix: str, labels: Labels, label_is_column: bool, x_key: Optional[str],
                   y_key: Optional[str]) -> tuple[np.ndarray, Optional[np.ndarray], dict]:
    r"""The raw feature array of a ``.csv``, ``.npy`` or ``.npz`` file, its
    raw labels if they come from the file itself (the label column of a CSV;
    the label array of an ``.npz`` when :obj:`labels` is :obj:`None`) and
    the ``.npz`` metadata (:obj:`names`, :obj:`class_names`,
    :obj:`image_shape`, :obj:`None` if absent)."""
    if suffix == ".csv":
        x, raw_y, _ = _read_csv(path, labels if label_is_column else None)
        return x, raw_y, _no_metadata()
    if suffix == ".npy":
        x = _check_numeric(_load_npy(path), f"'{path}'")
        return x, None, _no_metadata()
    if suffix == ".npz":
        return _read_npz(path, x_key, y_key, read_labels=labels is None)
    raise DataError(f"unsupported array file '{path}' (expected .npy, .npz or .csv)")


def _read_npz(path: Path, x_key: Optional[str], y_key: Optional[str],
              read_labels: bool) -> tuple[np.ndarray, Optional[np.ndarray], dict]:
    r"""Features, labels (if any and :obj:`read_labels`) and metadata of an
    ``.npz`` archive, the arrays found by :obj:`x_key` / :obj:`y_key` or by
    :data:`X_KEYS` / :data:`Y_KEYS`."""
    try:
        z = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"cannot read '{path}' as a NumPy .npz file: {exc}") from None
    with z:
        keys = list(z.files)
        x_key, y_key = _npz_keys(path, keys, x_key, y_key)
        meta: dict = _no_metadata()
        raw_y = None
        try:
            x = _check_numeric(z[x_key], f"array '{x_key}' of '{path}'")
            if y_key is not None and read_labels:
                raw_y = z[y_key]
            if "names" in keys:
                meta["names"] = z["names"].tolist()
            if "class_names" in keys and raw_y is not None:
                meta["class_names"] = z["class_names"].tolist()
            if "image_shape" in keys:
                meta["image_shape"] = tuple(int(s) for s in z["image_shape"].reshape(-1))
        except ValueError as exc:  # an object array inside the archive
            raise DataError(f"'{path}' holds Python objects ({exc}); save numeric arrays") from None
    return x, raw_y, meta


def _npz_keys(path: Path, keys: list[str], x_key: Optional[str],
              y_key: Optional[str]) -> tuple[str, Optional[str]]:
    r"""The feature and label keys of an ``.npz`` holding :obj:`keys`."""
    listing = ", ".join(keys) or "none"
    if x_key is None:
        x_key = next((k for k in X_KEYS if k in keys), keys[0] if len(keys) == 1 else None)
        if x_key is None:
            raise DataError(f"'{path}' has no feature array: looked for "
                            f"{', '.join(X_KEYS)}; keys present: {listing} (pass x_key=...)")
    elif x_key not in keys:
        raise DataError(f"'{path}' has no array '{x_key}'; keys present: {listing}")
    if y_key is not None and y_key not in keys:
        raise DataError(f"'{path}' has no array '{y_key}'; keys present: {listing}")
    if y_key is None:
        y_key = next((k for k in Y_KEYS if k in keys and k != x_key), None)
    return x_key, y_key


def _flatten_images(x: np.ndarray, path: Path, labels: Labels, label_is_column: bool,
                    image_shape: Optional[tuple]) -> tuple[np.ndarray, Optional[tuple]]:
    r"""Images :obj:`(N, H, W[, C])` (or channels-first :obj:`(N, C, H, W)`)
    as flat rows, with their image shape; 2-D arrays unchanged."""
    if x.ndim >= 3:
        if label_is_column:
            raise DataError(f"labels={labels!r} picks a column, but '{path}' holds a {x.ndim}-D array")
        if x.ndim == 4 and x.shape[1] in (1, 3) and x.shape[3] not in (1, 3):
            x = np.transpose(x, (0, 2, 3, 1))  # channels-first (PyTorch layout) to channels-last
        if x.ndim == 4 and x.shape[3] == 1:
            x = x[..., 0]
        image_shape = image_shape or tuple(x.shape[1:])
        x = x.reshape(x.shape[0], -1)
    elif x.ndim != 2:
        raise DataError(f"'{path}' holds a {x.ndim}-D array of shape {x.shape}; need 2-D (samples x features)")
    return x, image_shape


def _take_labels(x: np.ndarray, raw_y: Optional[np.ndarray], path: Path, suffix: str, labels: Labels,
                 label_is_column: bool) -> tuple[np.ndarray, Optional[np.ndarray]]:
    r"""``(features, raw labels)``: a label column of a 2-D array moves out
    of the features; a label file or label sequence is read."""
    if label_is_column and suffix != ".csv":
        width = x.shape[1]
        col = 0 if labels == "first" else width - 1 if labels == "last" else int(labels)
        if not -width <= col < width:
            raise DataError(f"label column {labels} is out of range for '{path}' ({width} columns)")
        if width < 2:
            raise DataError(f"'{path}' has no feature columns besides the labels")
        return np.delete(x, col, axis=1), x[:, col]
    if not label_is_column and labels is not None:
        if isinstance(labels, (str, os.PathLike)):
            return x, _read_label_file(Path(labels))
        return x, np.asarray(labels)
    return x, raw_y


def _encode_raw_labels(raw_y: Optional[np.ndarray], n_samples: int, path: Path,
                       class_names: Optional[list]) -> tuple[Optional[np.ndarray], Optional[list]]:
    r"""``(y, class_names)`` of the raw labels of :obj:`n_samples` samples;
    labels already encoded (with :obj:`class_names` saved beside them, as by
    :meth:`ClusteringData.save`) are kept."""
    if raw_y is None:
        return None, class_names
    raw_y = np.asarray(raw_y)
    if raw_y.ndim == 2 and 1 in raw_y.shape:
        raw_y = raw_y.reshape(-1)
    if raw_y.ndim != 1 or raw_y.shape[0] != n_samples:
        raise DataError(f"'{path}': {raw_y.shape[0] if raw_y.ndim else 0} labels for {n_samples} samples")
    if class_names is not None and raw_y.dtype.kind in "iu":
        return raw_y.astype(np.int64), class_names  # already encoded, e.g. by ClusteringData.save
    return encode_labels(raw_y, f"'{path}'")


def _looks_like_label_file(labels: Any) -> bool:
    return isinstance(labels, str) and Path(labels).suffix.lower() in LABEL_FILE_SUFFIXES
