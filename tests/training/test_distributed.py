r"""Two processes under torchrun (Gloo, CPU) train one VGDCN model with
DistributedDataParallel, each on its share of the seed nodes."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import vgdcn_pyg
from vgdcn_pyg import VGDCN
from vgdcn_pyg.evaluation import cluster_accuracy

from ..conftest import MINIBATCH, make_blobs

WORKER = Path(__file__).with_name('ddp_worker.py')

pytestmark = pytest.mark.skipif(
    not torch.distributed.is_available() or
    not torch.distributed.is_gloo_available(),
    reason='needs torch.distributed with Gloo')


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    out = tmp_path_factory.mktemp('ddp')
    package_root = str(Path(vgdcn_pyg.__file__).resolve().parents[1])
    env = dict(os.environ, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join(
                   [package_root, os.environ.get('PYTHONPATH', '')]))
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone',
           '--nproc_per_node', '2', str(WORKER), str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [torch.load(out / f'rank{r}.pt', weights_only=False)
            for r in range(2)]


def test_two_processes_ran(ranks):
    assert [r['rank'] for r in ranks] == [0, 1]
    assert all(r['world_size'] == 2 for r in ranks)


def test_each_process_takes_a_share_of_the_seeds(ranks):
    epochs = MINIBATCH['epochs']
    steps = [len(r['seeds']) for r in ranks]
    # Both do the same number of steps (DDP needs it), a multiple of the
    # epochs.
    assert steps[0] == steps[1] and steps[0] % epochs == 0
    per_epoch = steps[0] // epochs
    for epoch in range(epochs):
        parts = [torch.cat(r['seeds'][epoch * per_epoch:
                                      (epoch + 1) * per_epoch])
                 for r in ranks]
        # 180 samples, 90 seeds each: disjoint halves covering all.
        assert [p.numel() for p in parts] == [90, 90]
        assert torch.equal(torch.cat(parts).sort().values,
                           torch.arange(180))


def test_ranks_hold_the_same_model(ranks):
    first, second = (r['state_dict'] for r in ranks)
    assert first.keys() == second.keys()
    for key in first:
        assert torch.equal(first[key], second[key]), key
    np.testing.assert_array_equal(ranks[0]['labels'], ranks[1]['labels'])
    # The loss history is averaged over both processes' seeds.
    assert ranks[0]['history'] == ranks[1]['history']


def test_two_processes_reach_single_process_quality(ranks):
    x, y = make_blobs(n_per_cluster=60)
    single = VGDCN(n_clusters=3, random_state=0, **MINIBATCH).fit(x)
    acc_single = cluster_accuracy(y, single.labels_)
    acc_ddp = cluster_accuracy(y, ranks[0]['labels'])
    assert acc_ddp > 0.95
    assert abs(acc_ddp - acc_single) <= 0.05
    losses = [h['loss'] for h in ranks[0]['history']]
    assert losses[-1] < losses[0]
