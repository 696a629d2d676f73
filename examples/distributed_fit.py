r"""VGDCN trained in mini-batches on sampled subgraphs, data-parallel over
several processes with ``torchrun`` (DistributedDataParallel; Gloo on CPU,
NCCL on GPUs). Rank 0 pretrains, builds the graph and initialises; every
process then trains on its share of the seed nodes, and rank 0 writes the
result.

One machine, two CPU processes::

    torchrun --standalone --nproc_per_node 2 examples/distributed_fit.py \
        --data mixture --n-samples 100000 --out /tmp/vgdcn-ddp

Two machines with four GPUs each (run on both, HOST being the first)::

    torchrun --nnodes 2 --nproc_per_node 4 --rdzv_backend c10d \
        --rdzv_endpoint HOST:29500 --rdzv_id vgdcn \
        examples/distributed_fit.py --data usps --device cuda --out run/

It runs as a single process too (``python examples/distributed_fit.py``).
"""
import argparse
import os
import time

import numpy as np

from vgdcn_pyg import VGDCN
from vgdcn_pyg.datasets import load_usps, make_gaussian_mixture
from vgdcn_pyg.evaluation import evaluate
from vgdcn_pyg.training import distributed


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--data', choices=['usps', 'mixture'], default='mixture')
    ap.add_argument('--n-samples', type=int, default=100_000,
                    help='samples of the Gaussian mixture (64-D, 20 '
                    'components)')
    ap.add_argument('--batch-size-graph', type=int, default=1024)
    ap.add_argument('--num-neighbors', type=int, nargs='+', default=[-1])
    ap.add_argument('--epochs', type=int, default=None)
    ap.add_argument('--pretrain-epochs', type=int, default=None)
    ap.add_argument('--device', default='cpu')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--out', default=None,
                    help='folder for model.pt and labels.npy (rank 0)')
    args = ap.parse_args(argv)

    if args.data == 'usps':
        data = load_usps()
        x, y, k = data.x, data.y, 10
        widths = dict()
    else:
        x, y = make_gaussian_mixture(args.n_samples, 64, 20,
                                     random_state=args.seed)
        k = 20
        widths = dict(hidden_channels=(64, 64, 128), init='gmm')
    start = time.perf_counter()
    est = VGDCN(n_clusters=k, batch_size_graph=args.batch_size_graph,
                num_neighbors=args.num_neighbors, epochs=args.epochs,
                pretrain_epochs=args.pretrain_epochs, device=args.device,
                random_state=args.seed, **widths).fit(x)
    seconds = time.perf_counter() - start
    # Every rank should hold the same model: the same sum of parameters.
    total = sum(float(p.detach().double().sum())
                for p in est.model_.parameters())
    print(f'rank {distributed.rank()}: fit in {seconds:.1f} s, parameter '
          f'sum {total:.12g}', flush=True)
    if distributed.rank() == 0:
        print(f'{distributed.world_size()} process(es): '
              f'{evaluate(y, est.labels_)}')
        if args.out:
            os.makedirs(args.out, exist_ok=True)
            est.save(os.path.join(args.out, 'model.pt'))
            np.save(os.path.join(args.out, 'labels.npy'), est.labels_)
    if distributed.is_initialized():
        import torch.distributed
        torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main()
