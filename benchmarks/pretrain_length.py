r"""How long must the auto-encoder pretrain? One default pretraining per
(data set, seed), with snapshots of the auto-encoder on the way, and for each
snapshot the partition a default VGDCN fit starts from (three UMAP + GMM
starts, the highest latent silhouette kept), scored against the labels
(which choose nothing here: they show what a shorter pretraining costs).

Snapshots are taken at fractions of the default length
(:func:`vgdcn_pyg.training.trainer.default_pretrain_epochs`, ``--fractions``)
and where the label-free stopping rule
(:func:`~vgdcn_pyg.training.trainer.reconstruction_converged`) would end
pretraining for each ``--tols`` value. Every snapshot is saved as
``DIR/<tag>/DATASET_SEED.pt``, so that ``benchmarks/suite.py`` and
``benchmarks/ablation.py`` can fit from it (``--pretrained-dir DIR/<tag>``).

One run is one process (one thread):

    python benchmarks/pretrain_length.py run digits 0 --out DIR
    python benchmarks/pretrain_length.py table DIR/*.json --out results.md \
        --merged benchmarks/results/pretrain_length.json
"""
import json
import math
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'benchmarks'))

import torch  # noqa: E402

from fit_time import _git_commit  # noqa: E402
from suite import DATASETS, _mean_std  # noqa: E402
from suite import run_table_parser, write_table  # noqa: E402
from vgdcn_pyg import VGDCN, DeepClustering, phases  # noqa: E402
from vgdcn_pyg.evaluation import evaluate  # noqa: E402
from vgdcn_pyg.io import save_json  # noqa: E402
from vgdcn_pyg.models.umap_partition import latent_silhouette  # noqa: E402
from vgdcn_pyg.training.trainer import pretrain as pretrain_loop  # noqa: E402
from vgdcn_pyg.training.trainer import reconstruction_converged  # noqa: E402


def _snapshot_plan(epochs: int, fractions):
    return {max(1, math.ceil(f * epochs)): f'f{f:g}' for f in fractions}


def _pretrain_with_snapshots(x, k, seed, fractions, tols):
    # The pretraining of benchmarks/suite.py (vgdcn_pyg.experiments.
    # pretrain_autoencoder), driven through the fit's phases so that the
    # auto-encoder can be copied after any epoch.
    est = DeepClustering(model='vae_kmeans', n_clusters=k, epochs=0,
                         random_state=seed, verbose=False)
    run = phases.validate(est, x)
    net = run.model
    epochs = est.pretrain_length(len(x))
    plan = _snapshot_plan(epochs, fractions)
    snapshots, pending = {}, sorted(tols, reverse=True)

    def after(epoch, history, optimizer, _):
        done = epoch + 1
        if done in plan:
            snapshots[plan[done]] = (done, history[-1]['recon'],
                                    phases.pretrained_state(net))
        for tol in list(pending):
            if reconstruction_converged(history, tol):
                snapshots[f'tol{tol:g}'] = (
                    done, history[-1]['recon'], phases.pretrained_state(net))
                pending.remove(tol)

    start = time.perf_counter()
    history = pretrain_loop(net, run.x, epochs, est.batch_size,
                            est.pretrain_lr, run.generator, False,
                            precision=est.precision, after_epoch=after,
                            tol=0.0, adam=est.adam)
    seconds = time.perf_counter() - start
    return epochs, history, seconds, snapshots


def _score(name, seed, x, y, k, tag, done, recon, state) -> dict:
    # The initial partition of a default VGDCN fit from one snapshot.
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        est = VGDCN(n_clusters=k, random_state=seed, epochs=0,
                    verbose=False).fit(x, pretrained=state)
    labels = est.init_labels_
    score = evaluate(y, labels)
    print(name, seed, tag, done, f"{100 * score['acc']:.2f}", flush=True)
    return dict(epochs=done, recon=recon, init_s=time.perf_counter() - start,
                silhouette=latent_silhouette(est.embedding_, labels),
                clusters=int(np.unique(labels).size), **score)


def run(name: str, seed: int, out: Path, fractions, tols):
    torch.set_num_threads(1)
    x, y = DATASETS[name]()
    k = int(np.unique(y).size)
    epochs, history, seconds, snapshots = _pretrain_with_snapshots(
        x, k, seed, fractions, tols)
    record = dict(name=name, seed=seed, n=len(x), k=k, commit=_git_commit(),
                  epochs=epochs, pretrain_s=seconds,
                  recon=[h['recon'] for h in history], snapshots={})
    for tag, (done, recon, state) in sorted(snapshots.items(),
                                            key=lambda t: t[1][0]):
        folder = out / tag
        folder.mkdir(parents=True, exist_ok=True)
        torch.save(state, folder / f'{name}_{seed}.pt')
        record['snapshots'][tag] = _score(name, seed, x, y, k, tag, done,
                                          recon, state)
    save_json(record, out / f'{name}_{seed}.json')


