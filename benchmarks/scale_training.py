r"""Benchmark: VGDCN training cost against N, full batch and in mini-batches
on sampled subgraphs.

Data: :func:`vgdcn_pyg.datasets.make_gaussian_mixture`, 64-D, 20
components, at N = 10^4, 10^5, 10^6. Model: auto-encoder 64-64-64-128-10
(hidden widths 64, 64, 128, latent 10; Gaussian likelihood), VGDCN with
K = 20 and the GMM initialisation (the default spectral initialisation
solves an eigenproblem of the whole graph, which is not what is measured
here). Each N runs in a fresh subprocess, through the fit's own phases
(:mod:`vgdcn_pyg.phases`) with a :class:`~vgdcn_pyg.cluster.VGDCN` of these
settings:

1. one epoch of reconstruction pretraining (mini-batches of 256; this is a
   cost measurement, not a good model),
2. the latent means in row batches and the kNN graph (M = 10) on them with
   the ``auto`` back end (exact below 10^5 samples, faiss IVF from there),
3. the GMM initialisation,
4. mini-batch training (the joint phase with ``batch_size_graph``: 1024
   seeds per batch, each seed's whole neighbourhood, ``num_neighbors=[-1]``,
   no warm-up): the target refresh alone (a full inference pass in row
   batches), then one epoch (building its batches and starting with a
   refresh, as a fit does), with the peak RSS of that phase,
5. full-batch training (the joint phase without ``batch_size_graph``) from
   the same initial state: one epoch (target refresh + one full-batch
   step), with its peak RSS. It is skipped when the full-batch peak
   extrapolated linearly from the previous N would exceed
   ``--full-max-gb``.

Peak RSS: ``/proc/self/clear_refs`` resets VmHWM before each phase; the
table gives VmHWM during the phase (the whole process: data, graph and
model included) and its increase over the RSS at the phase's start. ACC is
reported for information only (labels only score the result; after one
epoch it is not a quality figure).

    python benchmarks/scale_training.py            # N = 1e4, 1e5, 1e6
    python benchmarks/scale_training.py --quick    # N = 2000, 10000
"""
import argparse
import copy
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_OUTPUT = ROOT / 'benchmarks' / 'results' / 'scale_training.md'
HIDDEN = (64, 64, 128)
LATENT = 10
DIM = 64
COMPONENTS = 20
K_NEIGHBOURS = 10


def _status(key: str) -> Optional[int]:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
    return None


class Phase:
    r"""Wall time and peak RSS of a block of code."""
    def __init__(self, name: str, record: Dict):
        self.name, self.record = name, record

    def __enter__(self):
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        self.rss = _status('VmRSS')
        self.start = time.perf_counter()
        self.cpu = time.process_time()
        return self

    def __exit__(self, *exc):
        peak = _status('VmHWM')
        self.record[self.name] = {
            'seconds': time.perf_counter() - self.start,
            'cpu': time.process_time() - self.cpu,
            'peak': peak, 'increase': peak - self.rss}
        print(f'  {self.name}: {self.record[self.name]["seconds"]:.1f} s '
              f'(CPU {self.record[self.name]["cpu"]:.1f} s), peak RSS '
              f'{peak / 1e9:.2f} GB', file=sys.stderr, flush=True)


def _estimator(batch_size: int):
    r"""The estimator of the measured fit (see the module docstring): one
    pretraining epoch, the GMM initialisation, one joint epoch in
    mini-batches of :obj:`batch_size` seeds, no GCN warm-up."""
    from vgdcn_pyg.cluster import VGDCN
    return VGDCN(n_clusters=COMPONENTS, hidden_channels=HIDDEN,
                 latent_channels=LATENT, likelihood='gaussian', init='gmm',
                 n_neighbors=K_NEIGHBOURS, pretrain_epochs=1, batch_size=256,
                 epochs=1, warmup_steps=0, batch_size_graph=batch_size,
                 num_neighbors=(-1, ), device='cpu', random_state=0,
                 verbose=False)


def _subgraph_sizes(batches, rec: Dict):
    r"""Mean nodes and edges of the first 50 sampled subgraphs (untimed)."""
    sizes = [(b.num_nodes, b.edge_index.size(1))
             for b, _ in zip(batches.loader, range(50))]
    rec['subgraph_nodes'] = sum(a for a, _ in sizes) / len(sizes)
    rec['subgraph_edges'] = sum(b for _, b in sizes) / len(sizes)


