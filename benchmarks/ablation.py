r"""Ablations of VGDCN's defaults over the whole development suite: each
variant flips one choice (``--variant "lr_warmup=0"``, several parameters
joined by ``;``), is fitted on every data set and seed of
``benchmarks/suite.py`` from the same pretrained auto-encoders as the
defaults, and the table gives, per variant, the mean ACC per data set, the
worst seed, the fewest clusters used, the suite mean and its difference to
the defaults on the same (data set, seed) pairs. Labels only score: a
default is kept or changed on the suite mean, never on one data set.

    python benchmarks/ablation.py run --variant defaults \
        --variant "lr_warmup=0" --seeds 0,1,2 --pretrained-dir DIR \
        --json ablation.json
    python benchmarks/ablation.py run --variant defaults \
        --pretrained-dir OTHER --label "other pretraining" --json ablation.json
    python benchmarks/ablation.py table ablation.json \
        --out benchmarks/results/ablation.md

The records are ``suite.py``'s (model ``vgdcn``, one per data set, seed and
settings), so ``suite.py --json`` files of VGDCN runs can be tabulated too.
"""
import argparse
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402
from fit_time import _git_commit, _load, _param, _settings  # noqa: E402
from suite import DATASETS, SUITE, header, merge_into, read_records  # noqa: E402,E501
from suite import _mean_std, run_seed, write_table  # noqa: E402


def _variant(text: str) -> Dict:
    if text == 'defaults':
        return {}
    return dict(_param(part.strip()) for part in text.split(';')
                if part.strip())


def run(args) -> None:
    torch.set_num_threads(1)
    context = dict(commit=_git_commit(), threads=1)
    for dataset in args.datasets:
        x, y = DATASETS[dataset]()
        for seed in args.seeds:
            for params in args.variant:
                settings = args.label or _settings(params)
                new = [dict(r, settings=settings, **context)
                       for r in run_seed(dataset, x, y, seed, ['vgdcn'],
                                         params, args.pretrained_dir)]
                merge_into(args.json, new)


def _cell(group: List[Dict]) -> str:
    accs = [r['acc'] for r in group]
    return (f'{_mean_std(accs)} (worst {100 * min(accs):.1f}, '
            f'{min(r["clusters"] for r in group)}/{group[0]["k"]})')


def table(records: List[Dict], baseline: str) -> List[str]:
    r"""One row per settings: per data set the mean +- std ACC, the worst
    seed and the fewest clusters used; the suite mean; and the difference
    of the suite mean to :obj:`baseline` over the shared (set, seed)
    pairs."""
    records = [r for r in records if r['model'] == 'vgdcn']
    by: Dict[str, Dict[Tuple, Dict]] = {}
    for r in records:
        by.setdefault(r['settings'], {})[(r['dataset'], r['seed'])] = r
    sets = [d for d in DATASETS if any(d == k[0] for v in by.values()
                                       for k in v)]
    lines = ['| settings | ' + ' | '.join(sets) + ' | suite mean | '
             f'vs {baseline} (shared pairs) |',
             '|---|' + '---|' * len(sets) + '---:|---:|']
    base = by.get(baseline, {})
    for settings, runs in sorted(by.items(), key=lambda kv: (
            kv[0] != baseline, kv[0])):
        cells, means = [], []
        for d in sets:
            group = [runs[k] for k in sorted(runs) if k[0] == d]
            cells.append(_cell(group) if group else '')
            if group:
                means.append(statistics.mean(r['acc'] for r in group))
        shared = [k for k in runs if k in base]
        diff = ''
        if settings != baseline and shared:
            gaps = {}
            for k in shared:
                gaps.setdefault(k[0], []).append(runs[k]['acc'] -
                                                 base[k]['acc'])
            diff = (f'{100 * statistics.mean(statistics.mean(g) for g in gaps.values()):+.2f} '
                    f'({len(shared)} pairs)')
        seeds = sorted({k[1] for k in runs})
        lines.append(f'| {settings} (seeds {",".join(map(str, seeds))}) | '
                     + ' | '.join(cells) +
                     f' | {100 * statistics.mean(means):.2f} | {diff} |')
    return lines


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = ap.add_subparsers(dest='command', required=True)
    r = sub.add_parser('run')
    r.add_argument('--variant', action='append', type=_variant,
                   required=True, help='"defaults" or NAME=VALUE[;...]')
    r.add_argument('--datasets', default=','.join(SUITE),
                   type=lambda s: s.split(','))
    r.add_argument('--seeds', default='0,1,2',
                   type=lambda s: [int(v) for v in s.split(',')])
    r.add_argument('--pretrained-dir', default=None)
    r.add_argument('--label', default=None,
                   help='the settings column of the records, in place of '
                   'the variant (e.g. what sets --pretrained-dir apart)')
    r.add_argument('--json', type=Path, required=True)
    t = sub.add_parser('table')
    t.add_argument('json', type=lambda s: [Path(p) for p in s.split(',')])
    t.add_argument('--baseline', default='defaults')
    t.add_argument('--note', default=None)
    t.add_argument('--out', type=Path, default=ROOT / 'benchmarks' /
                   'results' / 'ablation.md')
    args = ap.parse_args(argv)
    if args.command == 'run':
        for name in args.datasets:
            if name not in DATASETS:
                ap.error(f'unknown data set {name!r}')
        run(args)
        return
    records = [r for r in read_records(args.json) if r['model'] == 'vgdcn']
    lines = header(argv, records, _load(), 'Ablations of the VGDCN defaults',
                   'ablation.py')[:-2]
    lines += ['ACC % of the last epoch, mean +- sample std (ddof = 1) over '
              'the seeds, the worst seed and the fewest clusters used (of '
              'K). Last column: the mean over the data sets of the per-set '
              'mean ACC difference to the baseline, on the (data set, seed) '
              'pairs both ran.', '']
    if args.note:
        lines += [args.note, '']
    write_table(lines + table(records, args.baseline), args.out)


if __name__ == '__main__':
    main()
