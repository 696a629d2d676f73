r"""Synthetic Gaussian-mixture samples for scaling measurements and tests."""
from typing import Tuple

import numpy as np

from vgdcn_pyg.exceptions import DataError

# Rows generated per step: the only temporary is one chunk of means.
_CHUNK_ROWS = 65536


def make_gaussian_mixture(n_samples: int, n_features: int,
                          n_components: int = 20, separation: float = 3.0,
                          random_state: int = 0
                          ) -> Tuple[np.ndarray, np.ndarray]:
    r"""Draws :obj:`n_samples` points from an equally weighted mixture of
    :obj:`n_components` isotropic unit-variance Gaussians in
    :obj:`n_features` dimensions,

    .. math::
        y_i \sim \mathcal{U}\{0, \dots, C - 1\}, \qquad
        \mathbf{x}_i \sim \mathcal{N}(\boldsymbol\mu_{y_i}, \mathbf{I}),
        \qquad \boldsymbol\mu_c \sim \mathcal{N}(\mathbf{0}, s^2 \mathbf{I}),

    with :math:`s` = :obj:`separation`, so that two means lie about
    :math:`s\sqrt{2D}` apart while points of one component lie about
    :math:`\sqrt{2D}` apart. The samples are written into one float32 array
    chunk by chunk, so the peak memory is the output itself (:math:`4ND`
    bytes) plus a few MB, which matters when measuring the memory of what
    runs on :math:`10^6` of them.

    Returns:
        (numpy.ndarray, numpy.ndarray): The samples, float32 of shape
        :obj:`(n_samples, n_features)`, and the components, int64 of shape
        :obj:`(n_samples,)`.
    """
    for name, value in (('n_samples', n_samples), ('n_features', n_features),
                        ('n_components', n_components)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) \
                or value < 1:
            raise DataError(f'{name} must be a positive integer, got '
                            f'{value!r}')
    if not np.isfinite(separation) or separation < 0:
        raise DataError(f'separation must be a finite number >= 0, got '
                        f'{separation!r}')
    rng = np.random.default_rng(random_state)
    means = (separation * rng.standard_normal(
        (n_components, n_features))).astype(np.float32)
    y = rng.integers(0, n_components, n_samples)
    x = np.empty((n_samples, n_features), dtype=np.float32)
    for start in range(0, n_samples, _CHUNK_ROWS):
        end = min(start + _CHUNK_ROWS, n_samples)
        rng.standard_normal(out=x[start:end], dtype=np.float32)
        x[start:end] += means[y[start:end]]
    return x, y
