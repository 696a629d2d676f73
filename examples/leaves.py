r"""Cluster ten species of Flavia leaf photos with VGDCN and DEC (the thesis's
application, Chapter 5), end to end on the bundled 598 photos.

What it shows: the photos (64 x 48 grey, white background) are turned into
rotation-invariant silhouette and texture descriptors (``--features
shape``; ``pixels`` and ``hog`` are the alternatives), then VGDCN and DEC
cluster them from one pretrained auto-encoder per seed. Printed: ACC, NMI
and ARI per seed and their mean +- std (last epoch; labels only score).
Written to ``runs/leaves/``: ``quality.png`` (ACC and NMI per epoch, thesis
Fig. 5.2), ``clusters.png`` (photos of each VGDCN cluster of the first seed,
titled with its majority species, Fig. 5.3) and ``latent.png`` (t-SNE map
of VGDCN's latent space, by cluster).

Time here (2-core CPU, one thread, the other core busy), measured with
``benchmarks/leaves.py``, which runs the same fits: about 2 minutes a seed
(82-97 s of it the 600 pretraining epochs, i.e. 1800 mini-batch steps;
VGDCN's joint phase 15 s, DEC's 6 s), so about 10 minutes for the default
five seeds. Their numbers (VGDCN 87.4 +- 4.5% ACC, 88.9 +- 0.8% NMI; DEC
82.9 +- 2.1% ACC) are in ``benchmarks/results/leaves.md``. ``--quick`` (5
pretraining and 5 joint epochs, 1 seed; a smoke test only, far from
converged) took 25 s.

    python examples/leaves.py [--seeds 0 1 2 3 4] [--features shape]
"""
import argparse
import os

import numpy as np

from vgdcn_pyg import DEC, VGDCN
from vgdcn_pyg.datasets import extract_features, load_flavia10
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.experiments import QUICK, pretrain_autoencoder
from vgdcn_pyg.plotting import (plot_cluster_grid, plot_embedding,
                                plot_history)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--features', default='shape',
                    choices=['pixels', 'hog', 'shape'])
    ap.add_argument('--quick', action='store_true',
                    help='5 pretraining and 5 joint epochs, 1 seed')
    ap.add_argument('--out', default='runs/leaves')
    ap.add_argument('--device', default='auto')
    args = ap.parse_args()
    seeds = args.seeds[:1] if args.quick else args.seeds
    params = dict(QUICK) if args.quick else {}
    params.update(n_clusters=10, device=args.device, verbose=False)

    photos = load_flavia10()
    data = extract_features(photos, args.features)  # labels kept to score
    scores = {'VGDCN': [], 'DEC': []}
    histories = {'VGDCN': [], 'DEC': []}
    for seed in seeds:
        state = pretrain_autoencoder(data, seed, params)
        vgdcn = VGDCN(random_state=seed, **params).fit(
            data.x, data.y, pretrained=state)
        dec = DEC(random_state=seed, **params).fit(
            data.x, data.y, pretrained=state)
        for name, est in (('VGDCN', vgdcn), ('DEC', dec)):
            scores[name].append(evaluate(data.y, est.labels_))
            histories[name].append(est.history_)
            m = scores[name][-1]
            print(f'seed {seed} {name:>5}: ACC {m["acc"]:.4f} NMI '
                  f'{m["nmi"]:.4f} ARI {m["ari"]:.4f}', flush=True)
        if seed == seeds[0]:
            first = vgdcn
    for name, runs in scores.items():
        line = ', '.join(
            f'{k.upper()} {100 * np.mean([r[k] for r in runs]):.1f} +- '
            f'{100 * np.std([r[k] for r in runs]):.1f}'
            for k in ('acc', 'nmi', 'ari'))
        print(f'{name:>5}: {line}')

    os.makedirs(args.out, exist_ok=True)
    plot_history(histories, os.path.join(args.out, 'quality.png'),
                 title=f'Flavia leaves ({args.features} features): quality '
                 f'per epoch over {len(seeds)} seed(s) (thesis Fig. 5.2)')
    plot_cluster_grid(photos.x, photos.image_shape, first.labels_,
                      os.path.join(args.out, 'clusters.png'), per_cluster=8,
                      y=photos.y, class_names=photos.class_names)
    plot_embedding(first.embedding_, first.labels_,
                   os.path.join(args.out, 'latent.png'))
    print(f'figures in {args.out}/')


if __name__ == '__main__':
    main()
