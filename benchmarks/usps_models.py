r"""VGDCN against every baseline on the full USPS (9298 digits), several seeds.

Every model is fitted as a user would fit it: default settings, its own
pretraining, one fit per seed (``--share-pretraining`` instead pretrains one
auto-encoder per seed, with the first model's class, and starts every model
from it). Reported: the last epoch, mean +- std over seeds of ACC
(Hungarian), NMI, ARI and macro-F1; labels are only used to score.

    python benchmarks/usps_models.py                 # 5 seeds, all models
    python benchmarks/usps_models.py --quick         # 1 seed, short runs
"""
import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

from vgdcn_pyg.cluster import MODELS, DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.io import atomic_write, save_json

ORDER = ['ae_kmeans', 'vae_kmeans', 'vade', 'dec', 'idec', 'sdcn', 'vgdcn']
PUBLISHED = {  # SDCN paper, Table 2 (USPS); thesis Fig. 4.4
    'ae_kmeans': '71.0 / 67.5 / 58.8', 'dec': '73.3 / 70.6 / 63.7',
    'idec': '76.2 / 75.6 / 67.9', 'sdcn': '78.1 / 79.5 / 71.8',
    'vgdcn': '62.7 (purity)',
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--models', nargs='+', default=ORDER, choices=ORDER)
    ap.add_argument('--quick', action='store_true',
                    help='1 seed, 5 pretraining and 5 joint epochs')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'])
    ap.add_argument('--share-pretraining', action='store_true',
                    help='pretrain once per seed and start every model from '
                         'that auto-encoder')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'usps_models'))
    ap.add_argument('--from-json', nargs='+', metavar='JSON',
                    help='fit nothing: write the table of the runs in these '
                         'files (e.g. seeds run in parallel processes)')
    args = ap.parse_args(argv)
    if args.from_json:
        runs = []
        for path in args.from_json:
            with open(path) as f:
                runs += json.load(f)
        args.seeds = sorted({r['seed'] for r in runs})
        print(write_results(args, argv, runs))
        return
    if args.quick:
        args.seeds = args.seeds[:1]
    overrides = dict(pretrain_epochs=5, epochs=5, warmup_steps=5) \
        if args.quick else {}

    data = load_usps()
    runs = []
    for seed in args.seeds:
        pretrained = None
        for name in args.models:
            est = DeepClustering(n_clusters=10, model=name, random_state=seed,
                                 device=args.device, verbose=False,
                                 precision=args.precision,
                                 **overrides)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                est.fit(data.x, data.y, pretrained=pretrained)
            seconds = time.perf_counter() - start
            if pretrained is None and args.share_pretraining:
                pretrained = est.pretrained_state_
            metrics = evaluate(data.y, est.labels_)
            run = dict(seed=seed, model=name, seconds=seconds,
                       init=evaluate(data.y, est.init_labels_),
                       history=est.history_,
                       warnings=[str(w.message) for w in caught], **metrics)
            runs.append(run)
            print(f'seed {seed} {name:>10}: ACC {metrics["acc"]:.4f} NMI '
                  f'{metrics["nmi"]:.4f} ARI {metrics["ari"]:.4f} '
                  f'({seconds:.0f} s)', flush=True)
        write_results(args, argv, runs)

    print(write_results(args, argv, runs))


def write_results(args, argv, runs):
    r"""Writes the table (mean +- std over the seeds done so far) and every
    run with its history; called after each seed so a stopped run keeps
    what it finished."""
    seeds = sorted({r['seed'] for r in runs})
    lines = [
        '# USPS (9298 digits): VGDCN and baselines',
        '',
        f'Command: `python benchmarks/usps_models.py '
        f'{" ".join(argv if argv is not None else sys.argv[1:])}`  ',
        f'Seeds {seeds}, last epoch, default settings, ' + (
            'one pretrained auto-encoder per seed shared by all models (the '
            'first model\'s run time includes the pretraining).  '
            if args.share_pretraining else
            'every model with its own pretraining (included in its time).  '),
        f'Machine: {platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} cores, torch {__import__("torch").__version__}, '
        f'device {args.device}, precision {args.precision}.',
        '',
        '| model | ACC | NMI | ARI | F1 | time (s) | published ACC / NMI / ARI |',
        '| --- | --- | --- | --- | --- | --- | --- |',
    ]
    for name in args.models:
        rs = [r for r in runs if r['model'] == name]
        cells = []
        for key in ('acc', 'nmi', 'ari', 'f1'):
            v = np.array([r[key] for r in rs]) * 100
            cells.append(f'{v.mean():.1f} +- {v.std():.1f}')
        t = np.median([r['seconds'] for r in rs])
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f' | {t:.0f} | {PUBLISHED.get(name, "")} |')
    table = '\n'.join(lines) + '\n'
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with atomic_write(args.out + '.md') as f:
        f.write(table)
    save_json(runs, args.out + '.json')
    return table




if __name__ == '__main__':
    main()
