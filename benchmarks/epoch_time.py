r"""Time of one full-batch training epoch on USPS, and of a whole run.

Measures, on the USPS digits (all 9298 unless ``--n-samples``):

* the pretraining epoch (mini-batches of 256) and the graph build (the
  pretrained embedding and the kNN heat-kernel graph), as the fit's own
  phases run them (:mod:`vgdcn_pyg.phases`, with a short pretraining);
* the median joint epoch of VGDCN (in fp32 and in bf16 mixed precision) and
  of SDCN, each in the real training loop
  (:func:`vgdcn_pyg.training.train`, over the batches the estimator would
  use: the whole graph) from the initialised model of those phases. An
  epoch is the time between two consecutive ``after_epoch`` calls: target
  refresh, forward, backward, Adam step and the epoch's record. The median
  is over the epochs after the first (which warms caches and allocators);
  the GCN warm-up, which comes before the first epoch, is not run;
* an emulation of the thesis author's epoch (its VAE runs forward four times
  per epoch and its GCN layers normalise and scatter over the edge list on
  every call), which is benchmark-only code;
* with ``--full-run``, a whole default VGDCN fit.

The last column divides every time by the VGDCN fp32 epoch.

    python benchmarks/epoch_time.py            # 10 epochs each
    python benchmarks/epoch_time.py --quick    # 3 epochs each
    python benchmarks/epoch_time.py --quick --n-samples 1000 \
        --out /tmp/epoch_time_smoke.md         # a smoke test
"""
import argparse
import copy
import os
import platform
import statistics
import sys
import time
import warnings

import torch
from torch_geometric.nn import GCNConv

from vgdcn_pyg.cluster import VGDCN, DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.io import atomic_write
from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.phases import (build_graph, initialise, make_batches,
                              pretrain, validate)
from vgdcn_pyg.training import train

#: Pretraining epochs of the timed models: enough to time one epoch; the
#: joint epochs cost the same whatever the pretrained state.
PRETRAIN_EPOCHS = 2


def _initialised(x, **params):
    r"""An estimator and its :class:`~vgdcn_pyg.phases.FitRun` after the
    phases up to the initialisation, with the seconds of each phase."""
    est = DeepClustering(n_clusters=10, random_state=0, verbose=False,
                         pretrain_epochs=PRETRAIN_EPOCHS, **params)
    run = validate(est, x)
    seconds = {}
    for name, phase in (('pretrain', pretrain), ('graph', build_graph),
                        ('init', initialise)):
        start = time.perf_counter()
        phase(est, run)
        seconds[name] = time.perf_counter() - start
    return est, run, seconds


def _median_epoch(est, run, epochs: int, precision: str = 'fp32') -> float:
    r"""Median joint epoch of the training loop, on a copy of the
    initialised model (so that every timing starts from the same state)."""
    model = copy.deepcopy(run.model)
    stamps = []
    _, lr_decay = est.schedule()
    train(model, make_batches(est, run), epochs=epochs + 1, lr=est.lr,
          lr_decay=lr_decay, decay_every=est.decay_every,
          update_interval=est.update_interval, precision=precision,
          progress=False,
          after_epoch=lambda *_: stamps.append(time.perf_counter()))
    return statistics.median([b - a for a, b in zip(stamps, stamps[1:])])


def _reference_epoch(x, ei, epochs):
    r"""The author's epoch, emulated: four VAE forward passes (target, two
    evaluation passes and the training pass) and a GCN that re-normalises
    and scatters over the edge list in every layer."""
    ae = DeepAutoEncoder(x.size(1))
    widths = [x.size(1), 500, 500, 2000, 10, 10]
    convs = torch.nn.ModuleList(GCNConv(a, b) for a, b in
                                zip(widths[:-1], widths[1:]))
    opt = torch.optim.Adam(list(ae.parameters()) + list(convs.parameters()))
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        with torch.no_grad():
            for _ in range(3):
                ae(x)
        enc, z, dec = ae(x)
        h = x
        for conv, enc_h in zip(convs, enc.hidden + [z, None]):
            h = conv(h, ei)
            if enc_h is not None:
                h = 0.5 * torch.relu(h) + 0.5 * enc_h
        loss = ae.recon_loss(x, dec) + h.log_softmax(-1).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])


def measure(x, epochs: int, full_run: bool):
    r"""The table's rows: ``(what, seconds)``."""
    vgdcn, run, seconds = _initialised(x)
    n_neighbors, space = vgdcn.n_neighbors_, vgdcn.graph_settings()[1]
    rows = [(f'pretraining epoch (mini-batches of {vgdcn.batch_size})',
             seconds['pretrain'] / PRETRAIN_EPOCHS),
            (f'kNN graph, {space} space, M = {n_neighbors} (with the '
             f'embedding)', seconds['graph']),
            ('VGDCN joint epoch (full batch)',
             _median_epoch(vgdcn, run, epochs)),
            ('VGDCN joint epoch, precision="bf16"',
             _median_epoch(vgdcn, run, epochs, 'bf16'))]
    del run
    sdcn, run, _ = _initialised(x, model='sdcn')
    rows.append(('SDCN joint epoch (full batch)',
                 _median_epoch(sdcn, run, epochs)))
    rows.append(("thesis author's epoch, emulated",
                 _reference_epoch(run.x, sdcn.edge_index_,
                                  max(2, epochs // 2))))
    del run
    if full_run:
        start = time.perf_counter()
        VGDCN(n_clusters=10, random_state=0, verbose=False).fit(x)
        rows.append(('whole default VGDCN fit (pretrain + graph + init + '
                     'train)', time.perf_counter() - start))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--full-run', action='store_true',
                    help='also time a whole default VGDCN fit')
    ap.add_argument('--n-samples', type=int, default=None,
                    help='time on the first N digits only (default: all)')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'epoch_time.md'))
    args = ap.parse_args(argv)
    epochs = 3 if args.quick else args.epochs
    warnings.filterwarnings('ignore')
    x = load_usps().x[:args.n_samples]
    rows = measure(x, epochs, args.full_run)

    vgdcn = dict(rows)['VGDCN joint epoch (full batch)']
    lines = [f'# Epoch times on USPS ({x.shape[0]} x {x.shape[1]})', '',
             f'Command: `python benchmarks/epoch_time.py '
             f'{" ".join(sys.argv[1:] if argv is None else argv)}`  ',
             f'Machine: {platform.processor() or platform.machine()}, '
             f'{os.cpu_count()} cores, {torch.get_num_threads()} threads, '
             f'torch {torch.__version__}; medians of {epochs} epochs.', '',
             '| what | seconds | vs VGDCN epoch |', '| --- | --- | --- |']
    lines += [f'| {name} | {sec:.3f} | {sec / vgdcn:.2f}x |'
              for name, sec in rows]
    text = '\n'.join(lines) + '\n'
    print(text)
    with atomic_write(args.out) as f:
        f.write(text)


if __name__ == '__main__':
    main()
