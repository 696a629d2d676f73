r"""Numerical-safety scan: the default VGDCN fit on the full USPS for many
seeds, recording any NaN/inf and any collapse of the clustering.

Per seed: whether a loss of the pretraining or joint history, a parameter
or an output (assignments, embedding) is non-finite (a fit that stops with
:class:`FloatingPointError` counts as non-finite), the clusters used at the
end, the fewest clusters used in any epoch (the history's ``clusters``), the
last epoch's ACC / NMI (labels only score; nothing is chosen with them) and
the time. Results are rewritten (atomically) after every seed, so a stopped
scan keeps what it finished.

    python benchmarks/nan_scan.py --device cuda --suffix _h200   # seeds 0-19
    python benchmarks/nan_scan.py --quick         # CPU smoke: nan_scan_quick.*
"""
import argparse
import math
import os
import platform
import sys
import time
import warnings

import numpy as np
import torch

from vgdcn_pyg.cluster import DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.io import atomic_write, save_json

#: --quick: a 1000-digit subset and small, short settings (seconds a seed).
QUICK = dict(hidden_channels=(64, 64, 256), pretrain_epochs=20, epochs=10,
             warmup_steps=10)
QUICK_SAMPLES = 1000


def _finite_history(history):
    return all(math.isfinite(v) for record in history
               for k, v in record.items() if isinstance(v, float))


def scan_seed(x, y, seed, device, overrides):
    r"""Fits one seed and returns its record."""
    est = DeepClustering(model='vgdcn', random_state=seed, device=device,
                         verbose=False, **overrides)
    run = dict(seed=seed, error=None)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        try:
            est.fit(x)
        except FloatingPointError as e:
            run['error'] = str(e)
    run['seconds'] = time.perf_counter() - start
    run['warnings'] = sorted({str(w.message) for w in caught})
    history = getattr(est, 'history_', [])
    pre = getattr(est, 'pretrain_history_', [])
    run['finite_losses'] = _finite_history(history) and _finite_history(pre)
    if run['error'] is not None:
        run.update(finite=False, finite_params=None, finite_outputs=None,
                   clusters=None, min_clusters=None, acc=None, nmi=None,
                   epochs=len(history))
        return run
    run['finite_params'] = all(bool(torch.isfinite(p).all())
                               for p in est.model_.parameters())
    run['finite_outputs'] = bool(np.isfinite(est.proba_).all() and
                                 np.isfinite(est.embedding_).all())
    run['finite'] = run['finite_losses'] and run['finite_params'] and \
        run['finite_outputs']
    run['clusters'] = int(np.unique(est.labels_).size)
    counts = [h['clusters'] for h in history if 'clusters' in h]
    run['min_clusters'] = min(counts) if counts else None
    run['epochs'] = len(history)
    metrics = evaluate(y, est.labels_)
    run.update(acc=metrics['acc'], nmi=metrics['nmi'])
    return run


