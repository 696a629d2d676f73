r"""The training loops: reconstruction pretraining, and one loop for the
joint phase of every model over any source of batches
(:mod:`vgdcn_pyg.training.batches`: the whole graph, row mini-batches or
sampled subgraphs)."""
import contextlib
import functools
import math
import random
import warnings
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.nn import Module
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from ..models.base import Batch, DeepClusteringModel, LossDict
from . import distributed
from .batches import WARMUP_EPOCH_OFFSET, RowBatches, WholeGraph

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


#: The precisions of the training loops (see :func:`autocast`).
PRECISIONS = ('auto', 'fp32', 'bf16')


@functools.lru_cache(maxsize=None)
def cpu_computes_bf16() -> bool:
    r"""Whether this CPU has bfloat16 dot-product instructions (AVX-512
    BF16 or AMX-BF16) for oneDNN's matrix products; without them a bf16
    product is emulated and no faster than float32. Read once per process:
    :func:`autocast` with :obj:`"auto"` asks at every step."""
    try:
        capability = torch._C._cpu._get_cpu_capability()
    except (AttributeError, RuntimeError):  # another torch: assume not
        return False
    return torch.backends.mkldnn.is_available() and bool(
        capability.get('avx512_bf16') or capability.get('amx_bf16'))


def resolve_precision(precision: str, device) -> str:
    r"""Maps :obj:`precision` to :obj:`"fp32"` or :obj:`"bf16"`:
    :obj:`"auto"` is :obj:`"bf16"` on a CPU that computes bfloat16 products
    natively (:func:`cpu_computes_bf16`) and :obj:`"fp32"` elsewhere
    (CUDA included, where float32 was measured)."""
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    if precision != 'auto':
        return precision
    cpu = torch.device(device).type == 'cpu'
    return 'bf16' if cpu and cpu_computes_bf16() else 'fp32'


def autocast(device: torch.device, precision: str = 'fp32'):
    r"""The context the forward passes run in: :obj:`"fp32"` (plain float32)
    or :obj:`"bf16"` (mixed precision: matrix products in bfloat16 with
    float32 accumulation, everything else in float32), or :obj:`"auto"`
    (:func:`resolve_precision`). On CPUs with AMX or AVX-512 BF16 units,
    bf16 matrix products are several times faster."""
    precision = resolve_precision(precision, device)
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


#: Implementations of Adam (see :func:`make_adam`).
ADAM_IMPLEMENTATIONS = ('auto', 'fused', 'foreach', 'for-loop')


def make_adam(params, lr: float, implementation: str = 'auto',
              lr_warmup: int = 0):
    r"""Adam with the chosen implementation, all computing the same update:
    :obj:`"fused"` (one kernel over all parameters, on the CPU and on
    CUDA), :obj:`"foreach"` (batched tensor operations) or
    :obj:`"for-loop"` (one parameter at a time, PyTorch's default on the
    CPU, which spends most of a small network's step in per-tensor
    overhead). :obj:`"auto"` is :obj:`"fused"`.

    With :obj:`lr_warmup` :math:`W > 0`, step :math:`t = 1, 2, \dots` uses
    the learning rate :math:`\min(1, t / W)` times the scheduled one
    (`Goyal et al., 2017 <https://arxiv.org/abs/1706.02677>`_). A fresh
    Adam's first steps move every weight by about the full learning rate,
    whatever the gradient's scale; on a pretrained network that is a shock
    that can undo the initial partition (see ``docs/method.rst``).
    :math:`t` is read from Adam's own step count, so an optimizer restored
    from a checkpoint continues the ramp."""
    if implementation not in ADAM_IMPLEMENTATIONS:
        raise ValueError(f'implementation must be one of '
                         f'{ADAM_IMPLEMENTATIONS}, got {implementation!r}')
    if lr_warmup < 0:
        raise ValueError(f'lr_warmup must be >= 0, got {lr_warmup}')
    if implementation in ('auto', 'fused'):
        optimizer = torch.optim.Adam(params, lr=lr, fused=True)
    else:
        optimizer = torch.optim.Adam(params, lr=lr,
                                     foreach=implementation == 'foreach')
    if lr_warmup > 0:
        _add_lr_warmup(optimizer, lr_warmup)
    return optimizer


