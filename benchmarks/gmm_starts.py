r"""How many EM starts the Gaussian mixture of a UMAP partition needs. On
one pretrained auto-encoder per (data set, seed): VGDCN's three UMAP
embeddings of the latent means (UMAP seeds ``seed``, ``seed + 1000``,
``seed + 2000``, as :func:`~vgdcn_pyg.models.umap_partition.umap_gmm_restarts`
lays them out), each partitioned by the full-covariance mixture from one EM
start (N2D, and VGDCN before ``gmm_starts``) and from ten, the start of
highest likelihood kept (:func:`~vgdcn_pyg.models.umap_partition.gmm_posterior`).
Every partition gets its ACC (labels only score) and its latent silhouette,
the label-free score VGDCN picks its UMAP start by.

The table gives, per (data set, seed), the initial partition's ACC of four
ways to start: N2D's (first UMAP seed, one EM start), VGDCN's with one EM
start (of the three UMAP seeds, highest silhouette), the first UMAP seed
with ten EM starts (``gmm_starts=10, init_restarts=1``) and the highest
silhouette of the three with ten (``gmm_starts=10``). Initial partitions
only: the joint phase is in ``benchmarks/results/ablation.md``.

    python benchmarks/gmm_starts.py run usps 0 --pretrained-dir DIR \
        --out runs.jsonl
    python benchmarks/gmm_starts.py table runs.jsonl --out table.md
"""
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from fit_time import _git_commit  # noqa: E402
from suite import (append_run, jsonl_main, jsonl_runs,  # noqa: E402
                   latent_means, write_table)
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.models.umap_partition import (UMAP_NEIGHBORS,  # noqa: E402
                                             gmm_posterior, latent_silhouette,
                                             umap_embedding, umap_knn)

UMAP_SEEDS = 3
EM_STARTS = (1, 10)


def _partition(embedding, k: int, random_state: int, starts: int,
               z: np.ndarray, y: np.ndarray) -> Dict:
    start = time.perf_counter()
    labels = gmm_posterior(embedding, k, random_state, starts).argmax(1)
    seconds = time.perf_counter() - start
    return dict(acc=evaluate(y, labels)['acc'],
                sil=latent_silhouette(z, labels),
                used=int(np.unique(labels).size), s=seconds)


def run(name: str, seed: int, pretrained_dir, out: Path) -> None:
    z, y, k = latent_means(name, seed, pretrained_dir)
    # The same neighbour lists for every UMAP seed, as in VGDCN's restarts.
    knn = umap_knn(z, min(UMAP_NEIGHBORS, len(z) - 1))
    record = dict(name=name, seed=seed, commit=_git_commit(), starts=[])
    for j in range(UMAP_SEEDS):
        random_state = seed + 1000 * j
        embedding = umap_embedding(z, k, random_state, knn=knn)
        record['starts'].append({
            f'g{starts}': _partition(embedding, k, random_state, starts, z, y)
            for starts in EM_STARTS})
    append_run(out, record)


def _picks(record: Dict) -> Dict[str, float]:
    starts = record['starts']

    def best(key):
        return max((s[key] for s in starts), key=lambda p: p['sil'])['acc']
    return {'N2D (1 EM start)': starts[0]['g1']['acc'],
            'VGDCN, 1 EM start': best('g1'),
            'first UMAP seed, 10 EM starts': starts[0]['g10']['acc'],
            'VGDCN, 10 EM starts': best('g10')}


def table(path: Path, out: Path, argv: List[str]) -> None:
    records, lines = jsonl_runs(
        path, 'EM starts of the mixture in UMAP\'s embedding',
        'gmm_starts.py', argv)
    columns = list(_picks(records[0]))
    lines += ['ACC % of the initial partition only (no joint phase); per UMAP '
             'seed, ACC with 1 -> 10 EM starts (latent silhouette with 10). '
             'The last four columns pick as the models do: N2D takes the '
             'first UMAP seed, VGDCN the highest silhouette of the three.',
             '',
             '| data set | seed | ' + ' | '.join(
                 f'UMAP seed +{1000 * j}' for j in range(UMAP_SEEDS)) +
             ' | ' + ' | '.join(columns) + ' |',
             '|---|---|' + '---|' * UMAP_SEEDS + '---:|' * len(columns)]
    by_set: Dict[str, Dict[str, List[float]]] = {}
    for r in records:
        picks = _picks(r)
        for c, v in picks.items():
            by_set.setdefault(r['name'], {}).setdefault(c, []).append(v)
        cells = [f'{100 * s["g1"]["acc"]:.1f} -> {100 * s["g10"]["acc"]:.1f}'
                 f' (sil {s["g10"]["sil"]:.3f})' for s in r['starts']]
        lines.append(f'| {r["name"]} | {r["seed"]} | ' + ' | '.join(cells) +
                     ' | ' + ' | '.join(f'{100 * picks[c]:.1f}'
                                        for c in columns) + ' |')
    lines += ['', 'Mean +- sample std (ddof = 1) over the seeds, worst seed '
              'in brackets; the last column is the median wall time of one '
              'mixture fit (one UMAP seed) with 1 and 10 EM starts, one '
              'thread, other processes sharing the cores:', '',
              '| data set | seeds | ' + ' | '.join(columns) +
              ' | EM seconds, 1 / 10 starts |',
              '|---|---|' + '---:|' * len(columns) + '---:|']
    for name, cols in by_set.items():
        n = len(cols[columns[0]])
        cells = []
        for c in columns:
            v = [100 * a for a in cols[c]]
            spread = f' +- {statistics.stdev(v):.2f}' if n > 1 else ''
            cells.append(f'{statistics.mean(v):.2f}{spread} ({min(v):.1f})')
        times = [statistics.median(s[f'g{g}']['s'] for r in records
                                   if r['name'] == name for s in r['starts'])
                 for g in EM_STARTS]
        lines.append(f'| {name} | {n} | ' + ' | '.join(cells) +
                     f' | {times[0]:.2f} / {times[1]:.2f} |')
    means = [100 * statistics.mean(statistics.mean(cols[c])
                                   for cols in by_set.values())
             for c in columns]
    lines.append('| suite mean | | ' + ' | '.join(f'{m:.2f}' for m in means)
                 + ' | |')
    write_table(lines, out)


def main(argv=None):
    jsonl_main(__doc__, 'gmm_starts.md', run, table, argv)


if __name__ == '__main__':
    main()
