r"""The development suite: VGDCN, its baselines and the simple alternatives
a user would pick instead, on five data sets, several seeds each.

Data sets (all bundled with the package or scikit-learn):

* ``usps``: 9298 USPS digits, 256 pixels in [0, 1], K = 10;
* ``flavia10``: 598 leaf photos of 10 Flavia species as the rotation
  invariant shape descriptors of ``vgdcn fit flavia10 --features shape``;
* ``coil20``: 1440 COIL-20 object images, 32x32 grey, K = 20;
* ``isolet``: 1560 x 617 ISOLET speech features, each min-max scaled to
  [0, 1], K = 26 (feature vectors, not images);
* ``digits``: scikit-learn's 1797 8x8 digits, /16, K = 10.

Two small many-cluster sets run only when named in ``--datasets``:
``coil20_10`` (10 images of each COIL-20 object, 200 x 1024, K = 20) and
``isolet_15`` (15 utterances of each letter, 390 x 617, K = 26), each a
fixed subset (seed 0) of the set above.

Models (``--models``): any of :data:`vgdcn_pyg.models.MODELS` with default
settings (``--param`` overrides, applied to the deep models), plus two
references on the raw features: ``kmeans`` (scikit-learn's
:class:`~sklearn.cluster.KMeans`, 10 starts) and ``spectral``
(:class:`~sklearn.cluster.SpectralClustering` on a 10-NN graph). For every
seed one auto-encoder is pretrained (VGDCN's, as
:func:`vgdcn_pyg.experiments.pretrain_autoencoder`) and every deep model of
that seed starts from it, so that a model's differences come from its
clustering phase; its ``time`` is the pretraining plus its own phases,
what a standalone fit costs.

Scores are those of the last epoch: ACC (Hungarian matching), NMI and ARI,
mean +- sample standard deviation (ddof = 1) over the seeds, the worst
seed's ACC and the fewest clusters any seed used. Labels only score; they
choose nothing. Every (data set, seed) is one record group in ``--json``;
seeds run in parallel processes are merged with ``--from-json``.

    python benchmarks/suite.py --seeds 0,1,2,3,4 --json suite.json
    python benchmarks/suite.py --datasets digits --seeds 0 --json s.json \
        --param epochs=2 --out /tmp/suite.md           # a smoke run
    python benchmarks/suite.py --from-json a.json,b.json
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import torch  # noqa: E402
from sklearn.cluster import KMeans, SpectralClustering  # noqa: E402

from fit_time import DATASETS as TIMED  # noqa: E402
from fit_time import _git_commit, _load, _param, _settings  # noqa: E402
from fit_time import mean_std as _mean_std  # noqa: E402
from fit_time import merge_into as _merge_into  # noqa: E402
from fit_time import read_records as _read_records  # noqa: E402
from vgdcn_pyg.cluster import DeepClustering  # noqa: E402
from vgdcn_pyg.datasets import ClusteringData, load_dataset  # noqa: E402
from vgdcn_pyg.datasets.features import extract_features  # noqa: E402
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.experiments import pretrain_autoencoder  # noqa: E402
from vgdcn_pyg.io import atomic_write  # noqa: E402
from vgdcn_pyg.models import MODELS  # noqa: E402

Data = Tuple[np.ndarray, np.ndarray]


def _flavia10() -> Data:
    data = extract_features(load_dataset('flavia10'), 'shape')
    return data.x, data.y


def per_class_subset(data: Callable[[], Data], per_class: int) -> Data:
    r"""A fixed subset of :obj:`per_class` samples of every class (drawn
    with seed 0, whatever the fit's seed), in the original order."""
    x, y = data()
    rng = np.random.RandomState(0)
    rows = np.sort(np.concatenate([
        rng.choice(np.flatnonzero(y == c), per_class, replace=False)
        for c in np.unique(y)]))
    return x[rows], y[rows]


#: The loaders of ``benchmarks/fit_time.py`` plus Flavia10, in table order.
DATASETS: Dict[str, Callable[[], Data]] = {
    'usps': TIMED['usps'], 'flavia10': _flavia10, 'coil20': TIMED['coil20'],
    'isolet': TIMED['isolet'], 'digits': TIMED['digits'],
    # Small data with many clusters, where the held-out face sets
    # (10-30 images per person) collapsed; not part of the default suite.
    'coil20_10': lambda: per_class_subset(TIMED['coil20'], 10),
    'isolet_15': lambda: per_class_subset(TIMED['isolet'], 15)}
#: The development suite, what ``--datasets`` runs by default.
SUITE = ('usps', 'flavia10', 'coil20', 'isolet', 'digits')
REFERENCES = ('kmeans', 'spectral')
DEFAULT_MODELS = ('kmeans', 'spectral', 'ae_kmeans', 'dec', 'idec', 'n2d',
                  'vgdcn')


def _reference(name: str, x: np.ndarray, k: int, seed: int) -> np.ndarray:
    if name == 'kmeans':
        return KMeans(k, n_init=10, random_state=seed).fit_predict(x)
    return SpectralClustering(k, affinity='nearest_neighbors',
                              n_neighbors=10, random_state=seed,
                              assign_labels='kmeans').fit_predict(x)


def _deep(name: str, x, y, k, seed, params,
          state) -> Tuple[np.ndarray, Dict]:
    est = DeepClustering(model=name, n_clusters=k, random_state=seed,
                         verbose=False, **params)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # collapse is counted, not warned
        # y only scores each epoch (the trajectory, for the stopping rule's
        # analysis); nothing is chosen with it.
        est.fit(x, y, pretrained=state)
    trajectory = [[h.get('changed'), h['clusters'], round(h['acc'], 5)]
                  for h in est.history_ if 'clusters' in h]
    return est.labels_, dict(epochs=int(est.n_iter_),
                             trajectory=trajectory)


def run_seed(dataset: str, x, y, seed: int, models, params: Dict,
             pretrained_dir=None) -> List[Dict]:
    r"""Every model of one (data set, seed); one record each."""
    k = int(np.unique(y).size)
    deep = [m for m in models if m not in REFERENCES]
    state, pre_seconds = None, 0.0
    if deep:
        start = time.perf_counter()
        cached = None if pretrained_dir is None else \
            Path(pretrained_dir) / f'{dataset}_{seed}.pt'
        if cached is not None and cached.is_file():
            state = torch.load(cached, weights_only=True)
            pre_seconds = None  # not measured here
        else:
            state = pretrain_autoencoder(
                ClusteringData(x), seed, dict(params, n_clusters=k))
            pre_seconds = time.perf_counter() - start
            if cached is not None:  # for later runs of the same seed
                with atomic_write(cached, 'wb') as f:
                    torch.save(state, f)
    records = []
    for name in models:
        start = time.perf_counter()
        extra = {}
        if name in REFERENCES:
            labels = _reference(name, x, k, seed)
        else:
            labels, extra = _deep(name, x, y, k, seed, params, state)
        own = time.perf_counter() - start
        scores = evaluate(y, labels)
        records.append(dict(
            dataset=dataset, model=name, seed=seed, n=int(x.shape[0]),
            d=int(x.shape[1]), k=k, acc=scores['acc'], nmi=scores['nmi'],
            ari=scores['ari'], clusters=int(np.unique(labels).size),
            seconds=own, pretrain_seconds=None if name in REFERENCES else
            pre_seconds, **extra))
        print(f'{dataset} seed {seed} {name}: ACC {scores["acc"]:.4f} NMI '
              f'{scores["nmi"]:.4f} ARI {scores["ari"]:.4f}, '
              f'{records[-1]["clusters"]} clusters, {own:.1f} s',
              file=sys.stderr, flush=True)
    return records


def _key(r: Dict) -> Tuple:
    return (r['dataset'], r['model'], r['settings'], r['seed'])


def read_records(paths) -> List[Dict]:
    return _read_records(paths, _key)


def merge_into(path: Path, records: List[Dict]) -> List[Dict]:
    return _merge_into(path, records, _key)


def write_table(lines: List[str], out: Path) -> None:
    r"""Writes a result table atomically and prints it."""
    text = '\n'.join(lines)
    with atomic_write(out) as f:
        f.write(text + '\n')
    print(text)


def run_table_parser(doc: str, table_out: str):
    r"""The command line of the ``run DATASET SEED --out DIR`` / ``table ...
    --out FILE`` benchmarks (``init_partitions.py``, ``restart_selection.py``,
    ``pretrain_length.py``): the parser and its ``run`` and ``table``
    sub-parsers, for each script to add its own arguments to.
    :obj:`table_out` is the default table file under
    ``benchmarks/results``."""
    ap = argparse.ArgumentParser(description=doc.split('\n\n')[0])
    sub = ap.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run')
    run.add_argument('dataset', choices=list(DATASETS))
    run.add_argument('seed', type=int)
    run.add_argument('--out', type=Path, required=True)
    table = sub.add_parser('table')
    table.add_argument('--out', type=Path, default=ROOT / 'benchmarks' /
                       'results' / table_out)
    return ap, run, table


def latent_means(name: str, seed: int,
                 pretrained_dir) -> Tuple[np.ndarray, np.ndarray, int]:
    r"""The latent means (float64) of data set :obj:`name` under the
    auto-encoder ``DIR/NAME_SEED.pt`` of :obj:`pretrained_dir`, with the
    labels and :math:`K`: what the initial-partition benchmarks start
    from."""
    torch.set_num_threads(1)
    x, y = DATASETS[name]()
    k = int(np.unique(y).size)
    state = torch.load(Path(pretrained_dir) / f'{name}_{seed}.pt',
                       weights_only=True)
    z = DeepClustering(model='vgdcn', n_clusters=k, random_state=seed,
                       epochs=0, init='gmm', verbose=False).fit(
                           x, pretrained=state).embedding_
    return z.astype(np.float64), y, k


def jsonl_runs(path: Path, title: str, script: str,
               argv: List[str]) -> Tuple[List[Dict], List[str]]:
    r"""The records of the ``run`` JSON lines at :obj:`path`, in data-set
    and seed order, and the header of their table: title, command, commits
    and machine."""
    records = [json.loads(line) for line in Path(path).read_text()
               .splitlines() if line.strip()]
    order = list(DATASETS)
    records.sort(key=lambda r: (order.index(r['name']), r['seed']))
    return records, [
        f'# {title}', '',
        f'Command: `python benchmarks/{script} {" ".join(argv)}`  ',
        f'Commits of the runs: '
        f'{", ".join(sorted({r["commit"] for r in records}))}  ',
        f'Machine: {platform.machine()}, {os.cpu_count()} cores, one torch '
        f'thread per run.', '']


def append_run(out: Path, record: Dict) -> None:
    r"""Appends :obj:`record` to the JSON lines at :obj:`out` (what
    :func:`jsonl_runs` reads back) and prints it."""
    line = json.dumps(record)
    with open(out, 'a') as f:
        f.write(line + '\n')
    print(line)


def jsonl_main(doc: str, table_out: str, run: Callable, table: Callable,
               argv=None) -> None:
    r"""The command line of a benchmark that writes one JSON line per
    (data set, seed), ``run DATASET SEED --pretrained-dir DIR --out
    RUNS.jsonl``, and tabulates them, ``table RUNS.jsonl [--out MD]``:
    :obj:`run(dataset, seed, pretrained_dir, out)` and
    :obj:`table(jsonl, out, argv)`."""
    argv = sys.argv[1:] if argv is None else argv
    ap, r, t = run_table_parser(doc, table_out)
    r.add_argument('--pretrained-dir', required=True)
    t.add_argument('jsonl', type=Path)
    args = ap.parse_args(argv)
    if args.command == 'run':
        run(args.dataset, args.seed, args.pretrained_dir, args.out)
    else:
        table(args.jsonl, args.out, argv)


def _pretraining_read(r: Dict) -> bool:
    # A deep model whose auto-encoder came from --pretrained-dir (untimed).
    return r['model'] not in REFERENCES and r['pretrain_seconds'] is None


def _median_time(group: List[Dict]) -> str:
    # Where some seeds timed their pretraining and others read it from disk,
    # the median is over the seeds that timed it (a whole fit's cost).
    timed = [r for r in group if not _pretraining_read(r)]
    median = statistics.median(
        r['seconds'] + (r['pretrain_seconds'] or 0.0)
        for r in (timed or group))
    if not timed:
        return f'{median:.1f}*'
    if len(timed) < len(group):
        seeds = ','.join(str(r['seed']) for r in timed)
        return f'{median:.1f} (seeds {seeds})'
    return f'{median:.1f}'


def table(records: List[Dict]) -> List[str]:
    r"""Per data set and model: the scores over the seeds, the worst seed,
    the fewest clusters used and the median time; then the suite means."""
    order = {m: i for i, m in enumerate(REFERENCES + tuple(MODELS))}
    groups: Dict[Tuple, List[Dict]] = {}
    for r in sorted(records, key=lambda r: (list(DATASETS).index(
            r['dataset']), order.get(r['model'], 99), r['settings'],
            r['seed'])):
        groups.setdefault((r['dataset'], r['model'], r['settings']),
                          []).append(r)
    lines = ['| data set | model | settings | seeds | ACC | NMI | ARI | '
             'worst ACC | fewest clusters (of K) | time s (median) |',
             '|---|---|---|---|---|---|---|---:|---:|---:|']
    for (dataset, model, settings), g in groups.items():
        lines.append(
            f'| {dataset} | {model} | {settings} | '
            f'{",".join(str(r["seed"]) for r in g)} | '
            f'{_mean_std([r["acc"] for r in g])} | '
            f'{_mean_std([r["nmi"] for r in g])} | '
            f'{_mean_std([r["ari"] for r in g])} | '
            f'{100 * min(r["acc"] for r in g):.2f} | '
            f'{min(r["clusters"] for r in g)} ({g[0]["k"]}) | '
            f'{_median_time(g)} |')
    lines += ['', 'Suite mean ACC per model and settings (mean over the data '
              'sets of the per-set mean ACC; only over the sets where the '
              'model ran):', '', '| model | settings | data sets | mean ACC |',
              '|---|---|---|---:|']
    per_model: Dict[Tuple, List[float]] = {}
    for (dataset, model, settings), g in groups.items():
        per_model.setdefault((model, settings), []).append(
            statistics.mean(r['acc'] for r in g))
    for (model, settings), accs in per_model.items():
        lines.append(f'| {model} | {settings} | {len(accs)} | '
                     f'{100 * statistics.mean(accs):.2f} |')
    return lines


def header(argv, records, load_start, title: str = 'Development suite',
           script: str = 'suite.py') -> List[str]:
    commits = sorted({r['commit'] for r in records})
    threads = sorted({str(r['threads']) for r in records})
    return [
        f'# {title}', '',
        f'Command: `python benchmarks/{script} {" ".join(argv)}`  ',
        f'Commit of the runs: {", ".join(commits)}  ',
        f'Machine: {platform.machine()}, {os.cpu_count()} cores; torch '
        f'{torch.__version__}; torch threads of the runs: '
        f'{", ".join(threads)}; load average at start {load_start}, at end '
        f'{_load()}.', '',
        'Last epoch, default settings unless the settings column says '
        'otherwise. ACC / NMI / ARI in %, mean +- sample std (ddof = 1) '
        'over the seeds. Time: the shared pretraining plus the model\'s own '
        'phases (what a standalone fit costs); the references have no '
        'pretraining; * marks times without the pretraining, whose '
        'auto-encoders were read from --pretrained-dir; where only some '
        'seeds timed their pretraining, the median is over those seeds.', '']


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--datasets', default=','.join(SUITE),
                    type=lambda s: s.split(','))
    ap.add_argument('--seeds', default='0,1,2,3,4',
                    type=lambda s: [int(v) for v in s.split(',')])
    ap.add_argument('--models', default=','.join(DEFAULT_MODELS),
                    type=lambda s: s.split(','))
    ap.add_argument('--param', action='append', default=[], type=_param,
                    metavar='NAME=VALUE', help='deep-model parameter '
                    'override (repeatable; values are Python literals)')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--pretrained-dir', default=None,
                    help='read DATASET_SEED.pt auto-encoder states from '
                    'here instead of pretraining (their time is not known); '
                    'a missing one is pretrained, timed and written there')
    ap.add_argument('--json', type=Path, default=None)
    ap.add_argument('--from-json', default=None,
                    type=lambda s: [Path(p) for p in s.split(',')])
    ap.add_argument('--out', type=Path,
                    default=ROOT / 'benchmarks' / 'results' / 'suite.md')
    ap.add_argument('--note', default=None,
                    help='a paragraph on how the runs were made, put under '
                    'the header')
    args = ap.parse_args(argv)
    for name in args.datasets:
        if name not in DATASETS:
            ap.error(f'unknown data set {name!r}; choose from '
                     f'{", ".join(DATASETS)}')
    for name in args.models:
        if name not in REFERENCES and name not in MODELS:
            ap.error(f'unknown model {name!r}')
    load_start = _load()
    if args.from_json:
        records = read_records(args.from_json)
    else:
        torch.set_num_threads(args.threads)
        params = dict(args.param)
        context = dict(settings=_settings(params), commit=_git_commit(),
                       threads=args.threads)
        records = []
        for dataset in args.datasets:
            x, y = DATASETS[dataset]()
            for seed in args.seeds:
                new = [dict(r, **context) for r in run_seed(
                    dataset, x, y, seed, args.models, params,
                    args.pretrained_dir)]
                for r in new:  # the overrides are deep-model parameters
                    if r['model'] in REFERENCES:
                        r['settings'] = 'defaults'
                records = merge_into(args.json, new) if args.json else \
                    records + new
    lines = header(argv, records, load_start)
    if args.note:
        lines += [args.note, '']
    write_table(lines + table(records), args.out)


if __name__ == '__main__':
    main()
