r"""Figures (matplotlib, PNG), written atomically."""
from typing import Optional, Sequence

import numpy as np

from .io import atomic_write


def _pyplot():
    import matplotlib
    matplotlib.use('Agg')  # no screen needed
    import matplotlib.pyplot as plt
    return plt


def _save(fig, path):
    with atomic_write(path, 'wb') as f:
        fig.savefig(f, format='png', dpi=120, bbox_inches='tight')
    _pyplot().close(fig)


def save_image_grid(images: np.ndarray, image_shape: Sequence[int], path,
                    row_titles: Optional[Sequence[str]] = None,
                    title: Optional[str] = None):
    r"""One row per group of :obj:`images` (shape :obj:`(rows, cols, D)`),
    each image reshaped to :obj:`image_shape` ((H, W) or (H, W, C))."""
    plt = _pyplot()
    images = np.asarray(images)
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.9, rows * 0.95),
                             squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            img = np.clip(images[r, c].reshape(image_shape), 0, 1)
            ax.imshow(img, cmap='gray' if img.ndim == 2 else None,
                      vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        if row_titles is not None:
            axes[r, 0].set_ylabel(row_titles[r], rotation=0, ha='right',
                                  va='center', fontsize=8)
    if title:
        fig.suptitle(title)
    _save(fig, path)
