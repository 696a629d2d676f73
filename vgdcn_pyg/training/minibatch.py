r"""Mini-batch training of VGDCN on sampled subgraphs, for graphs too large
for a full-batch step, optionally data-parallel over several processes.

Every epoch visits each node once as a *seed*: batches of seeds come with
their sampled induced subgraphs (:func:`~vgdcn_pyg.graph.sampling.
neighbor_loader`, full-graph edge weights), and the model's objective is
evaluated on the seeds only (:meth:`~vgdcn_pyg.models.VGDCNModel.
subgraph_loss`, :math:`P` indexed by the seeds' global ids).

By default (:obj:`update="epoch"`) the gradients of an epoch's batches are
accumulated, each batch weighted by its share of the seeds, and Adam takes
one step per epoch: with subgraphs that hold each seed's whole receptive
field this is the gradient of the full-batch objective, so mini-batch
training follows the full-batch run's dynamics (same learning rate, same
schedule) with the memory of one subgraph. :obj:`update="batch"` steps after
every batch instead: more progress per epoch, but at the full-batch
learning rate it moves the pretrained model about as far in one epoch as
full batch does in ten, and on USPS it lost the initial partition
(``benchmarks/results/minibatch_usps_h200.md``: 43.5% ACC against 89.2%). The target
:math:`P` is refreshed every :obj:`update_interval` epochs from a full
inference pass done layer by layer in row batches
(:meth:`~vgdcn_pyg.models.VGDCNModel.update_target_batched`), so the
autograd graph never spans more than one subgraph.

Under :obj:`torchrun` (a process group of several processes), the model is
wrapped in :class:`~torch.nn.parallel.DistributedDataParallel` and a
:class:`~torch.utils.data.distributed.DistributedSampler` gives each process
its share of the seed nodes; DDP averages the gradients, so all processes
hold the same model after every step. The target refresh is computed by
every process (it is a small part of an epoch).
"""
import contextlib
from typing import Callable, Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import Module
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data.distributed import DistributedSampler
from tqdm.auto import tqdm

from ..graph.sampling import (neighbor_loader, normalized_graph,
                              subgraph_adjacency, subgraph_row_scale)
from ..models.base import DeepClusteringModel, LossDict
from ..nn import FusedGCN
from . import distributed
from .trainer import History, denormals_flushed

#: Rows per batch of the inference pass that refreshes the target, unless
#: the caller sets :obj:`inference_batch_size`.
DEFAULT_INFERENCE_BATCH_SIZE = 8192


class SubgraphObjective(Module):
    r"""The model's loss on one sampled subgraph as a :meth:`forward` pass,
    so that :class:`~torch.nn.parallel.DistributedDataParallel`, which
    synchronises the gradients of what runs through :meth:`forward`, can
    wrap it.

    Args:
        model (DeepClusteringModel): A model with :meth:`subgraph_loss` (and
            :meth:`subgraph_warmup_loss` for the warm-up).
    """
    def __init__(self, model: DeepClusteringModel):
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, adj_t: Tensor, n_id: Tensor,
                num_seeds: int, warmup: bool = False,
                row_scale: Optional[Tensor] = None) -> LossDict:
        if warmup:
            return self.model.subgraph_warmup_loss(x, adj_t, n_id, num_seeds,
                                                   row_scale)
        return self.model.subgraph_loss(x, adj_t, n_id, num_seeds,
                                        row_scale)


def supports_minibatch(model: DeepClusteringModel) -> bool:
    r"""Whether :obj:`model` can be trained by :func:`train_minibatch`."""
    return all(hasattr(model, name) for name in
               ('subgraph_loss', 'update_target_batched'))


def _step(objective: Module, optimizer, batch, device,
           warmup: bool = False) -> LossDict:
    batch = batch.to(device)
    terms = objective(batch.x, subgraph_adjacency(batch), batch.n_id,
                      int(batch.batch_size), warmup,
                      subgraph_row_scale(batch))
    loss = sum(terms.values())
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return terms


def _accumulated_step(objective: Module, optimizer, loader, device,
                      num_seeds_total: int, warmup: bool = False,
                      on_batch: Optional[Callable] = None):
    r"""One optimizer step from the gradients of every batch of
    :obj:`loader`, each batch's (mean) loss weighted by its share
    :math:`|B| / N` of the :obj:`num_seeds_total` seeds, so that the sum is
    the gradient of the mean over all seeds. Under DDP the gradients are
    all-reduced once, with the last batch."""
    optimizer.zero_grad()
    num_batches = len(loader)
    for i, batch in enumerate(loader):
        batch = batch.to(device)
        num_seeds = int(batch.batch_size)
        sync = i == num_batches - 1 or not hasattr(objective, 'no_sync')
        with contextlib.nullcontext() if sync else objective.no_sync():
            terms = objective(batch.x, subgraph_adjacency(batch), batch.n_id,
                              num_seeds, warmup, subgraph_row_scale(batch))
            (sum(terms.values()) * (num_seeds / num_seeds_total)).backward()
        if on_batch is not None:
            on_batch(terms, num_seeds)
    optimizer.step()


