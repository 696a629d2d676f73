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
