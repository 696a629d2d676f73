r"""Ablation of VGDCN's initial partition: on one pretrained auto-encoder per
(data set, seed), the partitions a fit can start from, scored against the
labels (which choose nothing here; they show what each start is worth).

* ``spectral``: spectral clustering of the latent 10-NN heat-kernel graph,
  then a full-covariance GMM (``init="spectral"``, the old default);
* ``umap``: UMAP of the latent means into K dimensions, then a
  full-covariance GMM (``init="umap"``, N2D's partition);
* ``kmeans_z``: k-means (20 starts) on the latent means (DEC's start).

One run is one process (one thread):

    python benchmarks/init_partitions.py run usps 0 --out DIR
    python benchmarks/init_partitions.py table DIR/*.json --out results.md

``run`` pretrains with the default settings (``VGDCN(epochs=0)``, the
auto-encoder a default fit starts from), writes ``DATASET_SEED.pt`` (the
state, reusable by ``benchmarks/suite.py --pretrained-dir``) and
``DATASET_SEED.json``.
"""
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import torch  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402

from fit_time import _git_commit  # noqa: E402
from suite import DATASETS, run_table_parser, write_table  # noqa: E402
from vgdcn_pyg import VGDCN  # noqa: E402
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.io import save_json  # noqa: E402
from vgdcn_pyg.models.umap_partition import umap_gmm  # noqa: E402

STARTS = ('spectral', 'umap', 'kmeans_z')


def run(name: str, seed: int, out: Path):
    torch.set_num_threads(1)
    x, y = DATASETS[name]()
    k = int(np.unique(y).size)
    start = time.perf_counter()
    est = VGDCN(n_clusters=k, random_state=seed, epochs=0, init='spectral',
                verbose=False).fit(x)
    record = dict(name=name, seed=seed, n=len(x), k=k, commit=_git_commit(),
                  pretrain_and_spectral_s=time.perf_counter() - start)
    out.mkdir(parents=True, exist_ok=True)
    torch.save(est.pretrained_state_, out / f'{name}_{seed}.pt')
    z = est.embedding_.astype(np.float64)
    record['spectral'] = evaluate(y, est.init_labels_)
    start = time.perf_counter()
    record['umap'] = evaluate(y, umap_gmm(z, k, seed).argmax(1))
    record['umap_s'] = time.perf_counter() - start
    record['kmeans_z'] = evaluate(y, KMeans(k, n_init=20, random_state=seed)
                                  .fit_predict(z))
    save_json(record, out / f'{name}_{seed}.json')
    print(json.dumps(record))


def table(paths, out: Path, argv):
    records = [json.loads(Path(p).read_text()) for p in paths]
    order = list(DATASETS)
    records.sort(key=lambda r: (order.index(r['name']), r['seed']))
    lines = ['# Initial partitions of VGDCN, per data set', '',
             f'Command: `python benchmarks/init_partitions.py '
             f'{" ".join(argv)}`  ',
             f'Commits of the runs: '
             f'{", ".join(sorted({r["commit"] for r in records}))}  ',
             f'Machine: {platform.machine()}, {os.cpu_count()} cores, one '
             f'torch thread per run, two runs at a time.', '',
             'ACC in % of each start on the same pretrained auto-encoder, per '
             'seed, and their mean +- sample std (ddof = 1).', '',
             '| data set | seeds | ' + ' | '.join(STARTS) + ' |',
             '|---|---|' + '---|' * len(STARTS)]
    for name in order:
        group = [r for r in records if r['name'] == name]
        if not group:
            continue
        cells = []
        for s in STARTS:
            accs = [100 * r[s]['acc'] for r in group]
            spread = f' +- {statistics.stdev(accs):.2f}' if len(accs) > 1 \
                else ''
            cells.append(', '.join(f'{a:.1f}' for a in accs) +
                         f' (mean {statistics.mean(accs):.2f}{spread})')
        lines.append(f'| {name} | {",".join(str(r["seed"]) for r in group)}'
                     f' | ' + ' | '.join(cells) + ' |')
    write_table(lines, out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap, _, t = run_table_parser(__doc__, 'init_partitions.md')
    t.add_argument('json', nargs='+')
    args = ap.parse_args(argv)
    if args.command == 'run':
        run(args.dataset, args.seed, args.out)
    else:
        table(args.json, args.out, argv)


if __name__ == '__main__':
    main()