def _accuracy(est, run, y) -> float:
    from vgdcn_pyg.evaluation import cluster_accuracy
    from vgdcn_pyg.phases import finish
    finish(est, run)
    return cluster_accuracy(y, est.labels_)


def child(n: int, batch_size: int, full: bool, threads: int) -> Dict:
    import torch
    torch.set_num_threads(threads)
    # Flushed in every phase (the training loop does it itself), since
    # denormals slow the inference passes too (see denormals_flushed).
    torch.set_flush_denormal(True)
    try:
        import faiss
        faiss.omp_set_num_threads(threads)
    except ImportError:
        pass
    from vgdcn_pyg.datasets import make_gaussian_mixture
    from vgdcn_pyg.graph.knn import resolve_backend
    from vgdcn_pyg import phases

    rec: Dict = {'n': n, 'threads': threads, 'batch_size': batch_size}
    x_np, y = make_gaussian_mixture(n, DIM, COMPONENTS, random_state=0)
    est = _estimator(batch_size)
    run = phases.validate(est, x_np)
    with Phase('pretrain_epoch', rec):
        phases.pretrain(est, run)
    with Phase('graph', rec):
        phases.build_graph(est, run)
    rec['graph_backend'] = resolve_backend('auto', run.z)
    rec['edges'] = int(est.edge_index_.size(1)) // 2
    rec['max_degree'] = int(torch.bincount(est.edge_index_[1]).max())
    with Phase('init', rec):
        phases.initialise(est, run)
    run.z = None
    initial = copy.deepcopy(run.model)

    # The refresh alone on the prepared graph (row batches, layer by
    # layer); the epoch then builds its own batches, as a fit does, and
    # starts with a refresh.
    batches = phases.make_batches(est, run)
    _subgraph_sizes(batches, rec)
    with Phase('minibatch_refresh', rec):
        run.model.eval()
        run.model.update_target(batches.whole, batches.inference_batch_size)
    del batches
    with Phase('minibatch_epoch', rec):
        phases.train(est, run)
    rec['minibatch_acc'] = _accuracy(est, run, y)

    if full:
        # The same initial state, trained and inferred full batch.
        run.model = initial
        est.set_params(batch_size_graph=None)
        with Phase('full_epoch', rec):
            phases.train(est, run)
        rec['full_acc'] = _accuracy(est, run, y)
    return rec


def run(n: int, batch_size: int, full: bool, threads: int,
        timeout: float) -> Dict:
    cmd = [sys.executable, __file__, '--child', str(n), '--threads',
           str(threads), '--batch-size', str(batch_size)]
    if full:
        cmd.append('--full')
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    print(f'N = {n:,} ...', flush=True)
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                             timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {'n': n, 'failed': f'did not finish within {timeout:.0f} s'}
    if out.returncode != 0:
        return {'n': n, 'failed': f'exit code {out.returncode}'}
    return json.loads(out.stdout.strip().splitlines()[-1])


def _t(phase: Dict) -> str:
    r"""Wall time (CPU time of the process)."""
    return f'{phase["seconds"]:.1f} ({phase["cpu"]:.1f})'


def _gb(phase: Dict, key: str) -> str:
    return f'{phase[key] / 1e9:.2f}'