def _add_lr_warmup(optimizer: torch.optim.Optimizer, steps: int):
    # Scales the learning rate for the step only and restores it after, so
    # a scheduler keeps owning the group's 'lr'.
    scheduled: List[float] = []

    def before(opt, args, kwargs):
        done = max((int(state['step']) for state in opt.state.values()
                    if 'step' in state), default=0)
        factor = min(1.0, (done + 1) / steps)
        scheduled[:] = [group['lr'] for group in opt.param_groups]
        for group in opt.param_groups:
            group['lr'] = group['lr'] * factor

    def after(opt, args, kwargs):
        for group, lr in zip(opt.param_groups, scheduled):
            group['lr'] = lr

    optimizer.register_step_pre_hook(before)
    optimizer.register_step_post_hook(after)


#: Least number of mini-batch steps of the default pretraining (the
#: estimators' :obj:`pretrain_steps`).
MIN_PRETRAIN_STEPS = 1800
#: The default pretraining also runs at least one epoch per this many of
#: those steps, so that a large data set gets as many epochs as USPS (37
#: batches of 256) gets.
STEPS_PER_PRETRAIN_EPOCH = 36
#: The smallest default pretraining batch
#: (:func:`default_pretrain_batch_size`).
MIN_PRETRAIN_BATCH = 64


def default_pretrain_batch_size(n_samples: int, batch_size: int) -> int:
    r"""The default pretraining mini-batch size on :obj:`n_samples`
    samples: the power of two that gives at least
    :data:`STEPS_PER_PRETRAIN_EPOCH` batches an epoch, within
    :data:`MIN_PRETRAIN_BATCH` and :obj:`batch_size` (:math:`B_{\max}`),

    .. math::
        B = \min\left(B_{\max}, \max\left(64,
        2^{\lfloor \log_2 (N / 36) \rfloor}\right)\right),

    and :obj:`batch_size` (full-batch steps) where that holds all
    :math:`N` samples. On small data the default
    :obj:`MIN_PRETRAIN_STEPS` steps in batches of 64 cost a quarter of the
    sample passes of batches of 256, for whole fits of about the same
    quality on the development suite
    (``benchmarks/results/ablation_pretrain_batch.md``). Data with
    :math:`N \geq 36 \cdot 256` (USPS) keep batches of 256. Data of one
    batch keep full-batch steps: on 200 samples in 20 clusters, batches of
    64 (the last of 8) left empty clusters in more fits (same file)."""
    if n_samples <= batch_size:
        return batch_size
    per_epoch = n_samples / STEPS_PER_PRETRAIN_EPOCH
    power = 2 ** int(math.log2(per_epoch)) if per_epoch >= 1 else 1
    return min(batch_size, max(MIN_PRETRAIN_BATCH, power))


def default_pretrain_epochs(n_samples: int, batch_size: int,
                            steps: int = MIN_PRETRAIN_STEPS) -> int:
    r"""The default upper bound of the pretraining epochs: enough for at
    least :obj:`steps` mini-batch steps, and at least
    :obj:`steps` / :data:`STEPS_PER_PRETRAIN_EPOCH` epochs,

    .. math::
        E = \max\left(\left\lceil \frac{S}{36} \right\rceil,
        \left\lceil \frac{S}{\lceil N / B \rceil} \right\rceil\right),

    so the steps grow with :math:`N` once a data set has more than 36
    batches. Half of the default :math:`S` (:obj:`steps=900`) is faster; on
    the development suite its whole fits score lower on the suite mean,
    most on USPS and COIL-20 (``benchmarks/results/ablation.md``), so the
    default stays. The reconstruction-loss stop
    (:func:`reconstruction_converged`) gave worse partitions, badly on
    ISOLET. Too few steps also left DEC on the 598 Flavia leaves with one
    cluster."""
    steps_per_epoch = math.ceil(n_samples / batch_size)
    return max(math.ceil(steps / STEPS_PER_PRETRAIN_EPOCH),
               math.ceil(steps / steps_per_epoch))


def reconstruction_converged(history: Sequence[Dict[str, float]],
                             tol: float, window: int = 5) -> bool:
    r"""Whether pretraining stopped improving: the mean reconstruction loss
    of the last :obj:`window` epochs is less than a fraction :obj:`tol` per
    epoch below that of the :obj:`window` epochs before,

    .. math::
        \frac{\bar L_{\mathrm{before}} - \bar L_{\mathrm{last}}}
        {\mathrm{window}\cdot|\bar L_{\mathrm{before}}|} < \mathrm{tol}.

    Means over windows, because an epoch's loss is a noisy mini-batch
    average. :obj:`tol` :math:`\le 0` never stops."""
    if tol <= 0 or len(history) < 2 * window:
        return False
    losses = [h['recon'] for h in history[-2 * window:]]
    before = sum(losses[:window]) / window
    last = sum(losses[window:]) / window
    return (before - last) / (window * abs(before) + 1e-12) < tol


