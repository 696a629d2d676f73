r"""Run by tests/training/test_distributed.py under torchrun: fits VGDCN in
mini-batches on the test blobs and saves this process's result."""
import os
import sys

import torch

from vgdcn_pyg import VGDCN
from vgdcn_pyg.models import VGDCNModel
from vgdcn_pyg.training import distributed

sys.path.insert(0, os.path.dirname(os.path.dirname(__file__)))
from conftest import MINIBATCH, make_blobs  # noqa: E402


def main(out_dir: str):
    # Record the seed nodes of every joint step of this process.
    seeds = []
    loss = VGDCNModel.loss

    def recording(self, batch):
        seeds.append(batch.seeds(batch.n_id).cpu().clone())
        return loss(self, batch)

    VGDCNModel.loss = recording
    x, y = make_blobs(n_per_cluster=60)
    est = VGDCN(n_clusters=3, random_state=0, **MINIBATCH).fit(x)
    torch.save({
        'world_size': distributed.world_size(),
        'rank': distributed.rank(),
        'state_dict': est.model_.state_dict(),
        'labels': est.labels_,
        'history': est.history_,
        'seeds': seeds,
    }, os.path.join(out_dir, f'rank{distributed.rank()}.pt'))
    torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main(sys.argv[1])
