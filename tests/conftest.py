import os
from pathlib import Path

import numpy as np
import pytest

#: Environment variable that overrides where the tests find the shared data.
SHARED_ENV = 'VGDCN_SHARED_DATA'
#: The shared data by default: ``../shared/data`` from the repository root.
DEFAULT_SHARED = Path(__file__).resolve().parents[1] / '..' / 'shared' / 'data'


def shared_root() -> Path:
    r"""The folder of the shared (not bundled) source data:
    ``$VGDCN_SHARED_DATA`` if set, else ``../shared/data`` from the
    repository root."""
    env = os.environ.get(SHARED_ENV)
    return Path(env).expanduser() if env else DEFAULT_SHARED


def shared_data(relpath: str) -> Path:
    r"""The path of :obj:`relpath` inside the shared data (see
    :func:`shared_root`), or a skip of the calling test that says what is
    missing where and how to point the tests at it."""
    root = shared_root()
    path = root / relpath
    if not path.exists():
        how = (f'{SHARED_ENV}={os.environ[SHARED_ENV]!r} is set' if
               os.environ.get(SHARED_ENV) else
               f'set {SHARED_ENV} to the folder that holds it')
        pytest.skip(f'shared data {relpath!r} not found at {path.resolve()}'
                    f' ({how}; the default is ../shared/data from the '
                    f'repository root)')
    return path


def make_blobs(n_per_cluster=40, n_clusters=3, dim=12, spread=0.25, seed=0):
    r"""Well separated Gaussian blobs squashed into [0, 1]."""
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0.15, 0.85, size=(n_clusters, dim))
    x = np.concatenate([c + spread * 0.2 * rng.standard_normal((n_per_cluster,
                                                                 dim))
                        for c in centers])
    y = np.repeat(np.arange(n_clusters), n_per_cluster)
    return np.clip(x, 0, 1).astype(np.float32), y


def make_shapes(n_per_class=12, size=(24, 32), seed=0):
    r"""Grey images of three dark shapes on a white background (a disc, a
    thin ellipse and a square), at random positions and rotations; returns
    ``(x, y, image_shape)``."""
    rng = np.random.default_rng(seed)
    h, w = size
    rows, cols = np.mgrid[:h, :w].astype(np.float64)
    images, labels = [], []
    for label, (a, b, power) in enumerate([(6, 6, 2), (10, 3, 2),
                                           (5, 5, 8)]):
        for _ in range(n_per_class):
            cy, cx = rng.uniform(0.4, 0.6) * h, rng.uniform(0.4, 0.6) * w
            angle = rng.uniform(0, np.pi)
            u = (cols - cx) * np.cos(angle) + (rows - cy) * np.sin(angle)
            v = -(cols - cx) * np.sin(angle) + (rows - cy) * np.cos(angle)
            inside = np.abs(u / a) ** power + np.abs(v / b) ** power <= 1
            img = np.where(inside, rng.uniform(0.2, 0.4), 0.95)
            img = img + 0.02 * rng.standard_normal(img.shape)
            images.append(np.clip(img, 0, 1).reshape(-1))
            labels.append(label)
    return (np.stack(images).astype(np.float32), np.array(labels),
            (h, w))


@pytest.fixture
def blobs():
    return make_blobs()


#: Small, fast settings shared by the model and estimator tests.
TINY = dict(hidden_channels=(32, 32, 64), latent_channels=4,
            pretrain_epochs=30, epochs=15, batch_size=32, lr=1e-3,
            pretrain_lr=3e-3, n_neighbors=5, device='cpu', verbose=False,
            # Fixed lengths: the stopping rules have tests of their own.
            pretrain_tol=0.0, tol=0.0)

#: TINY with mini-batch graph training (the tests' blobs have 120-180
#: samples: a few seed batches per epoch).
MINIBATCH = dict(TINY, batch_size_graph=32, num_neighbors=(-1, ))