def render(results: List[Dict], header: List[str]) -> str:
    lines = header + [
        '| N | pretrain epoch (s) | graph (s, back end) | init (s) | '
        'mini-batch epoch (s) | of which target refresh (s) | '
        'mini-batch peak RSS (GB) | full-batch epoch (s) | '
        'full-batch peak RSS (GB) | nodes (edges) per mini-batch | '
        'max degree |',
        '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|']
    for r in results:
        if 'failed' in r:
            lines.append(f'| {r["n"]:,} | failed: {r["failed"]} '
                         f'| | | | | | | | | |')
            continue
        mb, ref = r['minibatch_epoch'], r['minibatch_refresh']
        full = r.get('full_epoch')
        full_cells = (f'{_t(full)} | {_gb(full, "peak")} '
                      f'(+{_gb(full, "increase")})' if full else
                      f'skipped: {r.get("full_skipped", "")} | ')
        lines.append(
            f'| {r["n"]:,} | {_t(r["pretrain_epoch"])} | '
            f'{_t(r["graph"])} ({r["graph_backend"]}) | '
            f'{_t(r["init"])} | {_t(mb)} | {_t(ref)} | {_gb(mb, "peak")} '
            f'(+{_gb(mb, "increase")}) | {full_cells} | '
            f'{r["subgraph_nodes"]:,.0f} ({r["subgraph_edges"]:,.0f}) | '
            f'{r["max_degree"]} |')
    done = [r for r in results if 'failed' not in r]
    if len(done) >= 2:
        lines += ['', 'Growth between consecutive N (ratio of CPU times; '
                  '10 = linear for a tenfold N):', '']
        for a, b in zip(done, done[1:]):
            ratio = b['n'] / a['n']

            def growth(key):
                return f'{b[key]["cpu"] / a[key]["cpu"]:.1f}'
            parts = [f'mini-batch epoch x{growth("minibatch_epoch")}',
                     f'target refresh x{growth("minibatch_refresh")}']
            if 'full_epoch' in a and 'full_epoch' in b:
                parts.append(f'full-batch epoch x{growth("full_epoch")}')
            lines.append(f'- N {a["n"]:,} -> {b["n"]:,} (x{ratio:g}): '
                         + ', '.join(parts))
    lines += ['', 'ACC after the one epoch, for information only: ' +
              ', '.join(f'N = {r["n"]:,}: mini-batch '
                        f'{r["minibatch_acc"]:.3f}' +
                        (f', full batch {r["full_acc"]:.3f}'
                         if 'full_acc' in r else '')
                        for r in done) + '.']
    return '\n'.join(lines) + '\n'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--ns', type=int, nargs='+', default=None)
    ap.add_argument('--batch-size', type=int, default=1024)
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--full-max-gb', type=float, default=8.0,
                    help='skip full batch when its extrapolated peak RSS '
                    'exceeds this (default 8 GB; the machine is shared)')
    ap.add_argument('--timeout', type=float, default=4 * 3600)
    ap.add_argument('--output', type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument('--child', type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument('--full', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        print(json.dumps(child(args.child, args.batch_size, args.full,
                               args.threads)))
        return

    ns = args.ns or ([2000, 10_000] if args.quick else
                     [10_000, 100_000, 1_000_000])
    started = time.strftime('%Y-%m-%d %H:%M')
    load = ', '.join(f'{v:.1f}' for v in os.getloadavg())
    results: List[Dict] = []
    json_path = args.output.with_suffix('.json')
    for n in ns:
        full, reason = True, None
        previous = [r for r in results if 'full_epoch' in r]
        if previous:
            # Linear in N from the whole process's peak: conservative,
            # as the interpreter and torch (about 0.6 GB) do not grow.
            last = previous[-1]
            est = last['full_epoch']['peak'] * n / last['n']
            if est > args.full_max_gb * 1e9:
                full = False
                reason = (f'~{est / 1e9:.0f} GB extrapolated from N = '
                          f'{last["n"]:,} (limit {args.full_max_gb:g} GB)')
        r = run(n, args.batch_size, full, args.threads, args.timeout)
        if reason:
            r['full_skipped'] = reason
        results.append(r)
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=1))

    import torch
    command = 'python benchmarks/scale_training.py' + (
        ' ' + ' '.join(sys.argv[1:]) if len(sys.argv) > 1 else '')
    header = [
        '# VGDCN training cost against N', '',
        f'Command: `{command}` (started {started}).  ',
        f'Machine: {platform.machine()}, {os.cpu_count()} cores shared with '
        f'other jobs (load average at start {load}), {args.threads} '
        f'thread(s); torch {torch.__version__}.', '',
        f'Data: {DIM}-D Gaussian mixture of {COMPONENTS} components. Model: '
        f'hidden {", ".join(map(str, HIDDEN))}, latent {LATENT}, K = '
        f'{COMPONENTS}, M = {K_NEIGHBOURS}, init "gmm". Mini-batch: '
        f'{args.batch_size} seeds per batch, num_neighbors = [-1], border '
        f'rows rescaled, gradients accumulated over the epoch (one Adam step '
        f'per epoch, the default minibatch_update="epoch"). Denormal '
        f'floats flushed to zero in all phases. Times in '
        f'seconds, wall clock (CPU time of the process in brackets: with '
        f'one thread on shared cores it measures the work, the wall clock '
        f'also the waiting); peak RSS is VmHWM of the whole process during '
        f'the phase (its increase over the phase start in brackets).', '']
    text = render(results, header)
    print(text)
    args.output.write_text(text)
    print(f'written to {args.output}')


if __name__ == '__main__':
    main()
