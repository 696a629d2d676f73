r"""Can a label-free score pick the better of several UMAP starts? On one
pretrained auto-encoder per (data set, seed): the spectral partition and
three UMAP + GMM partitions (UMAP seeds ``seed``, ``seed + 1000``,
``seed + 2000``), each with its ACC (labels only score), the modularity of
the partition on the latent 10-NN heat-kernel graph (VGDCN's graph) and the
silhouette of the latent means (on at most 3000 rows, fixed subsample). The
table compares always taking the first UMAP start with taking the one of
highest silhouette or of highest modularity.

    python benchmarks/restart_selection.py run usps 0 --pretrained-dir DIR \
        --out runs.jsonl
    python benchmarks/restart_selection.py table runs.jsonl --out table.md
"""
import statistics
import sys
from pathlib import Path

import numpy as np
import scipy.sparse as sp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import torch  # noqa: E402

from fit_time import _git_commit  # noqa: E402
from suite import (append_run, jsonl_main, jsonl_runs,  # noqa: E402
                   latent_means, write_table)
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.graph import knn_heat_kernel_graph  # noqa: E402
from vgdcn_pyg.graph.spectral import spectral_clustering  # noqa: E402
from vgdcn_pyg.models.umap_partition import latent_silhouette, umap_gmm  # noqa: E402,E501

STARTS = 3


def modularity(edge_index, edge_weight, labels, n) -> float:
    r"""Newman's modularity of a partition of the symmetrised graph."""
    row, col = edge_index.numpy()
    a = sp.csr_matrix((edge_weight.double().numpy(), (row, col)),
                      shape=(n, n))
    a = a.maximum(a.T).tocoo()
    two_m = a.data.sum()
    degree = np.asarray(a.sum(1)).ravel()
    inside = a.data[labels[a.row] == labels[a.col]].sum()
    per_cluster = np.bincount(labels, weights=degree)
    return float(inside / two_m - ((per_cluster / two_m) ** 2).sum())


def run(name, seed, pretrained_dir, out):
    z, y, k = latent_means(name, seed, pretrained_dir)
    n = len(y)
    g = knn_heat_kernel_graph(torch.from_numpy(z).float(), n_neighbors=10)
    starts = {'spectral': spectral_clustering(g.edge_index, g.edge_weight, n,
                                              k, seed)}
    for j in range(STARTS):
        starts[f'umap{j}'] = umap_gmm(z, k, seed + 1000 * j).argmax(1)
    record = dict(name=name, seed=seed, commit=_git_commit())
    for key, labels in starts.items():
        record[key] = dict(
            acc=evaluate(y, labels)['acc'],
            mod=modularity(g.edge_index, g.edge_weight, labels, n),
            sil=latent_silhouette(z, labels))
    append_run(out, record)


def table(path, out, argv):
    records, lines = jsonl_runs(
        path, 'Choosing among UMAP starts without labels',
        'restart_selection.py', argv)
    lines += ['ACC % of the initial partition only (no joint phase).', '',
             '| data set | seed | spectral | umap0 | umap1 | umap2 | '
             'highest silhouette | highest modularity |',
             '|---|---|---|---|---|---|---|---|']
    picks = {'first': [], 'sil': [], 'mod': []}
    for r in records:
        umaps = [r[f'umap{j}'] for j in range(STARTS)]
        by_sil = max(umaps, key=lambda v: v['sil'])['acc']
        by_mod = max(umaps, key=lambda v: v['mod'])['acc']
        picks['first'].append(umaps[0]['acc'])
        picks['sil'].append(by_sil)
        picks['mod'].append(by_mod)
        lines.append(f'| {r["name"]} | {r["seed"]} | ' + ' | '.join(
            f'{100 * r[s]["acc"]:.1f} (sil {r[s]["sil"]:.3f}, mod '
            f'{r[s]["mod"]:.4f})' for s in ['spectral'] +
            [f'umap{j}' for j in range(STARTS)]) +
            f' | {100 * by_sil:.1f} | {100 * by_mod:.1f} |')
    lines += ['', f'Mean over the {len(records)} runs: first UMAP start '
              f'{100 * statistics.mean(picks["first"]):.2f}, highest '
              f'silhouette {100 * statistics.mean(picks["sil"]):.2f}, '
              f'highest modularity {100 * statistics.mean(picks["mod"]):.2f}.']
    write_table(lines, out)


def main(argv=None):
    jsonl_main(__doc__, 'restart_selection.md', run, table, argv)


if __name__ == '__main__':
    main()