def train_minibatch(
    model: DeepClusteringModel,
    x: Tensor,
    edge_index: Tensor,
    edge_weight: Optional[Tensor],
    num_neighbors: Sequence[int] = (-1, ),
    batch_size: int = 1024,
    epochs: int = 50,
    lr: float = 1e-3,
    lr_decay: float = 0.9,
    decay_every: int = 10,
    update_interval: int = 1,
    warmup_steps: int = 0,
    inference_batch_size: Optional[int] = None,
    seed: int = 0,
    progress: bool = True,
    on_epoch_end: Optional[Callable[[int], Dict[str, float]]] = None,
    update: str = 'epoch',
) -> History:
    r"""Trains a graph model (VGDCN) on mini-batches of :obj:`batch_size`
    seed nodes with their sampled subgraphs (see the module docstring),
    with Adam and the step decay of :func:`~vgdcn_pyg.training.train_joint`.

    Models with :meth:`subgraph_warmup_loss` first get :obj:`warmup_steps`
    steps of it (the GCN branch alone; with :obj:`update="epoch"` each step
    is a pass over all batches, as a full-batch warm-up step). Distributed training
    starts by itself when a process group of several processes is set up
    (see :func:`vgdcn_pyg.training.distributed.init_process_group`).

    Args:
        model (DeepClusteringModel): The initialised model
            (:meth:`~DeepClusteringModel.init_clusters` done), on the device
            of :obj:`x`.
        x (Tensor): Features of all :math:`N` nodes.
        edge_index (Tensor): The kNN graph (both directions).
        edge_weight (Tensor, optional): Its heat-kernel weights.
        num_neighbors (Sequence[int]): Neighbours sampled per hop, :obj:`-1`
            for all. (default: :obj:`(-1,)`, each seed's complete
            neighbourhood)
        batch_size (int): Seed nodes per step, per process.
        inference_batch_size (int, optional): Rows per batch of the target
            refresh. (default: :data:`DEFAULT_INFERENCE_BATCH_SIZE`)
        seed (int): Seed of the shuffling and neighbour sampling.
        on_epoch_end (callable, optional): As in
            :func:`~vgdcn_pyg.training.train_joint`.
        update (str): :obj:`"epoch"`: one optimizer step per epoch from the
            gradients accumulated over its batches (the full-batch
            dynamics); :obj:`"batch"`: a step after every batch (see the
            module docstring). (default: :obj:`"epoch"`)

    Returns:
        list: one record per epoch with the mean of every loss term over the
        epoch's seeds (of all processes) and :obj:`loss`, their sum.

    Training runs with denormal numbers flushed to zero (see
    :func:`~vgdcn_pyg.training.trainer.denormals_flushed`).
    """
    with denormals_flushed():
        return _train_minibatch(
            model, x, edge_index, edge_weight, num_neighbors, batch_size,
            epochs, lr, lr_decay, decay_every, update_interval, warmup_steps,
            inference_batch_size, seed, progress, on_epoch_end, update)


class _EpochTermMeans:
    r"""The loss terms of one epoch, averaged over its seed nodes (each
    batch weighted by its number of seeds) and, under DDP, over all
    processes: one all-reduce and one device sync per epoch."""

    def __init__(self):
        self.sums: Dict[str, Tensor] = {}
        self.seen = 0

    def add(self, terms: LossDict, num_seeds: int):
        self.seen += num_seeds
        for key, value in terms.items():
            self.sums[key] = self.sums.get(key, 0.0) + \
                value.detach().double() * num_seeds

    def result(self, device, parallel: bool) -> Dict[str, float]:
        keys = sorted(self.sums)
        totals = torch.stack([self.sums[k] for k in keys] + [
            torch.tensor(float(self.seen), dtype=torch.float64,
                         device=device)])
        if parallel:
            distributed.all_reduce_sum(totals)
        totals = totals.tolist()
        return {k: v / totals[-1] for k, v in zip(keys, totals)}


