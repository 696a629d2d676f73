import numpy as np

from vgdcn_pyg import plotting


def _is_png(path):
    return path.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_figures_are_written(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.random((60, 6 * 5)).astype(np.float32)
    labels = np.repeat([0, 1, 2], 20)
    y = np.repeat([2, 0, 1], 20)
    history = [{'epoch': e, 'recon': 10 - e, 'kl': 1.0, 'loss': 11 - e,
                'acc': 0.5 + e / 20, 'nmi': 0.4} for e in range(5)]
    plotting.plot_history({'vgdcn': history, 'vade': history},
                          tmp_path / 'h.png')
    plotting.plot_loss(history, tmp_path / 'l.png')
    plotting.plot_cluster_grid(images, (6, 5), labels, tmp_path / 'c.png',
                               per_cluster=4, y=y,
                               class_names=['a', 'b', 'c'])
    plotting.plot_embedding(rng.random((60, 4)), labels, tmp_path / 'e.png')
    plotting.plot_sweep([0.1, 0.5, 0.9], rng.random((3, 4)),
                        tmp_path / 's.png', 'eps')
    for name in ('h', 'l', 'c', 'e', 's'):
        assert _is_png(tmp_path / f'{name}.png')
    assert not list(tmp_path.glob('.tmp-*'))


def _readable(path):
    import matplotlib.image
    img = matplotlib.image.imread(path)
    assert img.ndim == 3 and img.shape[0] > 50 and img.shape[1] > 50
    return img


def _capture(monkeypatch):
    r"""Keeps the figures instead of saving them, to inspect what is drawn."""
    figures = []
    monkeypatch.setattr(plotting, '_save', lambda fig, path:
                        figures.append(fig))
    return figures


def _history(acc, epochs=4):
    return [{'epoch': e, 'recon': 1.0, 'kl': 0.5, 'loss': 1.5,
             'acc': acc + e / 100, 'nmi': acc, 'clusters': 3}
            for e in range(epochs)]


def test_history_over_seeds_draws_mean_band_and_lines(tmp_path,
                                                      monkeypatch):
    histories = {'vgdcn': [_history(0.5), _history(0.7)],
                 'vade': _history(0.6)}
    finals = {'ae_kmeans': {'acc': [0.4, 0.6], 'nmi': [0.3, 0.5]}}
    plotting.plot_history(histories, tmp_path / 'h.png', finals=finals)
    _readable(tmp_path / 'h.png')
    figures = _capture(monkeypatch)
    plotting.plot_history(histories, tmp_path / 'x.png', finals=finals)
    acc_axis = figures[0].axes[0]
    lines = {line.get_label(): line for line in acc_axis.get_lines()}
    # the mean over the two seeds, in %
    assert np.allclose(lines['vgdcn'].get_ydata(),
                       [60 + e for e in range(4)])
    assert list(lines['vgdcn'].get_xdata()) == [1, 2, 3, 4]
    # a model without a joint phase is a horizontal line at its mean
    flat = lines['ae_kmeans (no joint phase)'].get_ydata()
    assert np.allclose(flat, 50)
    assert len(acc_axis.collections) == 1  # the std band of vgdcn only
    assert acc_axis.get_ylabel() == 'ACC (%)' and acc_axis.get_xlabel()


def test_loss_plot_draws_only_loss_terms(tmp_path, monkeypatch):
    figures = _capture(monkeypatch)
    plotting.plot_loss(_history(0.5), tmp_path / 'l.png')
    labels = {line.get_label() for line in figures[0].axes[0].get_lines()}
    assert labels == {'recon', 'kl', 'loss'}


def test_sweep_panels_per_metric(tmp_path, monkeypatch):
    scores = {'ACC': np.array([[50, 60], [70, 70], [80, 90.]]),
              'NMI': np.array([[40, 40], [50, 60], [60, 70.]])}
    plotting.plot_sweep([1, 3, 5], scores, tmp_path / 's.png', 'M',
                        title='M sweep')
    _readable(tmp_path / 's.png')
    figures = _capture(monkeypatch)
    plotting.plot_sweep([1, 3, 5], scores, tmp_path / 'x.png', 'M')
    axes = figures[0].axes
    assert [ax.get_ylabel() for ax in axes] == ['ACC', 'NMI']
    assert axes[0].get_xlabel() == 'M'
    mean = axes[0].get_lines()[0].get_ydata()
    assert np.allclose(mean, [55, 70, 85])
    assert list(axes[0].get_xticks()) == [1, 3, 5]


def test_image_grids_of_any_shape(tmp_path):
    rng = np.random.default_rng(0)
    plotting.save_image_grid(rng.random((3, 4, 12 * 20)), (12, 20),
                             tmp_path / 'wide.png', row_titles=list('abc'),
                             title='wide')
    plotting.save_image_grid(rng.random((2, 3, 8 * 8 * 3)), (8, 8, 3),
                             tmp_path / 'colour.png')
    wide = _readable(tmp_path / 'wide.png')
    _readable(tmp_path / 'colour.png')
    assert wide.shape[1] > wide.shape[0]  # the 4 x 3 grid of wide images


def test_cluster_grid_titles_name_the_majority_class(tmp_path, monkeypatch):
    figures = _capture(monkeypatch)
    images = np.zeros((6, 4))
    labels = np.array([0, 0, 0, 1, 1, 1])
    y = np.array([1, 1, 0, 0, 0, 0])
    plotting.plot_cluster_grid(images, (2, 2), labels, tmp_path / 'c.png',
                               per_cluster=3, y=y, class_names=['oak', 'fir'])
    titles = [ax.get_ylabel() for ax in figures[0].axes[::3]]
    assert titles == ['cluster 0 (n=3)\nfir: 67%', 'cluster 1 (n=3)\noak: 100%']
