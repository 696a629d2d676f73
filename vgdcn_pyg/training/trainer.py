r"""The training loops: reconstruction pretraining, and one loop for the
joint phase of every model over any source of batches
(:mod:`vgdcn_pyg.training.batches`: the whole graph, row mini-batches or
sampled subgraphs)."""
import contextlib
import random
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional

import numpy as np
import torch
from torch import Tensor
from torch.nn import Module
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from ..models.base import Batch, DeepClusteringModel, LossDict
from . import distributed
from .batches import RowBatches, WholeGraph

History = List[Dict[str, float]]
#: ``after_epoch(epoch, history, optimizer, scheduler)``: called once an
#: epoch is done and recorded (e.g. to write a checkpoint); :obj:`history`
#: holds the epochs of this call, :obj:`scheduler` is :obj:`None` in
#: pretraining.
AfterEpoch = Callable[[int, 'History', torch.optim.Optimizer, Any], None]


def seed_everything(seed: int):
    r"""Seeds Python, NumPy and PyTorch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def autocast(device: torch.device, precision: str = 'fp32'):
    r"""The context the forward passes run in: :obj:`"fp32"` (plain float32)
    or :obj:`"bf16"` (mixed precision: matrix products in bfloat16 with
    float32 accumulation, everything else in float32). On CPUs with AMX or
    AVX-512 BF16 units, bf16 matrix products are several times faster."""
    if precision not in ('fp32', 'bf16'):
        raise ValueError(f"precision must be 'fp32' or 'bf16', got "
                         f"{precision!r}")
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16,
                          enabled=precision == 'bf16')


_flush_depth = 0


@contextlib.contextmanager
def denormals_flushed():
    r"""Runs the block with denormal floats flushed to zero on the CPU
    (:func:`torch.set_flush_denormal`), and switches that off again after
    the outermost such block.

    The clustering terms produce denormal float32 numbers (squared soft
    assignments in the target :math:`P`, mixture responsibilities far from
    a component, small activations just after pretraining), whose
    arithmetic is up to a hundred times slower on x86 CPUs
    (``benchmarks/results/epoch_time.md`` and ``scale_training.md`` show
    the epochs with and without). Values below
    :math:`1.2 \times 10^{-38}` become 0, which no loss term can tell from
    such values.
    """
    global _flush_depth
    supported = torch.set_flush_denormal(True)
    _flush_depth += 1
    try:
        yield
    finally:
        _flush_depth -= 1
        if supported and _flush_depth == 0:
            torch.set_flush_denormal(False)


@denormals_flushed()
def pretrain(model: DeepClusteringModel, x: Tensor, epochs: int = 50,
             batch_size: int = 256, lr: float = 1e-3,
             generator: Optional[torch.Generator] = None,
             progress: bool = True, start_epoch: int = 0,
             optimizer_state: Optional[Dict] = None,
             after_epoch: Optional[AfterEpoch] = None,
             precision: str = 'fp32') -> History:
    r"""Pretrains the auto-encoder of :obj:`model` by mini-batch
    reconstruction (:meth:`DeepClusteringModel.pretrain_loss`) with Adam, in
    the given :obj:`precision` (see :func:`autocast`). Returns the mean loss
    of every epoch from :obj:`start_epoch` on; a resumed run passes the
    checkpoint's :obj:`start_epoch` and Adam :obj:`optimizer_state`."""
    generator = generator or torch.Generator().manual_seed(0)
    batches = RowBatches(x, batch_size, generator)
    params = model.autoencoder.parameters()
    optimizer = torch.optim.Adam(params, lr=lr)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    history: History = []
    model.train()
    bar = tqdm(range(start_epoch, epochs), desc='pretrain',
               disable=not progress, leave=False)
    for epoch in bar:
        total = 0.0
        for batch in batches.epoch(epoch):
            batch = batch.x
            with autocast(x.device, precision):
                loss = sum(model.pretrain_loss(batch).values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total = total + loss.detach().double() * batch.size(0)
        mean = float(total) / x.size(0)  # one device sync per epoch
        if not np.isfinite(mean):
            raise FloatingPointError(
                f'pretraining loss became {mean} at epoch {epoch}; lower the '
                f'learning rate or check the input scaling')
        history.append({'epoch': epoch, 'recon': mean})
        bar.set_postfix(recon=f'{mean:.3f}')
        if after_epoch is not None:
            after_epoch(epoch, history, optimizer, None)
    return history


class Objective(Module):
    r"""A model's loss (or warm-up loss) on a :class:`~vgdcn_pyg.models.Batch`
    as a :meth:`forward` pass, so that
    :class:`~torch.nn.parallel.DistributedDataParallel`, which synchronises
    the gradients of what runs through :meth:`forward`, can wrap it."""
    def __init__(self, model: DeepClusteringModel, warmup: bool = False):
        super().__init__()
        self.model = model
        self.warmup = warmup

    def forward(self, batch: Batch) -> LossDict:
        if self.warmup:
            return self.model.warmup_loss(batch)
        return self.model.loss(batch)


def _objective(model: DeepClusteringModel, batches: WholeGraph,
               warmup: bool = False) -> Module:
    objective = Objective(model, warmup)
    if not batches.parallel:
        return objective
    device = batches.whole.x.device
    # The warm-up leaves the encoder and the prior without gradients, which
    # DDP must be told.
    return DistributedDataParallel(
        objective, device_ids=[device] if device.type == 'cuda' else None,
        find_unused_parameters=warmup)


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
        keys = list(self.sums)
        totals = torch.stack([self.sums[k] for k in keys] + [
            torch.tensor(float(self.seen), dtype=torch.float64,
                         device=device)])
        if parallel:
            distributed.all_reduce_sum(totals)
        totals = totals.tolist()
        return {k: v / totals[-1] for k, v in zip(keys, totals)}


def _optimizer_steps(objective: Module, optimizer, batches: Iterable[Batch],
                     num_batches: int, accumulate: bool, num_seeds: int,
                     precision: str, on_batch: Optional[Callable] = None,
                     max_steps: Optional[int] = None) -> int:
    r"""One pass over :obj:`batches`: an optimizer step after every batch,
    at most :obj:`max_steps` of them, or with :obj:`accumulate` one step
    from the gradients of all batches, each batch's (mean) loss weighted by
    its share :math:`|B| / N` of the :obj:`num_seeds` seeds so that the sum
    is the gradient of the mean over all seeds (under DDP all-reduced once,
    with the last batch). Returns the number of steps taken."""
    steps = 0
    if accumulate:
        optimizer.zero_grad()
    for i, batch in enumerate(batches):
        device = batch.x.device
        last = not accumulate or i == num_batches - 1
        sync = last or not hasattr(objective, 'no_sync')
        with contextlib.nullcontext() if sync else objective.no_sync():
            with autocast(device, precision):
                terms = objective(batch)
            loss = sum(terms.values())
            if accumulate:
                (loss * (batch.seed_count / num_seeds)).backward()
            else:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                steps += 1
        if on_batch is not None:
            on_batch(terms, batch.seed_count)
        if max_steps is not None and steps == max_steps:
            break
    if accumulate:
        optimizer.step()
        steps = 1
    return steps


def warmup(model: DeepClusteringModel, batches: WholeGraph, steps: int,
           lr: float, accumulate: bool = False, progress: bool = True,
           precision: str = 'fp32'):
    r"""Steps on :meth:`warmup_loss` that update the GCN branch only (the
    auto-encoder and the mixture stay as initialised). With
    :obj:`accumulate`, each step is a pass over all batches (on sampled
    subgraphs, the full-batch step); else one batch is one step."""
    objective = _objective(model, batches, warmup=True)
    optimizer = torch.optim.Adam(model.gcn.parameters(), lr=lr)
    model.train()
    bar = tqdm(total=steps, desc='warm-up', disable=not progress,
               leave=False)
    done, cycle = 0, 0
    with bar:
        while done < steps:
            # Warm-up passes are numbered apart from the epochs so that the
            # distributed shuffles differ.
            taken = _optimizer_steps(objective, optimizer,
                                     batches.epoch(10**6 + cycle),
                                     batches.num_batches, accumulate,
                                     batches.num_seeds, precision,
                                     max_steps=steps - done)
            done += taken
            bar.update(taken)
            cycle += 1


def _refresh_target(model: DeepClusteringModel, batches: WholeGraph,
                    epoch: int, update_interval: int):
    # Counted from epoch 0: a resumed run refreshes when the uninterrupted
    # one would (the target itself is restored).
    if epoch % update_interval and getattr(model, 'target', ...) is not None:
        return
    if model.refreshes_target_in_loss and batches.num_batches == 1 and \
            batches.inference_batch_size is None:
        model.schedule_target_refresh()
    else:
        model.eval()
        model.update_target(batches.whole, batches.inference_batch_size)


def _step_decay(optimizer, decay: float, every: int, start_epoch: int,
                state: Optional[Dict]):
    # The thesis decays the learning rate by 10% every 10 epochs.
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, every, gamma=decay)
    if state is not None:
        scheduler.load_state_dict(state)
    else:
        for _ in range(start_epoch):
            scheduler.step()
    return scheduler


