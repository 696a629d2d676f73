r"""Benchmark: k-NN heat-kernel graph build time, peak memory and recall
against N, for every k-NN back end and the dense N x N approach of the
reference code.

Data: :func:`vgdcn_pyg.datasets.make_gaussian_mixture` (20 unit-variance
components, means drawn with standard deviation 3) at N = 10^4, 10^5, 10^6
and D = 10, 64, 256, k = 10. Each case runs in a fresh subprocess that
generates the data, resets the peak-RSS counter (``/proc/self/clear_refs``)
and builds the graph; the table reports the build time and the peak RSS
above the RSS before the build (the data itself excluded).

* ``dense_reference``: SDCN's ``construct_graph`` (the reference code of the
  thesis builds its graph this way): the full N x N matrix of pairwise
  distances (``sklearn.metrics.pairwise_distances``), the heat kernel of it,
  and a per-row ``argpartition``. Run only while the N x N float64 matrix
  takes at most ``--dense-max-gb``; skipped above with the memory it would
  need.
* ``torch``, ``torch_cluster``, ``faiss``: exact search of
  :func:`vgdcn_pyg.graph.knn_search`. Brute force is quadratic in N:
  ``torch`` and ``faiss`` are skipped at N = 10^6 (with the time
  extrapolated from N = 10^5). The torch-cluster KD-tree is skipped at
  N >= 10^5 above D = 16, where brute force beats it, and run at N = 10^6
  up to D = 16, where it grows about as N log N.
* ``faiss_ivf``, ``faiss_hnsw``: the approximate back ends.

Recall: for every built graph, the fraction of the true k nearest
neighbours found, on 1000 random query rows whose exact neighbours are
found by brute force (:func:`vgdcn_pyg.graph.knn.knn_recall`).

Every case gets a time limit (``--timeout``); one that exceeds it is
reported as such.

    python benchmarks/knn_scale.py            # full run (hours on 2 cores)
    python benchmarks/knn_scale.py --quick    # N = 2000, 20000; D = 10, 64
"""
import argparse
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

from vgdcn_pyg.graph.knn import (APPROXIMATE_BACKENDS,  # noqa: E402
                                 KD_TREE_MAX_DIM)

DEFAULT_OUTPUT = ROOT / 'benchmarks' / 'results' / 'knn_scale.md'
BACKENDS = ('dense_reference', 'torch', 'torch_cluster', 'faiss',
            'faiss_ivf', 'faiss_hnsw')
EXACT = ('torch', 'torch_cluster', 'faiss')
K = 10


