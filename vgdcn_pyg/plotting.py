r"""Figures (matplotlib, PNG), written atomically."""
from typing import Optional, Sequence

import numpy as np
from sklearn.manifold import TSNE

from .io import atomic_write


#: History entries that are not loss terms.
_NOT_LOSSES = ('epoch', 'acc', 'nmi', 'ari', 'f1', 'purity', 'clusters')


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
    # Figure height from the images' aspect, so that the title sits right
    # above the grid whatever the image shape.
    aspect = image_shape[0] / image_shape[1]
    fig, axes = plt.subplots(rows, cols, squeeze=False, figsize=(
        cols * 0.9, rows * (0.9 * aspect + 0.1) + 0.5))
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.02, wspace=0.08,
                        hspace=0.12, top=1 - 0.45 / (rows * (0.9 * aspect +
                                                            0.1) + 0.5))
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


def _curve(histories, metric: str):
    r"""Epochs and the per-epoch mean and std of :obj:`metric` over one
    history (a list of per-epoch dicts) or several (one per seed)."""
    if histories and isinstance(histories[0], dict):
        histories = [histories]
    runs = [[h[metric] for h in history if metric in h]
            for history in histories]
    length = min((len(r) for r in runs), default=0)
    if length == 0:
        return None
    values = np.array([r[:length] for r in runs], dtype=float)
    epochs = [h['epoch'] + 1 for h in histories[0] if metric in h][:length]
    return np.asarray(epochs), values.mean(0), values.std(0)


def plot_history(histories: dict, path, metrics: Sequence[str] = ('acc',
                                                                  'nmi'),
                 title: str = 'Clustering quality per epoch',
                 finals: Optional[dict] = None):
    r"""Metrics per epoch for one or more models (thesis Fig. 4.2 / 4.4).
    :obj:`histories` maps a model name to its :attr:`history_`, or to a list
    of them (one per seed: the mean is drawn, with a band of one standard
    deviation). :obj:`finals` maps a model without a joint phase (e.g. AE +
    k-means) to its final scores, :obj:`{metric: value or list of values}`,
    drawn as a horizontal dashed line. Metrics in :math:`[0, 1]` are drawn
    in %."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.8),
                             squeeze=False, constrained_layout=True)
    colors = plt.rcParams['axes.prop_cycle'].by_key()['color']
    names = list(histories) + [n for n in (finals or {})
                               if n not in histories]
    for ax, metric in zip(axes[0], metrics):
        for i, name in enumerate(names):
            color = colors[i % len(colors)]
            curve = _curve(histories.get(name) or [], metric)
            if curve is not None:
                epochs, mean, std = curve
                ax.plot(epochs, 100 * mean, label=name, color=color)
                if np.any(std > 0):
                    ax.fill_between(epochs, 100 * (mean - std),
                                    100 * (mean + std), color=color,
                                    alpha=0.2, linewidth=0)
            elif finals and metric in finals.get(name, {}):
                value = 100 * float(np.mean(finals[name][metric]))
                ax.axhline(value, color=color, linestyle='--',
                           label=f'{name} (no joint phase)')
        ax.set_xlabel('epoch')
        ax.set_ylabel(f'{metric.upper()} (%)')
        ax.set_title(metric.upper())
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    _save(fig, path)


def plot_loss(history: Sequence[dict], path, title: str = 'Training loss'):
    r"""Every loss term per epoch (log scale)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    keys = [k for k in history[0] if k not in _NOT_LOSSES]
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


def plot_sweep(values: Sequence[float], scores, path, parameter: str,
               metric: str = 'ACC', title: Optional[str] = None,
               unit: str = ''):
    r"""Mean and standard deviation over seeds of a metric against a
    hyper-parameter (thesis Fig. 4.4b / 4.5). :obj:`scores` has shape
    :obj:`(len(values), n_seeds)`, or is a dict :obj:`{metric name: such an
    array}` for one panel per metric; :obj:`unit` follows the metric's name
    on the y axis (e.g. :obj:`" (%)"`)."""
    plt = _pyplot()
    if not isinstance(scores, dict):
        scores = {metric: scores}
    fig, axes = plt.subplots(1, len(scores), figsize=(5 * len(scores), 3.8),
                             squeeze=False, constrained_layout=True)
    ticks = all(float(v).is_integer() for v in values)
    for ax, (name, s) in zip(axes[0], scores.items()):
        s = np.asarray(s, dtype=float)
        ax.errorbar(values, s.mean(1), yerr=s.std(1), marker='o',
                    capsize=4)
        ax.set_xlabel(parameter)
        ax.set_ylabel(f'{name}{unit}')
        seeds = f'{s.shape[1]} seed' + ('s' if s.shape[1] > 1 else '')
        ax.set_title(f'{name} against {parameter} (mean +- std, {seeds})',
                     fontsize=10)
        if ticks:
            ax.set_xticks(list(values))
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    _save(fig, path)
