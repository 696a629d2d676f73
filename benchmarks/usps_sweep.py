r"""VGDCN settings on USPS over several seeds, from one pretrained
auto-encoder per seed (what each setting does; labels only score).

    python benchmarks/usps_sweep.py --config default: --config eps07:eps=0.7 \
        --config m5:n_neighbors=5 --seeds 0 1 2 3 4
"""
import argparse
import ast
import os
import sys
import time
import warnings

import numpy as np

from vgdcn_pyg.cluster import DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.io import atomic_write, save_json


def _config(text):
    name, _, assignments = text.partition(':')
    params = {}
    for item in filter(None, assignments.split(',')):
        key, _, value = item.partition('=')
        params[key] = ast.literal_eval(value)
    return name, params


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--config', type=_config, action='append', required=True,
                    help='NAME:key=value,key=value (estimator parameters)')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--device', default='auto')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'usps_sweep.md'))
    args = ap.parse_args(argv)
    warnings.filterwarnings('ignore')
    data = load_usps()
    scores = {name: [] for name, _ in args.config}
    for seed in args.seeds:
        pretrained = None
        for name, params in args.config:
            if 'pretrain_epochs' in params:
                continue_from = None
            else:
                continue_from = pretrained
            start = time.perf_counter()
            est = DeepClustering(n_clusters=10, random_state=seed,
                                 device=args.device, verbose=False, **params)
            est.fit(data.x, pretrained=continue_from)
            if pretrained is None and 'pretrain_epochs' not in params:
                pretrained = est.pretrained_state_
            m = evaluate(data.y, est.labels_)
            scores[name].append(m)
            print(f'seed {seed} {name:>12}: ACC {m["acc"]:.4f} NMI '
                  f'{m["nmi"]:.4f} ({time.perf_counter() - start:.0f} s)',
                  flush=True)
    lines = ['# VGDCN settings on USPS', '',
             f'Command: `python benchmarks/usps_sweep.py '
             f'{" ".join(argv if argv is not None else sys.argv[1:])}`  ',
             f'Seeds {args.seeds}; last epoch; mean +- std.', '',
             '| setting | parameters | ACC | NMI | ARI |',
             '| --- | --- | --- | --- | --- |']
    for name, params in args.config:
        cells = [f'{100 * np.mean([s[k] for s in scores[name]]):.1f} +- '
                 f'{100 * np.std([s[k] for s in scores[name]]):.1f}'
                 for k in ('acc', 'nmi', 'ari')]
        lines.append(f'| {name} | {params or "defaults"} | ' +
                     ' | '.join(cells) + ' |')
    text = '\n'.join(lines) + '\n'
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with atomic_write(args.out) as f:
        f.write(text)
    # Every run, for figures and for merging seeds run in parallel.
    save_json([dict(setting=name, params=params, seed=seed, **m)
               for name, params in args.config
               for seed, m in zip(args.seeds, scores[name])],
              os.path.splitext(args.out)[0] + '.json')


if __name__ == '__main__':
    main()