@denormals_flushed()
def train(
    model: DeepClusteringModel,
    batches: WholeGraph,
    epochs: int = 50,
    lr: float = 1e-3,
    lr_decay: float = 0.9,
    decay_every: int = 10,
    update_interval: int = 1,
    accumulate: bool = False,
    warmup_steps: int = 0,
    precision: str = 'fp32',
    progress: bool = True,
    on_epoch_end: Optional[Callable[[int], Dict[str, float]]] = None,
    after_epoch: Optional[AfterEpoch] = None,
    start_epoch: int = 0,
    optimizer: Optional[torch.optim.Optimizer] = None,
    scheduler_state: Optional[Dict] = None,
) -> History:
    r"""The joint phase of every model: minimises
    :meth:`DeepClusteringModel.loss` over the :obj:`batches` of each epoch
    (:mod:`~vgdcn_pyg.training.batches`; full batch is the one-batch case)
    with Adam, the learning rate decayed by :obj:`lr_decay` every
    :obj:`decay_every` epochs. The target is refreshed every
    :obj:`update_interval` epochs (on :obj:`batches.whole`, or inside the
    next loss where the model can and the batch is the whole graph).
    :obj:`accumulate`: one optimizer step per epoch from the gradients of
    all its batches, not one per batch. Models with a
    :meth:`warmup_loss` first get :obj:`warmup_steps` steps of
    :func:`warmup`. :obj:`precision` is that of the forward passes (see
    :func:`autocast`). :obj:`on_epoch_end(epoch)` may return extra numbers
    for the history (metrics, which must never choose anything);
    :obj:`after_epoch` (see :data:`AfterEpoch`) may write a checkpoint.

    A resumed run passes :obj:`start_epoch`, the restored :obj:`optimizer`
    and :obj:`scheduler_state` (the model's training state restored by
    :meth:`~DeepClusteringModel.load_training_state`, the batches' by their
    :meth:`load_state_dict`); the warm-up then does not run again.

    Returns one record per epoch: the mean of every loss term over the
    epoch's seeds (of all processes), :obj:`loss`, their sum, and
    :obj:`clusters`, the number of clusters that are the arg-max of at least
    one sample (a :class:`RuntimeWarning` the first time it drops below
    :math:`K`). Raises :class:`FloatingPointError` on a NaN/inf loss.
    """
    if model.requires_graph and batches.whole.edge_index is None:
        raise ValueError(f'{model.__class__.__name__} needs a graph')
    if warmup_steps > 0 and start_epoch == 0 and hasattr(model,
                                                          'warmup_loss'):
        warmup(model, batches, warmup_steps, lr, accumulate, progress,
               precision)
    objective = _objective(model, batches)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = _step_decay(optimizer, lr_decay, decay_every, start_epoch,
                            scheduler_state)
    history: History = []
    bar = tqdm(range(start_epoch, epochs), desc='train', disable=not progress,
               leave=False)
    for epoch in bar:
        _refresh_target(model, batches, epoch, update_interval)
        model.train()
        means = _EpochTermMeans()
        epoch_batches = tqdm(batches.epoch(epoch), desc=f'epoch {epoch}',
                             total=batches.num_batches, leave=False,
                             disable=not progress or batches.num_batches < 2)
        _optimizer_steps(objective, optimizer, epoch_batches,
                         batches.num_batches, accumulate, batches.num_seeds,
                         precision, means.add)
        scheduler.step()
        record = _record(model, batches, epoch, means,
                         warn=all(r['clusters'] == model.num_clusters
                                  for r in history))
        if on_epoch_end is not None:
            record.update(on_epoch_end(epoch))
        history.append(record)
        bar.set_postfix(loss=f'{record["loss"]:.3f}')
        if after_epoch is not None:
            after_epoch(epoch, history, optimizer, scheduler)
    return history


