r"""Benchmark of heat-kernel k-NN graph building.

1. Times :func:`vgdcn_pyg.graph.knn_heat_kernel_graph` on the full USPS set
   (9298 x 256) for every installed k-NN back end and M in {3, 5, 10}
   (median of a few repeats; a single one for the slow torch-cluster KD-tree),
   with the edge error rate of each graph (fraction of edges joining two
   digits).
2. Measures the peak resident memory of the blocked "torch" back end on
   70,000 x 784 random float32 samples (MNIST-sized) with k = 10, in a fresh
   subprocess, next to the size of its one (block x N) distance buffer and of
   the dense N x N float32 distance matrix that it never allocates.

Results are printed and written as markdown to
``benchmarks/results/graph_build.md``::

    python benchmarks/graph_build.py            # full run (a few minutes)
    python benchmarks/graph_build.py --quick    # 1 repeat, 10,000 x 784
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vgdcn_pyg.graph import (  # noqa: E402
    available_backends,
    graph_stats,
    knn_heat_kernel_graph,
)
from vgdcn_pyg.graph.knn import default_block_size  # noqa: E402

#: The shared data (used only if the package's USPS loader fails):
#: $VGDCN_SHARED_DATA, else ../shared/data from the repository root.
DEFAULT_SHARED = Path(os.environ.get('VGDCN_SHARED_DATA') or
                      ROOT / '..' / 'shared' / 'data')
DEFAULT_OUTPUT = ROOT / 'benchmarks' / 'results' / 'graph_build.md'


def load_usps(shared: Path) -> Tuple[np.ndarray, np.ndarray, str]:
    r"""USPS as (9298, 256) float32 samples and labels, train then test;
    from ``shared/usps/usps.h5`` if the package's loader fails."""
    try:
        from vgdcn_pyg.datasets import load_usps as package_load_usps
        data = package_load_usps()
        x = np.asarray(data.x, dtype=np.float32)
        y = np.asarray(data.y)
        return x, y, 'vgdcn_pyg.datasets.load_usps()'
    except Exception as e:  # The dataset module is optional here.
        reason = f'{type(e).__name__}: {e}'.splitlines()[0]
    import h5py
    h5 = shared / 'usps' / 'usps.h5'
    with h5py.File(h5, 'r') as f:
        x = np.concatenate([f['train/data'][()], f['test/data'][()]])
        y = np.concatenate([f['train/target'][()], f['test/target'][()]])
    return (x.astype(np.float32), y,
            f'{h5} via h5py (load_usps unavailable: {reason})')


def machine_info() -> Dict[str, str]:
    cpu = platform.processor() or 'unknown'
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        nproc = subprocess.run(['nproc'], capture_output=True, text=True,
                               check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        nproc = str(len(os.sched_getaffinity(0)))
    versions = [f'torch {torch.__version__}']
    for name in ('torch_geometric', 'torch_cluster', 'faiss'):
        try:
            module = __import__(name)
            versions.append(f'{name} {getattr(module, "__version__", "?")}')
        except ImportError:
            pass
    load = ', '.join(f'{v:.2f}' for v in os.getloadavg())
    return {
        'load': load,
        'cpu': cpu,
        'nproc': nproc,
        'torch_threads': str(torch.get_num_threads()),
        'python': platform.python_version(),
        'versions': ', '.join(versions),
    }


def time_graph(x: torch.Tensor, n_neighbors: int, backend: str,
               repeats: int) -> Tuple[float, List[float], object]:
    times = []
    data = None
    for _ in range(repeats):
        start = time.perf_counter()
        data = knn_heat_kernel_graph(x, n_neighbors=n_neighbors,
                                     backend=backend)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, data


def vm_hwm() -> Optional[int]:
    r"""Peak RSS of this process image in bytes from /proc (Linux), which,
    unlike ru_maxrss, starts afresh at exec."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def memory_child(num_nodes: int, dim: int, n_neighbors: int) -> None:
    r"""Runs in a fresh interpreter: builds the graph of random samples with
    the "torch" back end and prints peak RSS figures as JSON."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(num_nodes, dim, generator=gen)
    # ru_maxrss is in KiB on Linux and is a high-water mark: read it before
    # and after to separate the data from the search.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    hwm_before = vm_hwm()
    start = time.perf_counter()
    data = knn_heat_kernel_graph(x, n_neighbors=n_neighbors, backend='torch')
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    hwm_after = vm_hwm()
    print(json.dumps({
        'n': num_nodes,
        'd': dim,
        'k': n_neighbors,
        'seconds': seconds,
        'rss_before': before,
        'rss_peak': after,
        'hwm_before': hwm_before,
        'hwm_peak': hwm_after,
        'block_size': default_block_size(num_nodes, 4),
        'n_edges': int(data.edge_index.size(1)) // 2,
    }))


def measure_memory(num_nodes: int, dim: int,
                   n_neighbors: int) -> Dict[str, float]:
    cmd = [sys.executable, __file__, '--memory-child',
           f'{num_nodes},{dim},{n_neighbors}']
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f'memory subprocess failed:\n{out.stderr}')
    return json.loads(out.stdout.strip().splitlines()[-1])


