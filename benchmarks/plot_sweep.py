r"""Draws a sweep of ``benchmarks/usps_sweep.py`` (its JSON) as ACC and NMI
against the swept setting, mean with error bars of one standard deviation
over the seeds (thesis Fig. 4.4b for eps, Fig. 4.5 for M).

    python benchmarks/plot_sweep.py benchmarks/results/usps_sweep_eps_h200.json \
        --param eps --out docs/figures/usps_eps.png
    python benchmarks/plot_sweep.py benchmarks/results/usps_sweep_m_h200.json \
        --param n_neighbors --label M --out docs/figures/usps_M.png
"""
import argparse
import json
import sys

import numpy as np

from vgdcn_pyg.plotting import plot_sweep


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('json', nargs='+', help='runs of usps_sweep.py')
    ap.add_argument('--param', required=True,
                    help='the estimator parameter that was swept')
    ap.add_argument('--label', default=None,
                    help='its name on the x axis (default: --param)')
    ap.add_argument('--out', required=True)
    args = ap.parse_args(argv)
    runs = []
    for path in args.json:
        with open(path) as f:
            runs += [r for r in json.load(f) if args.param in r['params']]
    if not runs:
        sys.exit(f'error: no run of these files sets {args.param}')
    values = sorted({r['params'][args.param] for r in runs})
    seeds = sorted({r['seed'] for r in runs})
    scores = {}
    for metric in ('acc', 'nmi'):
        rows = [[r[metric] for r in runs if r['params'][args.param] == v]
                for v in values]
        if len({len(row) for row in rows}) != 1:
            sys.exit('error: the values were not run over the same seeds')
        scores[metric.upper()] = 100 * np.array(rows)
    label = args.label or args.param
    plot_sweep(values, scores, args.out, label, unit=' (%)',
               title=f'VGDCN on USPS: quality against {label} (mean +- std '
               f'over seeds {", ".join(map(str, seeds))}; labels only score)')
    print(f'{args.out}: {label} = {values}')


if __name__ == '__main__':
    main()