def _record(model: DeepClusteringModel, batches: WholeGraph, epoch: int,
            means: _EpochTermMeans, warn: bool) -> Dict[str, float]:
    terms = means.result(batches.whole.x.device, batches.parallel)
    record = {'epoch': epoch, **terms, 'loss': sum(terms.values())}
    if not np.isfinite(record['loss']):
        raise FloatingPointError(
            f'loss became {record["loss"]} at epoch {epoch}; lower the '
            f'learning rate or check the input scaling')
    record['clusters'] = used = clusters_used(model, batches.whole,
                                              batches.inference_batch_size)
    if used < model.num_clusters and warn:
        warnings.warn(f'epoch {epoch}: only {used} of {model.num_clusters} '
                      f'clusters are used (the clustering is collapsing)',
                      RuntimeWarning)
    return record


@torch.no_grad()
def clusters_used(model: DeepClusteringModel, batch: Batch,
                  inference_batch_size: Optional[int] = None) -> int:
    r"""Number of clusters that are the arg-max of at least one sample: of
    the model's self-training target :math:`P` when it has one (already
    computed, free), else of its :meth:`predict_proba` on the whole data set
    :obj:`batch` (one forward pass in eval mode, no randomness)."""
    assignment = getattr(model, 'target', None)
    if not torch.is_tensor(assignment):
        was_training = model.training
        model.eval()
        assignment = model.predict_proba(batch.x, batch.edge_index,
                                         batch.edge_weight,
                                         inference_batch_size)
        model.train(was_training)
    return int(assignment.argmax(-1).unique().numel())
