r"""Time of one full-batch training epoch on USPS, and of a whole run.

Measures the median wall time of VGDCN's and SDCN's joint epochs (forward,
backward, Adam step, target refresh; VGDCN also in bf16 mixed precision) on
all 9298 USPS digits, the
pretraining epoch, the graph build, and an emulation of the thesis author's
epoch (its VAE runs forward four times per epoch and its GCN layers
normalise and scatter over the edge list on every call).

    python benchmarks/epoch_time.py            # 10 epochs each
    python benchmarks/epoch_time.py --quick    # 3 epochs each
"""
import argparse
import os
import platform
import statistics
import sys
import time
import warnings

import torch

from vgdcn_pyg.cluster import DeepClustering
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.graph import knn_heat_kernel_graph
from vgdcn_pyg.io import atomic_write
from vgdcn_pyg.models import SDCNModel, VGDCNModel
from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.training.trainer import (autocast, denormals_flushed,
                                        pretrain)
from torch_geometric.nn import GCNConv


@denormals_flushed()  # as the trainer runs
def _median_epoch(model, x, ei, ew, epochs, precision='fp32'):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for _ in range(epochs + 1):
        start = time.perf_counter()
        if model.refreshes_target_in_loss:  # as the trainer does
            model.schedule_target_refresh()
        else:
            model.eval()
            model.update_target(x, ei, ew)
        model.train()
        with autocast(x.device, precision):
            loss = sum(model.loss(x, ei, ew).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # the first one warms caches


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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=10)
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--full-run', action='store_true',
                    help='also time a whole default VGDCN fit')
    ap.add_argument('--out', default=os.path.join(
        os.path.dirname(__file__), 'results', 'epoch_time.md'))
    args = ap.parse_args(argv)
    epochs = 3 if args.quick else args.epochs
    warnings.filterwarnings('ignore')
    torch.manual_seed(0)
    data = load_usps()
    x = torch.from_numpy(data.x)
    rows = []

    ae = DeepAutoEncoder(x.size(1))
    net = VGDCNModel(ae, 10)
    start = time.perf_counter()
    pretrain(net, x, epochs=2, progress=False)
    rows.append(('pretraining epoch (mini-batches of 256)',
                 (time.perf_counter() - start) / 2))
    z = net.embed(x)
    start = time.perf_counter()
    g = knn_heat_kernel_graph(z, k=10)
    rows.append(('kNN graph, latent space, M = 10',
                 time.perf_counter() - start))
    net.init_clusters(z.double().numpy(), 0, g.edge_index, g.edge_weight)
    rows.append(('VGDCN joint epoch (full batch)',
                 _median_epoch(net, x, g.edge_index, g.edge_weight, epochs)))
    rows.append(('VGDCN joint epoch, precision="bf16"',
                 _median_epoch(net, x, g.edge_index, g.edge_weight, epochs,
                               'bf16')))
    g3 = knn_heat_kernel_graph(x, k=3)
    sdcn = SDCNModel(DeepAutoEncoder(x.size(1), variational=False), 10)
    sdcn.init_clusters(sdcn.embed(x).double().numpy(), 0)
    rows.append(('SDCN joint epoch (full batch)',
                 _median_epoch(sdcn, x, g3.edge_index, g3.edge_weight,
                               epochs)))
    ref = _reference_epoch(x, g3.edge_index, max(2, epochs // 2))
    rows.append(("thesis author's epoch, emulated", ref))
    if args.full_run:
        start = time.perf_counter()
        DeepClustering(n_clusters=10, random_state=0,
                       verbose=False).fit(data.x)
        rows.append(('whole default VGDCN fit (pretrain + graph + init + '
                     'train)', time.perf_counter() - start))

    vgdcn = rows[2][1]
    lines = ['# Epoch times on USPS (9298 x 256)', '',
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