@denormals_flushed()
def pretrain(model: DeepClusteringModel, x: Tensor, epochs: int = 50,
             batch_size: int = 256, lr: float = 1e-3,
             generator: Optional[torch.Generator] = None,
             progress: bool = True, start_epoch: int = 0,
             optimizer_state: Optional[Dict] = None,
             after_epoch: Optional[AfterEpoch] = None,
             precision: str = 'fp32', tol: float = 0.0,
             done: Sequence[Dict[str, float]] = (),
             adam: str = 'auto') -> History:
    r"""Pretrains the auto-encoder of :obj:`model` by mini-batch
    reconstruction (:meth:`DeepClusteringModel.pretrain_loss`) with Adam
    (:func:`make_adam`'s :obj:`adam` implementation), in the given
    :obj:`precision` (see :func:`autocast`), for at most :obj:`epochs`
    epochs, fewer once :func:`reconstruction_converged` with :obj:`tol`.
    Returns the mean loss of every epoch from :obj:`start_epoch` on; a
    resumed run passes the checkpoint's :obj:`start_epoch`, Adam
    :obj:`optimizer_state` and the history :obj:`done` so far."""
    generator = generator or torch.Generator().manual_seed(0)
    batches = RowBatches(x, batch_size, generator)
    optimizer = make_adam(model.autoencoder.parameters(), lr, adam)
    if optimizer_state is not None:
        optimizer.load_state_dict(optimizer_state)
    history: History = []
    model.train()
    if reconstruction_converged(done, tol):  # resumed after the stop
        return history
    bar = tqdm(range(start_epoch, epochs), desc='pretrain',
               disable=not progress, leave=False)
    for epoch in bar:
        total = 0.0
        for batch in batches.epoch(epoch):
            batch = batch.x
            with autocast(x.device, precision):
                loss = sum(model.pretrain_loss(batch).values())
            # Zeroed in place, not freed: new gradient buffers each step
            # are large fresh allocations that the CPU pays page faults
            # for, a large share of a small batch's step. Every step's loss
            # reaches the same parameters, so the update is the same.
            optimizer.zero_grad(set_to_none=False)
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
        if reconstruction_converged(list(done) + history, tol):
            break
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
           precision: str = 'fp32', adam: str = 'auto', lr_warmup: int = 0):
    r"""Steps on :meth:`warmup_loss` that update the GCN branch only (the
    auto-encoder and the mixture stay as initialised), the learning rate
    ramped up over the first :obj:`lr_warmup` of them (:func:`make_adam`).
    With
    :obj:`accumulate`, each step is a pass over all batches (on sampled
    subgraphs, the full-batch step); else one batch is one step."""
    if hasattr(model, 'fit_cluster_layer') and batches.num_batches == 1 \
            and batches.inference_batch_size is None:
        model.fit_cluster_layer(batches.whole)
    objective = _objective(model, batches, warmup=True)
    optimizer = make_adam(model.gcn.parameters(), lr, adam, lr_warmup)
    model.train()
    bar = tqdm(total=steps, desc='warm-up', disable=not progress,
               leave=False)
    done, cycle = 0, 0
    with bar:
        while done < steps:
            taken = _optimizer_steps(objective, optimizer,
                                     batches.epoch(WARMUP_EPOCH_OFFSET +
                                                   cycle),
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
    tol: float = 0.0,
    adam: str = 'auto',
    lr_warmup: int = 0,
    done: Sequence[Dict[str, float]] = (),
) -> History:
    r"""The joint phase of every model: minimises
    :meth:`DeepClusteringModel.loss` over the :obj:`batches` of each epoch
    (:mod:`~vgdcn_pyg.training.batches`; full batch is the one-batch case)
    with Adam (:func:`make_adam`'s :obj:`adam`, its learning rate ramped up
    over the first :obj:`lr_warmup` steps), the learning rate decayed
    by :obj:`lr_decay` every :obj:`decay_every` epochs, for at most
    :obj:`epochs` epochs: it stops once, between two target refreshes
    (every :obj:`update_interval` epochs), fewer than a fraction :obj:`tol`
    of the samples changed cluster (DEC's rule; 0 never stops), but not
    before :obj:`lr_warmup` epochs.
    :obj:`accumulate`: one optimizer step per epoch from the gradients of
    all its batches. Models with a :meth:`warmup_loss` first get
    :obj:`warmup_steps` steps of :func:`warmup`. :obj:`precision`: see
    :func:`autocast`. :obj:`on_epoch_end(epoch)` may return numbers for the
    history (metrics, which must never choose anything); :obj:`after_epoch`
    (:data:`AfterEpoch`) may write a checkpoint. A resumed run passes
    :obj:`start_epoch`, the restored :obj:`optimizer`,
    :obj:`scheduler_state` and the history :obj:`done` so far (the model's
    and the batches' states restored by their :meth:`load_...` methods).

    Returns one record per epoch: the mean of every loss term over the
    epoch's seeds (of all processes), :obj:`loss`, their sum,
    :obj:`clusters`, the number of clusters used (a :class:`RuntimeWarning`
    the first time it drops below :math:`K`), and on refresh epochs
    :obj:`changed`, the fraction of samples whose cluster changed since the
    last one. Raises :class:`FloatingPointError` on a NaN/inf loss.
    """
    if done and _assignments_settled(done[-1], tol, lr_warmup):
        return []  # resumed after the stop
    if model.requires_graph and batches.whole.edge_index is None:
        raise ValueError(f'{model.__class__.__name__} needs a graph')
    if warmup_steps > 0 and start_epoch == 0 and hasattr(model,
                                                          'warmup_loss'):
        warmup(model, batches, warmup_steps, lr, accumulate, progress,
               precision, adam, lr_warmup)
    objective = _objective(model, batches)
    optimizer = optimizer or make_adam(model.parameters(), lr, adam,
                                       lr_warmup)
    scheduler = _step_decay(optimizer, lr_decay, decay_every, start_epoch,
                            scheduler_state)
    return _epochs(model, batches, objective, optimizer, scheduler,
                   range(start_epoch, epochs), update_interval, accumulate,
                   precision, progress, on_epoch_end, after_epoch, tol,
                   lr_warmup)


