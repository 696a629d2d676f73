r"""The few :mod:`torch.distributed` facts the training code needs: whether
it runs in several processes (e.g. under :obj:`torchrun`), which one this
is, and setting up the process group from :obj:`torchrun`'s environment."""
import datetime
import os
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

#: How long a process waits for the others in a collective call. Rank 0
#: pretrains, builds the graph and initialises alone while the others wait
#: for the result, which takes far longer than the default 30 minutes on
#: large data sets.
TIMEOUT = datetime.timedelta(hours=12)


def is_initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def world_size() -> int:
    r"""Number of processes: that of the process group if one is set up,
    else :obj:`WORLD_SIZE` from the environment (set by :obj:`torchrun`),
    else 1."""
    if is_initialized():
        return dist.get_world_size()
    return int(os.environ.get('WORLD_SIZE', '1'))


def rank() -> int:
    r"""This process's rank (0 when not distributed)."""
    if is_initialized():
        return dist.get_rank()
    return int(os.environ.get('RANK', '0'))


def local_rank() -> int:
    r"""This process's rank on its machine (:obj:`LOCAL_RANK`), which picks
    its GPU."""
    return int(os.environ.get('LOCAL_RANK', '0'))


def init_process_group(device: torch.device) -> bool:
    r"""Sets up the default process group from the environment that
    :obj:`torchrun` provides (:obj:`MASTER_ADDR`, :obj:`MASTER_PORT`,
    :obj:`RANK`, :obj:`WORLD_SIZE`), with the NCCL back end on CUDA and Gloo
    on CPU. Does nothing if a group exists or a single process runs.
    Returns whether the processes now form a group of more than one."""
    if not is_initialized() and world_size() > 1:
        if device.type == 'cuda':
            torch.cuda.set_device(device)
        dist.init_process_group('nccl' if device.type == 'cuda' else 'gloo',
                                timeout=TIMEOUT)
    return is_initialized() and dist.get_world_size() > 1


def broadcast_object(obj: Any, src: int = 0) -> Any:
    r"""Returns :obj:`obj` of rank :obj:`src` in every process (pickled;
    for one-off transfers such as an initialised model)."""
    holder = [obj]
    dist.broadcast_object_list(holder, src=src)
    return holder[0]


def all_reduce_sum(tensor: Tensor) -> Tensor:
    r"""Sums :obj:`tensor` over the processes, in place, and returns it."""
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return tensor