def rescore(name: str, seed: int, out: Path):
    r"""Scores the saved snapshots of ``run`` again with the current code
    (the pretraining is not repeated); ``commit`` becomes the scoring
    commit, ``pretrain_commit`` keeps the pretraining's."""
    torch.set_num_threads(1)
    x, y = DATASETS[name]()
    k = int(np.unique(y).size)
    path = out / f'{name}_{seed}.json'
    record = json.loads(path.read_text())
    record.setdefault('pretrain_commit', record['commit'])
    record['commit'] = _git_commit()
    for tag, old in record['snapshots'].items():
        state = torch.load(out / tag / f'{name}_{seed}.pt',
                           weights_only=True)
        record['snapshots'][tag] = _score(name, seed, x, y, k, tag,
                                          old['epochs'], old['recon'], state)
    save_json(record, path)


def _read(paths):
    # A file holds one run's record, or a list of them (the merged file).
    records = []
    for path in paths:
        value = json.loads(Path(path).read_text())
        records.extend(value if isinstance(value, list) else [value])
    return records


def _commits(records, key: str) -> str:
    return ', '.join(sorted({r[key] for r in records if key in r}))


def table(paths, out: Path, argv):
    records = _read(paths)
    order = list(DATASETS)
    records.sort(key=lambda r: (order.index(r['name']), r['seed']))
    tags = sorted({t for r in records for t in r['snapshots']},
                  key=lambda t: (t[0] != 'f', -float(t[3:]) if t[0] == 't'
                                 else float(t[1:])))
    pretrained = _commits(records, 'pretrain_commit')
    pretrained = f' (pretraining: {pretrained})' if pretrained else ''
    lines = ['# Pretraining length and the initial partition', '',
             f'Command: `python benchmarks/pretrain_length.py '
             f'{" ".join(argv)}`  ',
             f'Commits of the runs: {_commits(records, "commit")}'
             f'{pretrained}  ',
             f'Machine: {platform.machine()}, {os.cpu_count()} cores, one '
             f'torch thread per run, two runs at a time.', '',
             'One default pretraining per (data set, seed); after the '
             'pretraining epochs of a column, the initial partition of a '
             'default VGDCN fit from that auto-encoder. `f0.25`: a quarter '
             'of the default length; `tol1e-3`: where '
             '`reconstruction_converged` with that tol would stop (the whole '
             'length where it never fires). Cells: '
             'ACC of the initial partition in %, mean +- sample std '
             '(ddof = 1) over the seeds, then [mean epochs run]. Labels '
             'only score.', '',
             '| data set | seeds | default epochs | ' + ' | '.join(tags) + ' |',
             '|---|---|---:|' + '---|' * len(tags)]
    means = {t: [] for t in tags}
    for name in order:
        group = [r for r in records if r['name'] == name]
        if not group:
            continue
        cells = []
        for t in tags:
            # A stop that never fired ran the whole default length.
            runs = [r['snapshots'].get(t, r['snapshots'].get('f1'))
                    for r in group if t in r['snapshots'] or
                    (t.startswith('tol') and 'f1' in r['snapshots'])]
            if len(runs) < len(group):
                cells.append('-')
                continue
            accs = [s['acc'] for s in runs]
            means[t].append(100 * statistics.mean(accs))
            ep = statistics.mean(s['epochs'] for s in runs)
            cells.append(f'{_mean_std(accs)} [{ep:.0f}]')
        lines.append(f'| {name} | {",".join(str(r["seed"]) for r in group)} '
                     f'| {group[0]["epochs"]} | ' + ' | '.join(cells) + ' |')
    complete = [t for t in tags if len(means[t]) == len(
        {r['name'] for r in records})]
    lines.append('| suite mean | | | ' + ' | '.join(
        f'{statistics.mean(means[t]):.2f}' if t in complete else '-'
        for t in tags) + ' |')
    write_table(lines, out)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ap, r, t = run_table_parser(__doc__, 'pretrain_length.md')
    r.add_argument('--rescore', action='store_true',
                   help='score the snapshots saved in --out again with the '
                   'current code, without pretraining')
    r.add_argument('--fractions', default='0.25,0.5,1',
                   type=lambda s: [float(v) for v in s.split(',')])
    r.add_argument('--tols', default='0.003,0.001',
                   type=lambda s: [float(v) for v in s.split(',')])
    t.add_argument('json', nargs='+')
    t.add_argument('--merged', type=Path, default=None,
                   help='also write all records to this one JSON file')
    args = ap.parse_args(argv)
    if args.command == 'run':
        if args.rescore:
            rescore(args.dataset, args.seed, args.out)
        else:
            run(args.dataset, args.seed, args.out, args.fractions, args.tols)
        return
    if args.merged is not None:
        save_json(_read(args.json), args.merged)
    table(args.json, args.out, argv)


if __name__ == '__main__':
    main()
