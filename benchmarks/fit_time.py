r"""Benchmark: wall time of a default VGDCN fit, phase by phase, and the
clustering it gives, on several data sets.

Every run is one :class:`~vgdcn_pyg.cluster.VGDCN` fit
(``VGDCN(n_clusters=K, random_state=seed, verbose=False)`` plus any
``--param`` overrides) driven through the fit's own phases
(:mod:`vgdcn_pyg.phases`), each timed with :func:`time.perf_counter`:
``validate`` (checks, seeding, building the model), ``pretrain``
(reconstruction pretraining), ``graph`` (the pretrained embedding and the
kNN heat-kernel graph), ``init`` (the initial partition), ``train`` (the
joint phase, the GCN warm-up included) and ``finish`` (the fitted
attributes). What a fit costs, and which phase dominates, is what the
speed work on the defaults has to know; ACC and NMI (labels only score the
result, nothing is chosen with them) and the number of clusters used show
that a faster setting still clusters as well. No labels are passed to the
fit, so no per-epoch metrics are computed, as in a plain ``fit(X)``.

Data sets (``--datasets``):

* ``usps``: the 9298 USPS digits (:func:`vgdcn_pyg.datasets.load_usps`),
  256 pixels in [0, 1], K = 10;
* ``digits``: scikit-learn's 1797 8x8 digits
  (:func:`sklearn.datasets.load_digits`), 64 pixels scaled to [0, 1] by
  /16, K = 10;
* ``coil20``: the 1440 COIL-20 object images, 32x32 grey, flattened and
  scaled to [0, 1] by /255, K = 20;
* ``isolet``: 1560 ISOLET spoken letters, 617 real-valued acoustic
  features, each feature min-max scaled to [0, 1] (over these samples) so
  that the default Bernoulli likelihood (``likelihood="auto"``) applies as
  on the images, K = 26.

All four come with the package (:func:`~vgdcn_pyg.datasets.load_coil20` and
:func:`~vgdcn_pyg.datasets.load_isolet` read bundled copies of the project's
shared data, see ``vgdcn_pyg/datasets/_data/SOURCE.md``).

The first fit of a process also pays one-off costs (imports, lazy library
set-up), so the table gives the median over the seeds of every phase. Runs
go to ``--json`` as one record each, merged into what the file holds (a
record replaces an older one of the same data set, label, settings, seed and
threads), and the table then shows every record of the file; runs of
parallel processes, each with its own file, are tabulated together with
``--from-json a.json,b.json``, which fits nothing. Without ``--json`` the
table shows this command's runs.
``--label`` (e.g. ``before`` / ``after``) names a group of runs in the table,
so that old behaviour (``--param`` overrides) and new defaults, or two
commits, stand side by side.

    python benchmarks/fit_time.py --datasets usps,digits,coil20,isolet \
        --seeds 0,1,2 --label after --json benchmarks/results/fit_time.json
    python benchmarks/fit_time.py --datasets digits --seeds 0 \
        --param pretrain_epochs=2 --param epochs=2 --json /tmp/ft.json \
        --out /tmp/ft.md                          # a smoke test
    python benchmarks/fit_time.py --from-json a.json,b.json
"""
import argparse
import ast
import contextlib
import fcntl
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from sklearn.datasets import load_digits  # noqa: E402

from vgdcn_pyg.cluster import VGDCN  # noqa: E402
from vgdcn_pyg.datasets import load_coil20, load_isolet, load_usps  # noqa: E402,E501
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.io import atomic_write, save_json  # noqa: E402
from vgdcn_pyg.phases import (build_graph, finish, initialise,  # noqa: E402
                              pretrain, train, validate)

DEFAULT_OUTPUT = ROOT / 'benchmarks' / 'results' / 'fit_time.md'
#: The timed phases after :func:`~vgdcn_pyg.phases.validate`, in fit order.
PHASES = (('pretrain', pretrain), ('graph', build_graph),
          ('init', initialise), ('train', train), ('finish', finish))
PHASE_NAMES = ('validate', ) + tuple(name for name, _ in PHASES)

Data = Tuple[np.ndarray, np.ndarray]


def _usps() -> Data:
    data = load_usps()
    return data.x, data.y


def _digits() -> Data:
    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target


def _coil20() -> Data:
    data = load_coil20()
    return data.x, data.y


