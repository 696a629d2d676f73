r"""The container every loader returns: :class:`ClusteringData`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import numpy as np

from vgdcn_pyg.exceptions import DataError

# dtype kinds that convert to float32 without losing meaning: bool, signed and
# unsigned ints, floats.  Strings, objects, complex, dates are refused.
_NUMERIC_KINDS = "biuf"


def _where(source: str) -> str:
    # Prefix for error messages so they name the file or dataset.
    return f"{source}: " if source else ""


@dataclass(eq=False)  # field-wise == is ambiguous on arrays
class ClusteringData:
    r"""A set of samples to cluster, with optional ground truth.

    Args:
        x (numpy.ndarray): The samples, one per row, shape :obj:`(N, D)`.
            Converted to contiguous :obj:`float32`; must be finite.
        y (numpy.ndarray, optional): Integer class labels in
            :obj:`0, ..., C-1`, shape :obj:`(N,)`, used only to score a
            clustering. :obj:`None` when the truth is unknown.
        names (list[str], optional): One id per sample (a file name relative
            to the dataset root, or :obj:`"train/17"`). Defaults to the row
            numbers.
        class_names (list[str], optional): Name of each class, so that
            :obj:`class_names[y[i]]` names the class of sample :obj:`i`.
        image_shape (tuple, optional): :obj:`(H, W)` for grey or
            :obj:`(H, W, C)` for colour images, such that
            :obj:`x[i].reshape(image_shape)` is image :obj:`i`;
            :obj:`None` for plain feature vectors.
        source (str): A human description of where the data came from; error
            messages start with it.

    Raises:
        DataError: If any field is malformed (see :meth:`validate`).
    """

    x: np.ndarray
    y: Optional[np.ndarray] = None
    names: Optional[list[str]] = None
    class_names: Optional[list[str]] = None
    image_shape: Optional[tuple] = None
    source: str = ""

    def __post_init__(self) -> None:
        where = _where(self.source)
        x = np.asarray(self.x)
        if x.dtype.kind not in _NUMERIC_KINDS:
            raise DataError(f"{where}features must be numeric, got dtype {x.dtype}")
        with np.errstate(over="ignore"):  # values beyond float32 become inf, reported by validate()
            self.x = np.ascontiguousarray(x, dtype=np.float32)

        if self.y is not None:
            y = np.asarray(self.y)
            if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
                y = y.astype(np.int64)  # e.g. labels read back from a float file
            if y.dtype.kind not in "iub":
                raise DataError(f"{where}labels must be integers 0..C-1, got dtype {y.dtype} "
                                "(load_array maps arbitrary labels to integers)")
            self.y = np.ascontiguousarray(y, dtype=np.int64)

        if self.names is None:
            self.names = [str(i) for i in range(self.x.shape[0] if self.x.ndim else 0)]
        else:
            self.names = [str(n) for n in self.names]
        if self.class_names is not None:
            self.class_names = [str(c) for c in self.class_names]
        if self.image_shape is not None:
            self.image_shape = tuple(int(s) for s in self.image_shape)
        self.validate()

    def validate(self) -> None:
        r"""Checks the invariants of all fields.

        Raises:
            DataError: If :obj:`x` is not 2-D, has no samples or features or
                holds NaN/inf, or if :obj:`y`, :obj:`names`,
                :obj:`class_names` or :obj:`image_shape` do not fit :obj:`x`.
        """
        where = _where(self.source)
        x = self.x
        if x.ndim != 2:
            raise DataError(f"{where}features must be a 2-D array (samples x features), "
                            f"got shape {tuple(x.shape)}")
        n, d = x.shape
        if n == 0:
            raise DataError(f"{where}no samples (the feature array has 0 rows)")
        if d == 0:
            raise DataError(f"{where}samples have no features (the feature array has 0 columns)")
        finite = np.isfinite(x)
        if not finite.all():
            bad = ~finite
            first = int(np.argmax(bad.any(axis=1)))
            name = self.names[first] if len(self.names) == n else str(first)
            named = f" ('{name}')" if name != str(first) else ""  # a file name, not the row again
            raise DataError(f"{where}features contain {int(bad.sum())} NaN/inf value(s), "
                            f"first in row {first}{named}")

        if self.y is not None:
            y = self.y
            if y.ndim != 1 or y.shape[0] != n:
                raise DataError(f"{where}labels have shape {tuple(y.shape)} but there are {n} samples")
            if y.min() < 0:
                raise DataError(f"{where}labels must be >= 0, found {int(y.min())}")
            if self.class_names is not None and y.max() >= len(self.class_names):
                raise DataError(f"{where}label {int(y.max())} has no class name "
                                f"({len(self.class_names)} class names)")
        if len(self.names) != n:
            raise DataError(f"{where}{len(self.names)} sample names but {n} samples")
        if self.class_names is not None and len(set(self.class_names)) != len(self.class_names):
            raise DataError(f"{where}class names are not unique")
        if self.image_shape is not None:
            shape = self.image_shape
            if len(shape) not in (2, 3) or int(np.prod(shape)) != d or min(shape) < 1:
                raise DataError(f"{where}image_shape {shape} does not match {d} features per sample "
                                "(expected (H, W) or (H, W, C) with H*W*C == features)")

    # ------------------------------------------------------------------ sizes
    @property
    def n_samples(self) -> int:
        r"""Number of samples :obj:`N`."""
        return int(self.x.shape[0])

    @property
    def n_features(self) -> int:
        r"""Number of features :obj:`D` per sample."""
        return int(self.x.shape[1])

    @property
    def n_classes(self) -> Optional[int]:
        r"""Number of classes: :obj:`len(class_names)` if given, else the
        number of distinct labels; :obj:`None` without labels."""
        if self.y is None:
            return None
        if self.class_names is not None:
            return len(self.class_names)
        return int(np.unique(self.y).size)

    def __len__(self) -> int:
        return self.n_samples

    # -------------------------------------------------------------- utilities
    def images(self) -> np.ndarray:
        r"""Returns the samples as images, shape :obj:`(N, *image_shape)`.

        Raises:
            DataError: If the data are plain vectors (:obj:`image_shape` is
                :obj:`None`).
        """
        if self.image_shape is None:
            raise DataError(f"{_where(self.source)}samples are plain vectors, not images")
        return self.x.reshape((self.n_samples,) + tuple(self.image_shape))

    def subset(self, idx: Union[Sequence[int], np.ndarray, slice]) -> "ClusteringData":
        r"""Returns the samples selected by :obj:`idx` (indices, a boolean
        mask of length :obj:`N`, or a slice) as a new :class:`ClusteringData`.

        Class names are kept in full, so labels keep their meaning even when
        a class is absent from the subset.
        """
        if isinstance(idx, slice):
            rows = np.arange(self.n_samples)[idx]
        else:
            rows = np.asarray(idx)
            if rows.dtype == bool:
                if rows.shape != (self.n_samples,):
                    raise DataError(f"{_where(self.source)}boolean mask has shape {rows.shape}, "
                                    f"expected ({self.n_samples},)")
                rows = np.flatnonzero(rows)
            elif rows.size == 0:
                rows = rows.astype(np.int64)
            elif rows.dtype.kind not in "iu":
                raise DataError(f"{_where(self.source)}subset indices must be integers or a boolean mask")
            rows = rows.reshape(-1)
            if rows.size and (rows.max() >= self.n_samples or rows.min() < -self.n_samples):
                raise DataError(f"{_where(self.source)}subset index out of range for {self.n_samples} samples")
        return ClusteringData(
            x=self.x[rows],
            y=None if self.y is None else self.y[rows],
            names=[self.names[i] for i in rows.tolist()],
            class_names=None if self.class_names is None else list(self.class_names),
            image_shape=self.image_shape,
            source=self.source,
        )

    def save(self, path: Union[str, os.PathLike]) -> None:
        r"""Writes all fields to a compressed :obj:`.npz` file that
        :func:`~vgdcn_pyg.datasets.load_array` reads back unchanged."""
        arrays = {"x": self.x, "names": np.asarray(self.names, dtype=str),
                  "source": np.asarray(self.source)}
        if self.y is not None:
            arrays["y"] = self.y
        if self.class_names is not None:
            arrays["class_names"] = np.asarray(self.class_names, dtype=str)
        if self.image_shape is not None:
            arrays["image_shape"] = np.asarray(self.image_shape, dtype=np.int64)
        np.savez_compressed(path, **arrays)

    def __repr__(self) -> str:
        parts = [f"n_samples={self.n_samples}", f"n_features={self.n_features}"]
        if self.y is not None:
            parts.append(f"n_classes={self.n_classes}")
        if self.image_shape is not None:
            parts.append(f"image_shape={self.image_shape}")
        if self.source:
            parts.append(f"source={self.source!r}")
        return f"{type(self).__name__}({', '.join(parts)})"
