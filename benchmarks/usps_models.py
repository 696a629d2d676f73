r"""VGDCN against every baseline on the full USPS (9298 digits), several seeds.

Every model is fitted as a user would fit it: default settings, its own
pretraining, one fit per seed (``--share-pretraining`` instead pretrains one
auto-encoder per seed and starts every model from it). Reported: the last
epoch, mean +- std over seeds of ACC (Hungarian), NMI, ARI and macro-F1;
labels are only used to score. The work is done by
:mod:`vgdcn_pyg.experiments` (also ``vgdcn benchmark usps``); this
script keeps the table after every seed, and ``--from-json`` merges the runs
of seeds run in parallel processes.

    python benchmarks/usps_models.py                 # 5 seeds, all models
    python benchmarks/usps_models.py --quick         # 1 seed, short runs
    python benchmarks/usps_models.py --from-json s0.json s1.json ...
"""
import argparse
import json
import os
import sys

from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.experiments import (PUBLISHED_USPS, QUICK, run_benchmark,
                                   write_benchmark)
from vgdcn_pyg.models import MODELS
from vgdcn_pyg.plotting import plot_history


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2, 3, 4])
    ap.add_argument('--models', nargs='+', default=list(MODELS),
                    choices=list(MODELS))
    ap.add_argument('--quick', action='store_true',
                    help='1 seed, 5 pretraining and 5 joint epochs')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--precision', default='fp32', choices=['fp32', 'bf16'])
    ap.add_argument('--share-pretraining', action='store_true',
                    help='pretrain once per seed and start every model from '
                         'that auto-encoder')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'usps_models'))
    ap.add_argument('--figure', default=None, metavar='PNG',
                    help='also draw ACC and NMI per epoch (mean +- std over '
                         'the seeds) of --figure-models into this file')
    ap.add_argument('--figure-models', nargs='+',
                    default=['vgdcn', 'vade', 'vae_kmeans'],
                    help='models drawn by --figure (thesis Fig. 4.2 / 4.4: '
                         'VGDCN, VaDE, VAE + k-means)')
    ap.add_argument('--from-json', nargs='+', metavar='JSON',
                    help='fit nothing: write the table of the runs in these '
                         'files (e.g. seeds run in parallel processes)')
    args = ap.parse_args(argv)
    command = 'python benchmarks/usps_models.py ' + ' '.join(
        argv if argv is not None else sys.argv[1:])

    def write(runs):
        os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                    exist_ok=True)
        models = [m for m in args.models if any(r['model'] == m
                                                for r in runs)]
        if args.figure:
            seeds = sorted({r['seed'] for r in runs})
            plot_history(
                {m: [r['history'] for r in runs if r['model'] == m]
                 for m in args.figure_models},
                args.figure,
                title=f'USPS: quality per epoch (mean +- std over '
                f'{len(seeds)} seeds; labels only score)')
        return write_benchmark(
            runs, models, args.out + '.md', args.out + '.json',
            'USPS (9298 digits): VGDCN and baselines', command.strip(),
            device=args.device, published=PUBLISHED_USPS)

    if args.from_json:
        runs = []
        for path in args.from_json:
            with open(path) as f:
                runs += json.load(f)
        print(write(runs))
        return
    if args.quick:
        args.seeds = args.seeds[:1]
    runs = []

    def on_run(run):
        runs.append(run)
        print(f'seed {run["seed"]} {run["model"]:>10}: ACC {run["acc"]:.4f} '
              f'NMI {run["nmi"]:.4f} ARI {run["ari"]:.4f} '
              f'({run["seconds"]:.0f} s)', flush=True)
        if run['model'] == args.models[-1]:  # a seed is done: keep it
            write(runs)

    params = dict(QUICK) if args.quick else {}
    params.update(n_clusters=10, device=args.device,
                  precision=args.precision)
    run_benchmark(load_usps(), args.models, args.seeds, params,
                  on_run=on_run, share_pretraining=args.share_pretraining)
    print(write(runs))


if __name__ == '__main__':
    main()