def _isolet() -> Data:
    data = load_isolet()  # each feature min-max scaled to [0, 1]
    return data.x, data.y


#: Data set name -> loader of ``(x, y)`` (all bundled with the package).
DATASETS: Dict[str, Callable[[], Data]] = {
    'usps': _usps, 'digits': _digits, 'coil20': _coil20, 'isolet': _isolet}


def _param(text: str) -> Tuple[str, object]:
    r"""``name=value``, the value read by :func:`ast.literal_eval` (a bare
    word that is no Python literal is kept as a string)."""
    name, sep, value = text.partition('=')
    if not sep or not name:
        raise argparse.ArgumentTypeError(f'expected name=value, got {text!r}')
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def _settings(params: Dict) -> str:
    return ', '.join(f'{k}={v!r}' for k, v in sorted(params.items())) or \
        'defaults'


def _sync(device: torch.device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def fit_timed(x: np.ndarray, y: np.ndarray, seed: int,
              params: Dict) -> Dict:
    r"""One default VGDCN fit (with :obj:`params` overriding), phase by
    phase: the seconds of each phase, the scores and the sizes."""
    k = int(np.unique(y).size)
    est = VGDCN(n_clusters=k, random_state=seed, verbose=False, **params)
    seconds = {}
    start = time.perf_counter()
    run = validate(est, x)
    seconds['validate'] = time.perf_counter() - start
    for name, phase in PHASES:
        start = time.perf_counter()
        phase(est, run)
        _sync(run.x.device)
        seconds[name] = time.perf_counter() - start
    scores = evaluate(y, est.labels_)
    return {
        'seed': seed, 'n': int(x.shape[0]), 'd': int(x.shape[1]), 'k': k,
        'seconds': seconds, 'total': sum(seconds.values()),
        'acc': scores['acc'], 'nmi': scores['nmi'],
        'clusters': int(np.unique(est.labels_).size),
        'pretrain_epochs': len(est.pretrain_history_),
        'epochs': int(est.n_iter_), 'device': str(run.x.device)}


def _git_commit() -> str:
    r"""``git rev-parse --short HEAD``, with ``+dirty`` when the working
    tree has changes."""
    def git(*args):
        return subprocess.run(['git', *args], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    try:
        return git('rev-parse', '--short', 'HEAD') + (
            '+dirty' if git('status', '--porcelain') else '')
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def _key(record: Dict) -> Tuple:
    return (record['dataset'], record['label'], record['settings'],
            record['seed'], record['threads'])


def read_records(paths: List[Path], key: Callable[[Dict], Tuple] = _key
                 ) -> List[Dict]:
    r"""The records of the JSON files, later files replacing earlier
    records of the same :obj:`key`."""
    merged: Dict[Tuple, Dict] = {}
    for path in paths:
        for record in json.loads(Path(path).read_text()):
            merged[key(record)] = record
    return list(merged.values())


@contextlib.contextmanager
def _locked(folder: Path):
    # An exclusive lock on the folder, so that processes that share one
    # JSON file merge into it one after the other.
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def merge_into(path: Path, records: List[Dict],
               key: Callable[[Dict], Tuple] = _key) -> List[Dict]:
    r"""Merges :obj:`records` into the JSON file :obj:`path` (written
    atomically; a record replaces one of the same :obj:`key`) and returns
    all its records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path.parent):
        old = read_records([path], key) if path.is_file() else []
        merged = {key(r): r for r in old + records}
        save_json(list(merged.values()), path)
    return list(merged.values())


def _load() -> str:
    return ', '.join(f'{v:.2f}' for v in os.getloadavg())


def run_all(args, params: Dict, context: Dict) -> List[Dict]:
    r"""Fits every data set and seed; each record is merged into
    :obj:`args.json` as soon as it is done."""
    torch.set_num_threads(args.threads)
    settings = _settings(params)
    records = []
    for dataset in args.datasets:
        x, y = DATASETS[dataset]()
        for seed in args.seeds:
            load_start = _load()
            record = fit_timed(x, y, seed, params)
            record.update(dataset=dataset, label=args.label,
                          settings=settings,
                          threads=args.threads, load_start=load_start,
                          load_end=_load(), **context)
            records.append(record)
            print(f'{dataset} seed {seed} [{args.label}]: ' + ', '.join(
                f'{name} {record["seconds"][name]:.1f}'
                for name in PHASE_NAMES) +
                f' -> {record["total"]:.1f} s; ACC {record["acc"]:.4f} '
                f'NMI {record["nmi"]:.4f}, {record["clusters"]} clusters',
                file=sys.stderr, flush=True)
            if args.json is not None:
                merge_into(args.json, [record])
    return records


def _runs(group: List[Dict], key: str, fmt: str) -> str:
    return ', '.join(format(r[key], fmt) for r in group)


def _groups(records: List[Dict]) -> Dict[Tuple, List[Dict]]:
    r"""The records by (data set, label, settings), in data-set and seed
    order."""
    groups: Dict[Tuple, List[Dict]] = {}
    order = {name: i for i, name in enumerate(DATASETS)}
    for r in sorted(records, key=lambda r: (order.get(r['dataset'], 99),
                                            r['seed'])):
        groups.setdefault((r['dataset'], r['label'], r['settings']),
                          []).append(r)
    return groups


def table(records: List[Dict]) -> List[str]:
    r"""Per data set, label and settings: the median seconds of every phase
    and of the whole fit over the runs, and each run's scores (in seed
    order)."""
    groups = _groups(records)
    lines = ['| data set | label | commit | settings | N | D | K | seeds | ' +
             ' | '.join(PHASE_NAMES) + ' | total | epochs (pretrain + '
             'joint) | ACC | NMI | clusters used |',
             '|---|---|---|---|---:|---:|---:|---|' + '---:|' * (
                 len(PHASE_NAMES) + 1) + '---|---|---|---|']
    for (dataset, label, settings), group in groups.items():
        first = group[0]
        medians = [statistics.median(r['seconds'][name] for r in group)
                   for name in PHASE_NAMES]
        medians.append(statistics.median(r['total'] for r in group))
        epochs = sorted({(r['pretrain_epochs'], r['epochs'])
                         for r in group})
        lines.append(
            f'| {dataset} | {label} | '
            f'{", ".join(sorted({r["commit"] for r in group}))} | '
            f'{settings} | {first["n"]:,} | '
            f'{first["d"]} | {first["k"]} | {_runs(group, "seed", "d")} | ' +
            ' | '.join(f'{s:.1f}' for s in medians) + ' | ' +
            ', '.join(f'{a} + {b}' for a, b in epochs) + ' | ' +
            f'{_runs(group, "acc", ".4f")} | {_runs(group, "nmi", ".4f")} '
            f'| {_runs(group, "clusters", "d")} |')
    return lines


def mean_std(values: List[float]) -> str:
    r"""Percentages as ``mean +- sample std`` (ddof=1); one value alone."""
    values = [100 * v for v in values]
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} +- {statistics.stdev(values):.2f}'


def quality_table(records: List[Dict],
                  reference: Optional[str] = None) -> List[str]:
    r"""The trade-off per data set, label and settings: ACC and NMI over
    the seeds (mean +- sample std, ddof=1), the worst seed's ACC, and the
    median total time, with its ratio to the median of the runs labelled
    :obj:`reference` on the same data set (if any)."""
    groups = _groups(records)
    base = {dataset: statistics.median(r['total'] for r in g)
            for (dataset, label, _), g in groups.items()
            if label == reference}
    lines = ['| data set | label | seeds | ACC | worst ACC | NMI | '
             'total s (median) |' + (f' time / {reference} |'
                                     if reference else ''),
             '|---|---|---|---|---:|---|---:|' + ('---:|' if reference
                                                  else '')]
    for (dataset, label, _), g in groups.items():
        total = statistics.median(r['total'] for r in g)
        ratio = (f' {total / base[dataset]:.2f} |' if dataset in base
                 else ' |') if reference else ''
        lines.append(
            f'| {dataset} | {label} | {_runs(g, "seed", "d")} | '
            f'{mean_std([r["acc"] for r in g])} | '
            f'{100 * min(r["acc"] for r in g):.2f} | '
            f'{mean_std([r["nmi"] for r in g])} | {total:.1f} |' + ratio)
    return lines


def _differing(records: List[Dict], key: str, current) -> str:
    r"""`` (runs: ...)`` when a run's :obj:`key` is not :obj:`current`."""
    values = sorted({str(r[key]) for r in records})
    return '' if values in ([], [str(current)]) else \
        f' (runs: {", ".join(values)})'


def _run_loads(records: List[Dict]) -> str:
    r"""The range of the runs' 1-minute load averages (at their start and
    end), which is what a table built with ``--from-json`` must show."""
    loads = [float(r[key].split(',')[0]) for r in records
             for key in ('load_start', 'load_end') if r.get(key)]
    if not loads:
        return ''
    return (f' of this command; of the runs (1 min): {min(loads):.2f} to '
            f'{max(loads):.2f}')


def header(argv: List[str], context: Dict, load_start: str,
           records: List[Dict]) -> List[str]:
    r"""What ran, where: the command, the commit, the machine, the threads,
    torch, and the load average (1, 5, 15 minutes) at the command's start
    and end; the runs' own values where they differ (tables built with
    ``--from-json``)."""
    threads = ', '.join(sorted({str(r['threads']) for r in records})) or '-'
    devices = ', '.join(sorted({r['device'] for r in records})) or '-'
    return [
        '# Default VGDCN fit time per phase', '',
        f'Command: `python benchmarks/fit_time.py {" ".join(argv)}`  ',
        f'Commit: {context["commit"]}'
        f'{_differing(records, "commit", context["commit"])}  ',
        f'Machine: {context["machine"]}, {context["cpus"]} cores'
        f'{_differing(records, "cpus", context["cpus"])}; torch threads of '
        f'the runs: {threads}; torch {context["torch"]}'
        f'{_differing(records, "torch", context["torch"])}; device: '
        f'{devices}.  ',
        f'Load average (1, 5, 15 min) at start {load_start}, at end '
        f'{_load()}{_run_loads(records)}.', '',
        'Seconds of wall clock, medians over the seeds; ACC, NMI and the '
        'clusters used per run, in seed order. Phases: validate (checks, '
        'model), pretrain, graph (embedding and kNN graph), init, train '
        '(joint phase with its warm-up), finish.', '']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--datasets', default='usps,digits,coil20,isolet',
                    type=lambda s: [d for d in s.split(',') if d])
    ap.add_argument('--seeds', default='0,1,2',
                    type=lambda s: [int(v) for v in s.split(',') if v])
    ap.add_argument('--threads', type=int, default=1,
                    help='torch.set_num_threads (default 1)')
    ap.add_argument('--param', type=_param, action='append', default=[],
                    metavar='NAME=VALUE', help='estimator parameter '
                    'override (repeatable; values are Python literals)')
    ap.add_argument('--label', default='after',
                    help='name of this group of runs in the table, '
                    'e.g. before or after (default: after)')
    ap.add_argument('--json', type=Path, default=None,
                    help='merge the run records into this JSON file')
    ap.add_argument('--from-json', default=None,
                    type=lambda s: [Path(p) for p in s.split(',') if p],
                    help='tabulate these JSON files; fit nothing')
    ap.add_argument('--out', type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument('--reference', default=None, metavar='LABEL',
                    help='add a quality-against-time table, with each '
                    'median time divided by that of the runs with this '
                    'label')
    ap.add_argument('--note', default=None,
                    help='a paragraph put before the table (how the runs '
                    'were made)')
    argv = sys.argv[1:] if argv is None else list(argv)
    args = ap.parse_args(argv)
    unknown = set(args.datasets) - set(DATASETS)
    if unknown:
        ap.error(f'unknown data sets {sorted(unknown)}; choose from '
                 f'{", ".join(DATASETS)}')
    load_start = _load()
    context = {'commit': _git_commit(),
               'machine': platform.processor() or platform.machine(),
               'cpus': os.cpu_count(), 'torch': torch.__version__}
    if args.from_json:
        records = read_records(args.from_json)
    else:
        # Collapses are recorded (clusters used), not warned about.
        warnings.filterwarnings('ignore', r'.*clusters are used',
                                RuntimeWarning)
        records = run_all(args, dict(args.param), context)
        if args.json is not None:
            records = read_records([args.json])
    note = [args.note, ''] if args.note else []
    trade_off = [] if args.reference is None else [
        '', 'Quality against time: ACC and NMI % over the seeds (mean +- '
        'sample std, ddof=1), the worst seed, and the median total time of '
        f'the fit, also as a ratio to the runs labelled {args.reference}.',
        ''] + quality_table(records, args.reference)
    text = '\n'.join(header(argv, context, load_start, records) + note +
                     table(records) + trade_off) + '\n'
    print(text)
    with atomic_write(args.out) as f:
        f.write(text)
    print(f'written to {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