def _train_minibatch(model, x, edge_index, edge_weight, num_neighbors,
                     batch_size, epochs, lr, lr_decay, decay_every,
                     update_interval, warmup_steps, inference_batch_size,
                     seed, progress, on_epoch_end, update) -> History:
    if not supports_minibatch(model):
        raise ValueError(f'{model.__class__.__name__} cannot be trained on '
                         f'sampled subgraphs')
    if update not in ('epoch', 'batch'):
        raise ValueError(f"update must be 'epoch' or 'batch', got "
                         f"{update!r}")
    device = x.device
    num_nodes = x.size(0)
    inference_batch_size = int(inference_batch_size or
                               DEFAULT_INFERENCE_BATCH_SIZE)
    parallel = distributed.is_initialized() and \
        distributed.world_size() > 1
    rank = distributed.rank() if parallel else 0

    # Sampling runs on the CPU; batches move to the device one by one.
    graph = normalized_graph(edge_index.cpu(), None if edge_weight is None
                             else edge_weight.cpu(), num_nodes, x=x.cpu())
    adj_t = FusedGCN.normalized_adjacency(edge_index, edge_weight, num_nodes)
    generator = torch.Generator().manual_seed(seed + 1_000_003 * rank)
    seed_sampler = None
    if parallel:
        seed_sampler = DistributedSampler(range(num_nodes), shuffle=True,
                                          seed=seed)
        loader = neighbor_loader(graph, num_neighbors, batch_size,
                                 generator=generator, sampler=seed_sampler)
    else:
        loader = neighbor_loader(graph, num_neighbors, batch_size,
                                 generator=generator, shuffle=True)

    def wrap(find_unused_parameters: bool = False) -> Module:
        objective = SubgraphObjective(model)
        if not parallel:
            return objective
        return DistributedDataParallel(
            objective, device_ids=[device] if device.type == 'cuda' else None,
            find_unused_parameters=find_unused_parameters)

    def batches(epoch: int):
        if seed_sampler is not None:
            seed_sampler.set_epoch(epoch)
        return loader

    # Seeds this process visits per pass (DistributedSampler pads the ranks
    # to equal shares; DDP then averages the ranks' gradients).
    local_seeds = len(seed_sampler) if seed_sampler is not None \
        else num_nodes

    if warmup_steps > 0 and hasattr(model, 'subgraph_warmup_loss'):
        # The warm-up leaves the encoder and the prior without gradients,
        # which DDP must be told.
        objective = wrap(find_unused_parameters=True)
        warm_optimizer = torch.optim.Adam(model.gcn.parameters(), lr=lr)
        model.train()
        bar = tqdm(total=warmup_steps, desc='warm-up', leave=False,
                   disable=not progress)
        step, cycle = 0, 0
        while step < warmup_steps:
            # Warm-up passes are numbered apart from the epochs so that the
            # distributed shuffles differ.
            if update == 'epoch':
                _accumulated_step(objective, warm_optimizer,
                                  batches(10**6 + cycle), device,
                                  local_seeds, warmup=True)
                step += 1
                bar.update()
                cycle += 1
                continue
            for batch in batches(10**6 + cycle):
                _step(objective, warm_optimizer, batch, device, warmup=True)
                step += 1
                bar.update()
                if step == warmup_steps:
                    break
            cycle += 1
        bar.close()
        del objective

    objective = wrap()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    # The step decay of train_joint (the thesis's 10% every 10 epochs).
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, decay_every,
                                                gamma=lr_decay)
    history: History = []
    bar = tqdm(range(epochs), desc='train', disable=not progress,
               leave=False)
    for epoch in bar:
        if epoch % update_interval == 0:
            model.eval()
            model.update_target_batched(x, adj_t, inference_batch_size)
        model.train()
        means = _EpochTermMeans()
        loader_bar = tqdm(batches(epoch), desc=f'epoch {epoch}', leave=False,
                          disable=not progress)
        if update == 'epoch':
            _accumulated_step(objective, optimizer, loader_bar, device,
                              local_seeds, on_batch=means.add)
        else:
            for batch in loader_bar:
                means.add(_step(objective, optimizer, batch, device),
                          int(batch.batch_size))
        scheduler.step()
        terms = means.result(device, parallel)
        record = {'epoch': epoch, **terms, 'loss': sum(terms.values())}
        if not np.isfinite(record['loss']):
            raise FloatingPointError(
                f'loss became {record["loss"]} at epoch {epoch}; lower the '
                f'learning rate or check the input scaling')
        if on_epoch_end is not None:
            record.update(on_epoch_end(epoch))
        history.append(record)
        bar.set_postfix(loss=f'{record["loss"]:.3f}')
    return history