def _status(key: str) -> Optional[int]:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(key + ':'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    r"""Resets VmHWM to the current RSS (Linux >= 4.0)."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def dense_reference_knn(x, k: int):
    r"""SDCN's construct_graph: dense heat kernel, per-row argpartition of
    the k + 1 largest entries (the sample itself among them), self
    dropped."""
    import numpy as np
    from sklearn.metrics import pairwise_distances
    # The reference reads its features with np.loadtxt: float64. (In
    # float32 the kernel exp(-d^2 / 2) underflows to 0 for every pair at
    # D = 256 and the neighbours become arbitrary.)
    x = np.asarray(x, dtype=np.float64)
    dist = -0.5 * pairwise_distances(x) ** 2
    dist = np.exp(dist)
    index = np.empty((x.shape[0], k), dtype=np.int64)
    for i in range(dist.shape[0]):
        ind = np.argpartition(dist[i, :], -(k + 1))[-(k + 1):]
        ind = ind[ind != i][:k]
        index[i] = ind
    return index


def child(n: int, d: int, backend: str, threads: int) -> Dict:
    import torch
    torch.set_num_threads(threads)
    if backend.startswith('faiss'):
        import faiss
        faiss.omp_set_num_threads(threads)
    from vgdcn_pyg.datasets import make_gaussian_mixture
    from vgdcn_pyg.graph import knn_search
    from vgdcn_pyg.graph.heat_kernel import heat_kernel_graph_from_knn
    from vgdcn_pyg.graph.knn import knn_recall, pair_sqdist
    x_np, _ = make_gaussian_mixture(n, d, random_state=0)
    x = torch.from_numpy(x_np)
    if backend.startswith('faiss') or backend == 'dense_reference':
        import sklearn.metrics  # noqa: F401  (import outside the timing)
    # The search breadth the approximate back ends tuned themselves to.
    import logging
    tuning: List[str] = []
    handler = logging.Handler(logging.INFO)
    handler.emit = lambda record: tuning.append(record.getMessage())
    logger = logging.getLogger('vgdcn_pyg.graph.knn')
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    rss_before = _status('VmRSS')
    exact_peak = _reset_peak()
    start = time.perf_counter()
    if backend == 'dense_reference':
        index = torch.from_numpy(dense_reference_knn(x_np, K))
        search = time.perf_counter() - start
        sqdist = pair_sqdist(x, index, block_size=1024)
    else:
        index, sqdist = knn_search(x, n_neighbors=K, backend=backend)
        search = time.perf_counter() - start
    edge_index, _, _ = heat_kernel_graph_from_knn(index, sqdist)
    seconds = time.perf_counter() - start
    peak = _status('VmHWM')
    return {
        'n': n, 'd': d, 'backend': backend, 'threads': threads,
        'search_s': search, 'total_s': seconds,
        'rss_before': rss_before, 'peak': peak, 'exact_peak': exact_peak,
        'increase': None if peak is None else peak - rss_before,
        'edges': int(edge_index.size(1)) // 2,
        'recall': knn_recall(x, index, num_queries=1000, seed=1),
        'tuning': '; '.join(tuning),
    }


def skip_reason(n: int, d: int, backend: str, dense_max_gb: float,
                results: List[Dict]) -> Optional[str]:
    if backend == 'dense_reference':
        need = n * n * 8 / 1e9
        if need > dense_max_gb:
            return (f'one N x N float64 matrix needs {need:,.0f} GB '
                    f'(limit {dense_max_gb:g} GB)')
    if backend == 'torch_cluster' and d > KD_TREE_MAX_DIM and n >= 100_000:
        return (f'KD-tree: slower than brute force above D = '
                f'{KD_TREE_MAX_DIM}')
    kd_tree_fast = backend == 'torch_cluster' and d <= KD_TREE_MAX_DIM
    if backend in EXACT and n >= 1_000_000 and not kd_tree_fast:
        done = [r for r in results if r['backend'] == backend and
                r['d'] == d and 'total_s' in r]
        if done:
            ref = max(done, key=lambda r: r['n'])
            est = ref['total_s'] * (n / ref['n']) ** 2
            return (f'quadratic: ~{est / 3600:.1f} h extrapolated from '
                    f'N = {ref["n"]:,}')
        return 'quadratic: hours'
    return None


def run_case(n: int, d: int, backend: str, threads: int,
             timeout: float) -> Dict:
    cmd = [sys.executable, __file__, '--child', f'{n},{d},{backend}',
           '--threads', str(threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True,
                             timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {'n': n, 'd': d, 'backend': backend,
                'skipped': f'did not finish within {timeout:.0f} s'}
    if out.returncode != 0:
        tail = out.stderr.strip().splitlines()[-1:] or ['?']
        return {'n': n, 'd': d, 'backend': backend,
                'skipped': f'failed: {tail[0][:120]}'}
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_gb(b: Optional[float]) -> str:
    return '?' if b is None else f'{b / 1e9:.2f}'


def _breadth(r: Dict) -> str:
    if r['backend'] not in APPROXIMATE_BACKENDS:
        return ''
    # 'nprobe = 256, estimated recall@10 0.9992' -> 'nprobe = 256'
    return r.get('tuning', '').split(',')[0] or 'fixed (before tuning)'


def table(results: List[Dict]) -> List[str]:
    lines = ['| N | D | backend | search (s) | graph total (s) | '
             'peak RSS increase (GB) | recall@10 | undirected edges | '
             'search breadth (tuned) |',
             '|---:|---:|---|---:|---:|---:|---:|---:|---|']
    for r in results:
        head = f'| {r["n"]:,} | {r["d"]} | {r["backend"]} |'
        if 'skipped' in r:
            lines.append(f'{head} skipped: {r["skipped"]} | | | | | |')
            continue
        lines.append(f'{head} {r["search_s"]:.2f} | {r["total_s"]:.2f} | '
                     f'{fmt_gb(r["increase"])} | {r["recall"]:.4f} | '
                     f'{r["edges"]:,} | {_breadth(r)} |')
    return lines


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--ns', type=int, nargs='+', default=None)
    ap.add_argument('--dims', type=int, nargs='+', default=None)
    ap.add_argument('--backends', nargs='+', default=list(BACKENDS))
    ap.add_argument('--threads', type=int, default=1,
                    help='torch and faiss threads per case (default 1: the '
                    '2 cores are shared, and 2-thread runs suffered from '
                    'other jobs)')
    ap.add_argument('--timeout', type=float, default=None,
                    help='seconds per case (default 3600, 300 with --quick)')
    ap.add_argument('--dense-max-gb', type=float, default=2.0)
    ap.add_argument('--output', type=Path, default=DEFAULT_OUTPUT)
    ap.add_argument('--previous', type=Path, nargs='+', default=[],
                    help='JSON files of earlier runs: their cases are kept '
                    '(a later file\'s case replaces an earlier one\'s, and '
                    'a case run again replaces both), and the table covers '
                    'all')
    ap.add_argument('--child', default=None, help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def previous_results(paths: List[Path], planned: set) -> List[Dict]:
    r"""The cases of earlier runs (a later file's case replacing an earlier
    one's) that this run does not run again."""
    kept: Dict = {}
    for path in paths:
        for r in json.loads(path.read_text()):
            kept[(r['n'], r['d'], r['backend'])] = r
    return [r for r in kept.values()
            if (r['n'], r['d'], r['backend']) not in planned]


def run_all(args, ns, dims, timeout, results: List[Dict],
            json_path: Path) -> None:
    r"""Runs (or skips) every planned case, appending to :obj:`results` and
    keeping :obj:`json_path` up to date after each."""
    started = time.strftime('%Y-%m-%d %H:%M')
    load = ', '.join(f'{v:.1f}' for v in os.getloadavg())
    command = 'python benchmarks/knn_scale.py' + (
        ' ' + ' '.join(sys.argv[1:]) if len(sys.argv) > 1 else '')
    run = f'`{command}` (started {started}, load average {load})'
    for n in ns:
        for d in dims:
            for backend in args.backends:
                reason = skip_reason(n, d, backend, args.dense_max_gb,
                                     results)
                if reason is not None:
                    r = {'n': n, 'd': d, 'backend': backend,
                         'skipped': reason}
                else:
                    r = run_case(n, d, backend, args.threads, timeout)
                r['run'] = run
                results.append(r)
                print(table([r])[-1], flush=True)
                json_path.parent.mkdir(parents=True, exist_ok=True)
                json_path.write_text(json.dumps(results, indent=1))


def report(results: List[Dict], threads: int) -> str:
    r"""The Markdown report of all cases."""
    import torch
    versions = [f'torch {torch.__version__}']
    for name in ('torch_geometric', 'torch_cluster', 'faiss', 'sklearn'):
        try:
            versions.append(f'{name} {__import__(name).__version__}')
        except ImportError:
            pass
    # A table assembled from several runs (--previous) names each of them.
    runs = list(dict.fromkeys(r.get('run', '(run not recorded)')
                              for r in results))
    lines = ['# k-NN graph building at scale', '',
             'Runs:' if len(runs) > 1 else f'Command: {runs[0]}.', '']
    if len(runs) > 1:
        lines += [f'- {r}' for r in runs] + ['']
    lines += [
        f'Machine: {platform.machine()}, {os.cpu_count()} cores shared with '
        f'other jobs, {threads} thread(s) per case; '
        f'{", ".join(versions)}.', '',
        f'Data: 20-component Gaussian mixture (`make_gaussian_mixture`), '
        f'k = {K}. Time: search, and search + undirected heat-kernel graph. '
        f'Peak RSS increase: VmHWM minus the RSS before the build, in a '
        f'fresh process (the data excluded). Recall@10: true neighbours '
        f'found, on 1000 random queries checked by brute force.', '',
    ] + table(results)
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    if args.child is not None:
        n, d, backend = args.child.split(',')
        print(json.dumps(child(int(n), int(d), backend, args.threads)))
        return

    ns = args.ns or ([2000, 20000] if args.quick else
                     [10_000, 100_000, 1_000_000])
    dims = args.dims or ([10, 64] if args.quick else [10, 64, 256])
    timeout = args.timeout or (300 if args.quick else 3600)
    json_path = args.output.with_suffix('.json')
    planned = {(n, d, b) for n in ns for d in dims for b in args.backends}
    results = previous_results(args.previous, planned)
    run_all(args, ns, dims, timeout, results, json_path)

    order = {b: i for i, b in enumerate(BACKENDS)}
    results.sort(key=lambda r: (r['n'], r['d'], order[r['backend']]))
    json_path.write_text(json.dumps(results, indent=1))
    text = report(results, args.threads)
    print()
    print(text)
    args.output.write_text(text)
    print(f'written to {args.output}')


if __name__ == '__main__':
    main()