def _epochs(model, batches, objective, optimizer, scheduler, epochs,
            update_interval, accumulate, precision, progress, on_epoch_end,
            after_epoch, tol, lr_warmup) -> History:
    history: History = []
    bar = tqdm(epochs, desc='train', disable=not progress, leave=False)
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
                         epoch % update_interval == 0,
                         warn=all(r['clusters'] == model.num_clusters
                                  for r in history))
        if on_epoch_end is not None:
            record.update(on_epoch_end(epoch))
        history.append(record)
        bar.set_postfix(loss=f'{record["loss"]:.3f}')
        if after_epoch is not None:
            after_epoch(epoch, history, optimizer, scheduler)
        if _assignments_settled(record, tol, lr_warmup):
            break
    return history


def _assignments_settled(record: Dict[str, float], tol: float,
                         min_epochs: int = 0) -> bool:
    # Not before the learning-rate warm-up is over: its first, small steps
    # change few assignments because they change little at all.
    return tol > 0 and record['epoch'] + 1 >= min_epochs and \
        record.get('changed', 1.0) < tol


def _record(model: DeepClusteringModel, batches: WholeGraph, epoch: int,
            means: _EpochTermMeans, refreshed: bool,
            warn: bool) -> Dict[str, float]:
    terms = means.result(batches.whole.x.device, batches.parallel)
    record = {'epoch': epoch, **terms, 'loss': sum(terms.values())}
    if not np.isfinite(record['loss']):
        raise FloatingPointError(
            f'loss became {record["loss"]} at epoch {epoch}; lower the '
            f'learning rate or check the input scaling')
    labels = assignment(model, batches.whole, batches.inference_batch_size)
    record['clusters'] = used = int(labels.unique().numel())
    if refreshed:
        # Compared from refresh to refresh: in between, a target P (and the
        # labels read from it) does not move.
        if model.last_labels is not None:
            record['changed'] = float((labels != model.last_labels).double()
                                      .mean())
        model.last_labels = labels
    if used < model.num_clusters and warn:
        warnings.warn(f'epoch {epoch}: only {used} of {model.num_clusters} '
                      f'clusters are used (the clustering is collapsing)',
                      RuntimeWarning)
    return record


@torch.no_grad()
def assignment(model: DeepClusteringModel, batch: Batch,
               inference_batch_size: Optional[int] = None) -> Tensor:
    r"""The cluster of every sample: the arg-max of the model's
    self-training target :math:`P` when it has one (already computed,
    free), else of its :meth:`predict_proba` on the whole data set
    :obj:`batch` (one forward pass in eval mode, no randomness)."""
    proba = getattr(model, 'target', None)
    if not torch.is_tensor(proba):
        was_training = model.training
        model.eval()
        proba = model.predict_proba(batch.x, batch.edge_index,
                                    batch.edge_weight, inference_batch_size)
        model.train(was_training)
    return proba.argmax(-1)

