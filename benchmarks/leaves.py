r"""VGDCN and DEC on the ten Flavia leaf species (598 photos), several seeds.

The thesis's application (Chapter 5, Fig. 5.2), on hand-crafted descriptors
of the photos (``--features``, default ``shape``: silhouette and texture
descriptors, see :mod:`vgdcn_pyg.datasets.features`) or on raw pixels. For
each seed one auto-encoder is pretrained and shared by both models, default
settings otherwise; with ``--sweeps`` VGDCN's eps and M sweeps (thesis Fig.
4.4b and 4.5) run from the same auto-encoders on the first three seeds
(written to ``<out>_eps/`` and ``<out>_M/``).
Reported: the last epoch, mean +- std over seeds of ACC, NMI, ARI and F1;
labels only score. The tables are rewritten after every seed; the figures
(ACC/NMI per epoch; photos per predicted cluster of the first seed's VGDCN,
titled with its majority species, thesis Fig. 5.3; the sweeps) at the end.
The model runs are those of ``vgdcn benchmark flavia10 --features shape
--models vgdcn,dec``.

    python benchmarks/leaves.py --sweeps             # shape, 5 seeds
    python benchmarks/leaves.py --features pixels --out \
        benchmarks/results/leaves_pixels
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from vgdcn_pyg.datasets import extract_features, load_flavia10
from vgdcn_pyg.experiments import (QUICK, pretrain_autoencoder,
                                   run_benchmark, run_sweep, write_benchmark,
                                   write_sweep)
from vgdcn_pyg.io import save_torch
from vgdcn_pyg.plotting import plot_cluster_grid, plot_history

SWEEPS = {'eps': [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0], 'M': [1, 3, 5, 10, 20]}


def pretrained(data, seed, params, args):
    r"""``(state, seconds)``: the seed's pretrained auto-encoder and the
    time its pretraining took, from --pretrained-dir when it holds one (made
    with the same settings), else pretrained now."""
    path = None if args.pretrained_dir is None or args.quick else \
        os.path.join(args.pretrained_dir, f'pre_{args.features}_{seed}.pt')
    if path is not None and os.path.exists(path):
        saved = torch.load(path, weights_only=True)
        return saved['state'], saved['seconds']
    start = time.perf_counter()
    state = pretrain_autoencoder(data, seed, params)
    seconds = time.perf_counter() - start
    if path is not None:
        save_torch({'state': state, 'seconds': seconds}, path)
    return state, seconds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--features', default='shape',
                    choices=['pixels', 'hog', 'shape'])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--models', nargs='+', default=['vgdcn', 'dec'])
    ap.add_argument('--sweeps', action='store_true',
                    help='also sweep eps and M (VGDCN, first three seeds)')
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--pretrained-dir', default=None,
                    help='keep each seed\'s pretrained auto-encoder in this '
                    'folder (pre_<features>_<seed>.pt) and reuse it when '
                    'present: reruns of the clustering phase skip '
                    'pretraining')
    ap.add_argument('--quick', action='store_true',
                    help='smoke run: 1 seed, 5 pretraining and 5 joint '
                    'epochs')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'leaves'))
    args = ap.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds[:1]
    command = ('python benchmarks/leaves.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])).strip()
    images = load_flavia10()
    data = extract_features(images, args.features)
    name = f'Flavia leaves, {args.features} features'
    params = dict(QUICK) if args.quick else {}
    params.update(n_clusters=10, device=args.device, verbose=False)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)

    runs, sweeps = [], {p: [] for p in SWEEPS}
    for seed in args.seeds:
        state, seconds = pretrained(data, seed, params, args)
        state = {seed: state}
        for run in run_benchmark(data, args.models, [seed], params,
                                 keep_labels=True, pretrained=state):
            run['pretrain_seconds'] = seconds
            runs.append(run)
            print(f'seed {seed} {run["model"]:>6}: ACC {run["acc"]:.4f} '
                  f'NMI {run["nmi"]:.4f} ARI {run["ari"]:.4f} clusters '
                  f'{run["clusters_used"]} ({run["seconds"]:.0f} s, '
                  f'pretraining {seconds:.0f} s)', flush=True)
        table = write_benchmark(
            runs, args.models, args.out + '.md', args.out + '.json',
            f'{name} (598 photos, 10 species): VGDCN and DEC', command,
            device=args.device)
        if args.sweeps and seed in args.seeds[:3]:
            for param, values in SWEEPS.items():
                sweeps[param] += run_sweep(data, param, values, [seed],
                                           params, pretrained=state)
                print(write_sweep(sweeps[param], f'{args.out}_{param}',
                                  'vgdcn', command, args.device, name),
                      flush=True)
    print(table)
    plot_history({m: [r['history'] for r in runs if r['model'] == m]
                  for m in args.models}, args.out + '_quality.png',
                 title=f'{name}: quality per epoch (mean +- std over '
                 f'{len(args.seeds)} seed{"s" if len(args.seeds) > 1 else ""}'
                 f')')
    first = [r for r in runs if r['model'] == 'vgdcn'][:1]
    if first:  # thesis Fig. 5.3
        plot_cluster_grid(images.x, images.image_shape,
                          np.array(first[0]['labels']),
                          args.out + '_clusters.png', per_cluster=8,
                          y=images.y, class_names=images.class_names)


if __name__ == '__main__':
    main()