def write_results(args, argv, runs, n_samples, overrides):
    r"""The table and the raw records, written atomically."""
    k = 10
    bad = [r['seed'] for r in runs if not r['finite']]
    collapsed = [r['seed'] for r in runs
                 if r['clusters'] is not None and r['clusters'] < k]
    dipped = [r['seed'] for r in runs
              if r['min_clusters'] is not None and r['min_clusters'] < k]
    scored = [r for r in runs if r['acc'] is not None]
    lines = [
        '# NaN / collapse scan: default VGDCN on USPS',
        '',
        f'Command: `python benchmarks/nan_scan.py '
        f'{" ".join(argv if argv is not None else sys.argv[1:])}`  ',
        f'{n_samples} digits, K = {k}, settings: '
        f'{overrides or "the defaults"}; last epoch; labels only score.  ',
        f'Machine: {platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} cores, torch {torch.__version__}, device '
        f'{args.device}.',
        '',
        f'Seeds done: {len(runs)}. Non-finite (loss, parameter, output or '
        f'FloatingPointError): {len(bad)} {bad}. Fewer than {k} clusters at '
        f'the end: {len(collapsed)} {collapsed}; in some epoch: '
        f'{len(dipped)} {dipped}.',
    ]
    if scored:
        acc = np.array([r['acc'] for r in scored]) * 100
        nmi = np.array([r['nmi'] for r in scored]) * 100
        lines.append(f'ACC {acc.mean():.1f} +- {acc.std():.1f}, NMI '
                     f'{nmi.mean():.1f} +- {nmi.std():.1f} over '
                     f'{len(scored)} seeds.')
    lines += ['',
              '| seed | finite losses | finite params | finite outputs | '
              'clusters (end) | min clusters (epochs) | ACC | NMI | '
              'time (s) | error |',
              '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |']

    def cell(value, fmt='{}'):
        return '-' if value is None else fmt.format(value)
    for r in runs:
        lines.append(
            f'| {r["seed"]} | {cell(r["finite_losses"])} | '
            f'{cell(r["finite_params"])} | {cell(r["finite_outputs"])} | '
            f'{cell(r["clusters"])} | {cell(r["min_clusters"])} | '
            f'{cell(r["acc"], "{:.4f}")} | {cell(r["nmi"], "{:.4f}")} | '
            f'{r["seconds"]:.1f} | {r["error"] or ""} |')
    table = '\n'.join(lines) + '\n'
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with atomic_write(args.out + '.md') as f:
        f.write(table)
    save_json(runs, args.out + '.json')
    return table


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=None,
                    help='default: 0..19 (0 1 with --quick)')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--quick', action='store_true',
                    help=f'{QUICK_SAMPLES} digits, small and short settings')
    ap.add_argument('--suffix', default=None,
                    help='appended to the result file names, e.g. _h200 '
                    '(default: none, _quick with --quick)')
    ap.add_argument('--out', default=None,
                    help='result path without extension (default: '
                    'benchmarks/results/nan_scan<suffix>)')
    ap.add_argument('--from-json', nargs='+', metavar='JSON',
                    help='fit nothing: write the table of the runs in these '
                         'files (e.g. seeds run in parallel processes)')
    args = ap.parse_args(argv)
    if args.from_json:
        import json
        runs = []
        for path in args.from_json:
            with open(path) as f:
                runs += json.load(f)
        runs.sort(key=lambda r: r['seed'])
        args.out = args.out or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), 'results',
            f'nan_scan{args.suffix or ""}')
        print(write_results(args, argv, runs, len(load_usps().x), {}))
        return
    if args.seeds is None:
        args.seeds = [0, 1] if args.quick else list(range(20))
    if args.suffix is None:
        args.suffix = '_quick' if args.quick else ''
    if args.out is None:
        args.out = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                'results', f'nan_scan{args.suffix}')
    data = load_usps()
    x, y = data.x, data.y
    overrides = {}
    if args.quick:
        # A fixed subset (not chosen by the labels) to keep the smoke short.
        keep = np.random.default_rng(0).permutation(len(x))[:QUICK_SAMPLES]
        x, y = x[np.sort(keep)], y[np.sort(keep)]
        overrides = dict(QUICK)
    runs = []
    for seed in args.seeds:
        run = scan_seed(x, y, seed, args.device, overrides)
        runs.append(run)
        acc = '-' if run['acc'] is None else f'{run["acc"]:.4f}'
        print(f'seed {seed:2d}: finite {run["finite"]}, clusters '
              f'{run["clusters"]} (min over epochs {run["min_clusters"]}), '
              f'ACC {acc}, {run["seconds"]:.0f} s'
              + (f', error: {run["error"]}' if run['error'] else ''),
              flush=True)
        table = write_results(args, argv, runs, len(x), overrides)
    print(table)


if __name__ == '__main__':
    main()
