r"""What each UMAP start of VGDCN's initial partition gives, and what the
label-free ways of combining them give. On one pretrained auto-encoder per
(data set, seed): three UMAP + GMM partitions of the latent means and three
of the input features (UMAP seeds ``seed``, ``seed + 1000``, ``seed +
2000`` in each space, ten EM starts each, as a fit lays them out), and, for
reference, scikit-learn's spectral clustering of the input (the suite's
``spectral``). Each partition is scored by its ACC (labels only score) and
its latent silhouette. The table compares the silhouette's pick among the
latent starts (``input_starts=0``, ``init_restarts=3``), the consensus of
the latent starts alone, and the consensus
(:func:`~vgdcn_pyg.models.umap_partition.umap_consensus`) of three latent
starts and one input start (``input_starts=1``), of two and two
(``init_restarts=2, input_starts=2``: as many layouts as three and one), of
three and three, and of two and two with the spectral partition as a fifth
member, all on the initial partition, before any joint training.

    python benchmarks/consensus_starts.py run coil20 0 --pretrained-dir DIR \
        --out runs.jsonl
    python benchmarks/consensus_starts.py table runs.jsonl --out table.md
"""
import statistics
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

from fit_time import _git_commit  # noqa: E402
from suite import (DATASETS, _reference, append_run,  # noqa: E402
                   jsonl_main, jsonl_runs, latent_means, write_table)
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.models.umap_partition import (  # noqa: E402
    _umap_gmm_starts, consensus_labels, latent_silhouette)

LATENT_STARTS = 3
INPUT_STARTS = 3
GMM_STARTS = 10  # VGDCN's default
RULES = ('silhouette pick', 'latent consensus', '3 + 1 consensus',
         '2 + 2 consensus', '3 + 3 consensus', '2 + 2 + spectral')


def run(name, seed, pretrained_dir, out):
    z, y, k = latent_means(name, seed, pretrained_dir)
    x = np.asarray(DATASETS[name]()[0], dtype=np.float32)
    probas = _umap_gmm_starts([(z, LATENT_STARTS), (x, INPUT_STARTS)], k,
                              seed, gmm_starts=GMM_STARTS, workers=1)
    labels = [p.argmax(1) for p in probas]
    latent, inputs = labels[:LATENT_STARTS], labels[LATENT_STARTS:]
    sil = [latent_silhouette(z, lab) for lab in latent]
    starts = {f'latent{j}': lab for j, lab in enumerate(latent)}
    starts.update({f'input{j}': lab for j, lab in enumerate(inputs)})
    starts['spectral'] = _reference('spectral', x, k, seed)
    # Each consensus sees the starts a fit with those init_restarts and
    # input_starts lays out: the first seeds of each space.
    rules = {RULES[0]: latent[int(np.argmax(sil))],
             RULES[1]: consensus_labels(latent, k, seed),
             RULES[2]: consensus_labels(latent + inputs[:1], k, seed),
             RULES[3]: consensus_labels(latent[:2] + inputs[:2], k, seed),
             RULES[4]: consensus_labels(latent + inputs, k, seed),
             RULES[5]: consensus_labels(latent[:2] + inputs[:2] +
                                        [starts['spectral']], k, seed)}
    record = dict(name=name, seed=seed, commit=_git_commit())
    for key, lab in starts.items():
        record[key] = dict(acc=evaluate(y, lab)['acc'],
                           sil=latent_silhouette(z, lab))
    record['rules'] = {key: evaluate(y, lab)['acc']
                       for key, lab in rules.items()}
    append_run(out, record)


def _cell(values: List[float]) -> str:
    values = [100 * v for v in values]
    if len(values) == 1:
        return f'{values[0]:.2f}'
    return f'{statistics.mean(values):.2f} +- {statistics.stdev(values):.2f}'


def table(path, out, argv):
    records, lines = jsonl_runs(
        path, 'UMAP starts on the embedding and on the input, and their '
        'consensus', 'consensus_starts.py', argv)
    starts = [f'latent{j}' for j in range(LATENT_STARTS)] + [
        f'input{j}' for j in range(INPUT_STARTS)] + ['spectral']
    lines += ['ACC % of the initial partition only (no joint phase); '
              'latent silhouettes in brackets.', '',
              '| data set | seed | ' + ' | '.join(starts + list(RULES)) +
              ' |', '|---|---|' + '---|' * (len(starts) + len(RULES))]
    per_set: Dict[str, Dict[str, List[float]]] = {}
    for r in records:
        lines.append(f'| {r["name"]} | {r["seed"]} | ' + ' | '.join(
            f'{100 * r[s]["acc"]:.1f} ({r[s]["sil"]:.3f})' for s in starts) +
            ' | ' + ' | '.join(f'{100 * r["rules"][rule]:.1f}'
                               for rule in RULES) + ' |')
        cells = per_set.setdefault(r['name'], {})
        for key in starts:
            cells.setdefault(key, []).append(r[key]['acc'])
        for rule in RULES:
            cells.setdefault(rule, []).append(r['rules'][rule])
    lines += ['', 'Per data set, mean +- sample std (ddof=1) over the seeds; '
              'last row: the mean over the data sets.', '',
              '| data set | seeds | ' + ' | '.join(starts + list(RULES)) +
              ' |', '|---|---:|' + '---|' * (len(starts) + len(RULES))]
    for name, cells in per_set.items():
        lines.append(f'| {name} | {len(cells["spectral"])} | ' + ' | '.join(
            _cell(cells[key]) for key in starts + list(RULES)) + ' |')
    means = [statistics.mean(statistics.mean(cells[key])
                             for cells in per_set.values())
             for key in starts + list(RULES)]
    lines.append('| mean | | ' + ' | '.join(f'{100 * m:.2f}' for m in means)
                 + ' |')
    write_table(lines, out)


def main(argv=None):
    jsonl_main(__doc__, 'consensus_starts.md', run, table, argv)


if __name__ == '__main__':
    main()
