r"""Figures (matplotlib, PNG), written atomically."""
from typing import Optional, Sequence

import numpy as np

from .io import atomic_write


def _pyplot():
    import matplotlib
    import matplotlib.pyplot as plt
    if matplotlib.get_backend().lower() not in ('agg', 'module://matplotlib_inline.backend_inline'):
        # no screen needed; a notebook's inline backend is left alone
        plt.switch_backend('Agg')
    return plt


def _save(fig, path):
    try:
        with atomic_write(path, 'wb') as f:
            fig.savefig(f, format='png', dpi=120, bbox_inches='tight')
    finally:
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


def plot_history(histories: dict, path, metrics: Sequence[str] = ('acc',
                                                                  'nmi'),
                 title: str = 'Clustering quality per epoch'):
    r"""Metrics per epoch for one or more models (thesis Fig. 4.2 / 4.4).
    :obj:`histories` maps a model name to its :attr:`history_`."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6),
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for name, history in histories.items():
            points = [(h['epoch'] + 1, h[metric]) for h in history
                      if metric in h]
            if points:
                ax.plot(*zip(*points), label=name)
        ax.set_xlabel('epoch')
        ax.set_ylabel(metric.upper())
        ax.set_title(metric.upper())
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    _save(fig, path)


def plot_loss(history: Sequence[dict], path, title: str = 'Training loss'):
    r"""Every loss term per epoch (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    keys = [k for k in history[0] if k not in ('epoch', 'clusters', 'acc',
                                                'nmi', 'ari', 'f1', 'purity')]
    epochs = [h['epoch'] + 1 for h in history]
    for key in keys:
        ax.plot(epochs, [max(h[key], 1e-12) for h in history], label=key)
    ax.set_yscale('log')
    ax.set_xlabel('epoch')
    ax.set_ylabel('loss')
    ax.set_title(title)
    ax.legend()
    _save(fig, path)


def plot_cluster_grid(images: np.ndarray, image_shape: Sequence[int],
                      labels: np.ndarray, path, per_cluster: int = 10,
                      y: Optional[np.ndarray] = None,
                      class_names: Optional[Sequence[str]] = None,
                      random_state: int = 0):
    r"""A row of sample images for each predicted cluster (thesis Fig.
    5.3), titled with the cluster's majority class when labels are known."""
    rng = np.random.default_rng(random_state)
    clusters = np.unique(labels)
    rows, titles = [], []
    for c in clusters:
        members = np.flatnonzero(labels == c)
        pick = rng.choice(members, size=min(per_cluster, members.size),
                          replace=False)
        row = np.ones((per_cluster, images.shape[1]), dtype=np.float32)
        row[:pick.size] = images[pick]
        rows.append(row)
        title = f'cluster {c} (n={members.size})'
        if y is not None:
            counts = np.bincount(y[members])
            major = int(counts.argmax())
            name = class_names[major] if class_names else str(major)
            title += f'\n{name}: {counts.max() / members.size:.0%}'
        titles.append(title)
    save_image_grid(np.stack(rows), image_shape, path, row_titles=titles,
                    title='Samples of each predicted cluster')


def plot_embedding(embedding: np.ndarray, labels: np.ndarray, path,
                   max_points: int = 3000, random_state: int = 0,
                   title: str = 'Latent space (t-SNE), coloured by cluster'):
    r"""A 2-D t-SNE map of the latent codes of at most :obj:`max_points`
    samples (a random subset keeps it fast), coloured by cluster."""
    from sklearn.manifold import TSNE
    plt = _pyplot()
    rng = np.random.default_rng(random_state)
    idx = np.arange(len(embedding))
    if idx.size > max_points:
        idx = np.sort(rng.choice(idx, max_points, replace=False))
    points = TSNE(2, init='pca', random_state=random_state,
                  perplexity=min(30.0, max(1.0, (idx.size - 1) / 3))).fit_transform(
                      embedding[idx])
    fig, ax = plt.subplots(figsize=(6, 5.5))
    scatter = ax.scatter(points[:, 0], points[:, 1], c=labels[idx], s=4,
                         cmap='tab10' if labels.max() < 10 else 'tab20')
    ax.legend(*scatter.legend_elements(), title='cluster', fontsize=7,
              loc='best', markerscale=0.8)
    ax.set_xlabel('t-SNE 1')
    ax.set_ylabel('t-SNE 2')
    ax.set_title(title)
    _save(fig, path)


def plot_sweep(values: Sequence[float], scores: np.ndarray, path,
               parameter: str, metric: str = 'ACC'):
    r"""Mean and standard deviation over seeds of a metric against a
    hyper-parameter (thesis Fig. 4.4b / 4.5). :obj:`scores` has shape
    :obj:`(len(values), n_seeds)`."""
    plt = _pyplot()
    scores = np.asarray(scores)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.errorbar(values, scores.mean(1), yerr=scores.std(1), marker='o',
                capsize=4)
    ax.set_xlabel(parameter)
    ax.set_ylabel(metric)
    ax.set_title(f'{metric} against {parameter} '
                 f'(mean +- std over {scores.shape[1]} seeds)')
    ax.grid(alpha=0.3)
    _save(fig, path)