def fmt_bytes(n: float) -> str:
    for unit in ('B', 'KB', 'MB', 'GB', 'TB'):
        if abs(n) < 1000 or unit == 'TB':
            return f'{n:.1f} {unit}' if unit != 'B' else f'{int(n)} B'
        n /= 1000.0
    return f'{n:.1f} TB'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--quick', action='store_true',
                        help='1 repeat and a 10,000 x 784 memory test')
    parser.add_argument('--repeats', type=int, default=3,
                        help='repeats per (backend, M); torch_cluster runs '
                        'once (default: 3)')
    parser.add_argument('--ks', type=int, nargs='+', default=[3, 5, 10],
                        help='numbers of neighbours M (default: 3 5 10)')
    parser.add_argument('--backends', nargs='+', default=None,
                        help='back ends to time (default: all installed)')
    parser.add_argument('--memory-n', type=int, default=None,
                        help='samples of the memory test (default: 70000, '
                        '10000 with --quick; 0 skips it)')
    parser.add_argument('--memory-d', type=int, default=784)
    parser.add_argument('--memory-k', type=int, default=10)
    parser.add_argument('--shared', type=Path, default=DEFAULT_SHARED,
                        help='shared data folder holding usps/usps.h5, read '
                        'if the package cannot load USPS (default: '
                        '$VGDCN_SHARED_DATA or ../shared/data from the '
                        'repository root)')
    parser.add_argument('--output', type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument('--memory-child', default=None,
                        help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def time_backends(x: torch.Tensor, y: torch.Tensor, backends: List[str],
                  ks: List[int], repeats: int) -> list:
    r"""``(backend, M, median seconds, runs, graph_stats)`` per case."""
    # One small untimed call per back end pays for lazy imports and thread
    # pool start-up.
    for backend in backends:
        knn_heat_kernel_graph(x[:200], n_neighbors=3, backend=backend)
    rows = []
    for backend in backends:
        for k in ks:
            n_rep = 1 if backend == 'torch_cluster' else repeats
            median, times, data = time_graph(x, k, backend, n_rep)
            data.y = y
            stats = graph_stats(data)
            rows.append((backend, k, median, n_rep, stats))
            print(f'{backend:>13}  M={k:<3d} {median:8.2f} s  (runs: '
                  f'{", ".join(f"{t:.2f}" for t in times)})  '
                  f'edges={stats["n_edges"]}  '
                  f'error={stats["edge_error_rate"]:.4f}', flush=True)
    return rows


def timing_lines(rows: list, x: torch.Tensor, source: str,
                 info: Dict[str, str]) -> List[str]:
    r"""The header and the USPS timing table of the report."""
    command = 'python benchmarks/graph_build.py' + (
        ' ' + ' '.join(sys.argv[1:]) if len(sys.argv) > 1 else '')
    lines = [
        '# k-NN heat-kernel graph building',
        '',
        f'Command: `{command}`',
        '',
        f'Machine: {info["cpu"]}, `nproc` = {info["nproc"]}, '
        f'{info["torch_threads"]} torch threads, Python {info["python"]}, '
        f'{info["versions"]}. Load average at start: {info["load"]} (the '
        f'cores are shared, so timings vary with other jobs).',
        '',
        f'## USPS ({x.size(0)} x {x.size(1)}), '
        f'`knn_heat_kernel_graph` (search + undirected graph + weights)',
        '',
        f'Data: {source}. Time is the median of the runs.',
        '',
        '| backend | M | time (s) | runs | undirected edges | mean degree '
        '| edge error rate |',
        '|---|---:|---:|---:|---:|---:|---:|',
    ]
    for backend, k, median, n_rep, stats in rows:
        lines.append(f'| {backend} | {k} | {median:.2f} | {n_rep} | '
                     f'{stats["n_edges"]} | {stats["mean_degree"]:.2f} | '
                     f'{stats["edge_error_rate"]:.4f} |')

    error_by_k = {}
    for backend, k, _, _, stats in rows:
        error_by_k.setdefault(k, set()).add(round(stats['edge_error_rate'],
                                                  6))
    lines += ['', 'Edge error rate by M: ' + ', '.join(
        f'M={k}: {", ".join(f"{e:.2%}" for e in sorted(v))}'
        for k, v in error_by_k.items()) +
        (' (identical across back ends).'
         if all(len(v) == 1 for v in error_by_k.values()) else
         ' (back ends differ: ties).')]
    return lines


def memory_lines(memory: Dict[str, float]) -> List[str]:
    r"""The memory table of the report."""
    n = memory['n']
    block_bytes = memory['block_size'] * n * 4
    dense_bytes = n * n * 4
    data_bytes = n * memory['d'] * 4
    return [
        '',
        f'## Memory of the blocked "torch" back end '
        f'({n} x {memory["d"]} random float32, k={memory["k"]})',
        '',
        'Peak RSS via `resource.getrusage` in a fresh subprocess.',
        '',
        '| quantity | value |',
        '|---|---:|',
        f'| samples, N x D x 4 B | {fmt_bytes(data_bytes)} |',
        f'| block size (rows) | {memory["block_size"]} |',
        f'| distance buffer, block x N x 4 B (theory, 256 MiB budget) | '
        f'{fmt_bytes(block_bytes)} |',
        f'| peak RSS before building (interpreter + torch + samples) | '
        f'{fmt_bytes(memory["rss_before"])} |',
        f'| peak RSS after building | {fmt_bytes(memory["rss_peak"])} |',
        f'| increase due to graph building | '
        f'{fmt_bytes(memory["rss_peak"] - memory["rss_before"])} |',
        f'| peak RSS after building, /proc VmHWM (cross-check) | '
        f'{fmt_bytes(memory["hwm_peak"] or 0)} |',
        f'| time | {memory["seconds"]:.1f} s |',
        f'| undirected edges | {memory["n_edges"]} |',
        f'| dense N x N float32 distance matrix (not allocated) | '
        f'{fmt_bytes(dense_bytes)} |',
    ]


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    if args.memory_child is not None:
        memory_child(*map(int, args.memory_child.split(',')))
        return

    repeats = 1 if args.quick else args.repeats
    memory_n = args.memory_n
    if memory_n is None:
        memory_n = 10_000 if args.quick else 70_000
    backends = args.backends or available_backends()
    info = machine_info()

    # The memory test runs first: Linux keeps a process's ru_maxrss across
    # exec, so a child forked from a parent that already holds USPS and its
    # graphs would inherit the parent's high-water mark.
    memory = None
    if memory_n > 0:
        print(f'memory test: {memory_n} x {args.memory_d}, '
              f'k={args.memory_k} ...', flush=True)
        memory = measure_memory(memory_n, args.memory_d, args.memory_k)

    x_np, y_np, source = load_usps(args.shared)
    x = torch.from_numpy(x_np)
    y = torch.from_numpy(y_np.astype(np.int64))
    print(f'USPS {tuple(x.shape)} from {source}', flush=True)

    rows = time_backends(x, y, backends, args.ks, repeats)
    lines = timing_lines(rows, x, source, info)
    if memory is not None:
        lines += memory_lines(memory)

    table = '\n'.join(lines) + '\n'
    print()
    print(table)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table)
    print(f'written to {args.output}')


if __name__ == '__main__':
    main()
