r"""VGDCN on USPS (9298 digits): full-batch against mini-batch training on
sampled subgraphs, several seeds.

For each seed one auto-encoder is pretrained (by the full-batch run) and
shared by the mini-batch runs, which then do their own graph,
initialisation and joint training with :obj:`batch_size_graph` and
:obj:`num_neighbors`; all other settings are the defaults. Reported: the
last epoch, mean +- std over seeds of ACC (Hungarian), NMI, ARI, F1, and the
per-seed ACC difference to full batch. Labels only score.

    python benchmarks/minibatch_usps.py --device cuda      # 5 seeds
    python benchmarks/minibatch_usps.py --quick            # 1 seed, short
    python benchmarks/minibatch_usps.py --variants 1024:-1 2048:-1,5
"""
import argparse
import json
import os
import platform
import sys
import time
import warnings

import numpy as np

from vgdcn_pyg.cluster import DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.io import atomic_write, save_json


def parse_variant(text: str):
    r"""``"1024:-1,5"`` -> ``(1024, [-1, 5], "epoch")``; a third field
    ``:batch`` steps after every batch instead of once per epoch."""
    batch, _, rest = text.partition(':')
    hops, _, update = rest.partition(':')
    return (int(batch), [int(h) for h in (hops or '-1').split(',')],
            update or 'epoch')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--variants', nargs='+', default=['1024:-1'],
                    help='mini-batch settings BATCH:HOPS[:UPDATE], e.g. '
                    '1024:-1 (1024 seeds, all neighbours, one step per '
                    'epoch), 2048:-1,5 or 1024:-1:batch (a step per batch)')
    ap.add_argument('--quick', action='store_true',
                    help='1 seed, 5 pretraining and 5 joint epochs')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'minibatch_usps'))
    ap.add_argument('--from-json', nargs='+', metavar='JSON',
                    help='fit nothing: write the table of the runs in these '
                         'files (e.g. seeds run in parallel processes)')
    args = ap.parse_args(argv)
    if args.from_json:
        runs = []
        for path in args.from_json:
            with open(path) as f:
                runs += json.load(f)
        names = list(dict.fromkeys(r['variant'] for r in runs))
        variants = [(n, None, None, None) for n in names]
        print(write_results(args, argv, variants, runs))
        return
    if args.quick:
        args.seeds = args.seeds[:1]
    overrides = dict(pretrain_epochs=5, epochs=5, warmup_steps=5) \
        if args.quick else {}
    variants = [('full', None, None, None)] + [
        (v, *parse_variant(v)) for v in args.variants]

    data = load_usps()
    runs = []
    for seed in args.seeds:
        pretrained = None
        for name, batch, hops, update in variants:
            extra = {} if batch is None else dict(batch_size_graph=batch,
                                                  num_neighbors=hops,
                                                  minibatch_update=update)
            est = DeepClustering(n_clusters=10, model='vgdcn',
                                 random_state=seed, device=args.device,
                                 verbose=False, **overrides, **extra)
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter('always')
                est.fit(data.x, pretrained=pretrained)
            seconds = time.perf_counter() - start
            if pretrained is None:
                pretrained = est.pretrained_state_
            metrics = evaluate(data.y, est.labels_)
            runs.append(dict(seed=seed, variant=name, seconds=seconds,
                             init=evaluate(data.y, est.init_labels_),
                             history=est.history_,
                             warnings=[str(w.message) for w in caught],
                             **metrics))
            print(f'seed {seed} {name:>10}: ACC {metrics["acc"]:.4f} NMI '
                  f'{metrics["nmi"]:.4f} ARI {metrics["ari"]:.4f} '
                  f'({seconds:.0f} s)', flush=True)
        table = write_results(args, argv, variants, runs)
    print(table)


def write_results(args, argv, variants, runs):
    r"""Writes the table over the seeds done so far and every run; called
    after each seed so that a stopped run keeps what it finished."""
    seeds = sorted({r['seed'] for r in runs})
    lines = [
        '# USPS (9298 digits): VGDCN full batch against mini-batches', '',
        f'Command: `python benchmarks/minibatch_usps.py '
        f'{" ".join(argv if argv is not None else sys.argv[1:])}`  ',
        f'Seeds {seeds}, last epoch, default settings; one pretrained '
        f'auto-encoder per seed, shared (the full-batch time includes the '
        f'pretraining). Mini-batch variants are BATCH:HOPS (seed nodes per '
        f'step : neighbours per hop, -1 = all; one Adam step per epoch '
        f'from the accumulated gradients unless it ends in ":batch").  ',
        f'Machine: {platform.processor() or platform.machine()}, '
        f'{os.cpu_count()} cores, torch {__import__("torch").__version__}, '
        f'device {args.device}.', '',
        '| training | ACC | NMI | ARI | F1 | ACC - full batch (points) | '
        'time (s) |', '| --- | --- | --- | --- | --- | --- | --- |']
    full = {r['seed']: r['acc'] for r in runs if r['variant'] == 'full'}
    for name, *_ in variants:
        rs = [r for r in runs if r['variant'] == name]
        if not rs:
            continue
        cells = []
        for key in ('acc', 'nmi', 'ari', 'f1'):
            v = np.array([r[key] for r in rs]) * 100
            cells.append(f'{v.mean():.1f} +- {v.std():.1f}')
        diff = np.array([(r['acc'] - full[r['seed']]) * 100 for r in rs
                         if r['seed'] in full])
        diff_cell = '' if name == 'full' or diff.size == 0 else \
            f'{diff.mean():+.1f} +- {diff.std():.1f}'
        t = np.median([r['seconds'] for r in rs])
        lines.append(f'| {name} | ' + ' | '.join(cells) +
                     f' | {diff_cell} | {t:.0f} |')
    table = '\n'.join(lines) + '\n'
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with atomic_write(args.out + '.md') as f:
        f.write(table)
    save_json(runs, args.out + '.json')
    return table


if __name__ == '__main__':
    main()
