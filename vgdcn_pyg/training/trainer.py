r"""Training loops: reconstruction pretraining and the joint phase."""
import contextlib
import random
import warnings
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..models.base import DeepClusteringModel

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


def _batches(num_samples: int, batch_size: Optional[int],
             generator: torch.Generator, device) -> List[Optional[Tensor]]:
    if batch_size is None or batch_size >= num_samples:
        return [None]
    perm = torch.randperm(num_samples, generator=generator).to(device)
    return list(perm.split(batch_size))


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
    arithmetic is up to a hundred times slower on x86 CPUs. Measured on USPS
    (``benchmarks/epoch_time.py``'s setting): the first five full-batch
    VGDCN epochs took 5.4, 4.6, 4.4, 3.4 and 3.0 s with denormals and
    2.0-2.5 s flushed; on 10^5 samples one mini-batch epoch took 48.5 s of
    CPU time with denormals and 16.0 s without. Values below
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


def _step_decay(optimizer, decay: float, every: int):
    # The thesis decays the learning rate by 10% every 10 epochs.
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=every,
                                           gamma=decay)


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
        for index in _batches(x.size(0), batch_size, generator, x.device):
            batch = x if index is None else x[index]
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


def warmup(model: DeepClusteringModel, x: Tensor, edge_index: Tensor,
           edge_weight: Optional[Tensor], steps: int, lr: float,
           progress: bool = True, precision: str = 'fp32') -> History:
    r"""Full-batch steps on :meth:`warmup_loss` that update the GCN branch
    only (the auto-encoder and the mixture stay as initialised)."""
    optimizer = torch.optim.Adam(model.gcn.parameters(), lr=lr)
    model.train()
    history: History = []
    bar = tqdm(range(steps), desc='warm-up', disable=not progress,
               leave=False)
    for step in bar:
        with autocast(x.device, precision):
            terms = model.warmup_loss(x, edge_index, edge_weight)
        loss = sum(terms.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        value = float(loss.detach())
        history.append({'step': step, 'loss': value})
        bar.set_postfix(loss=f'{value:.3f}')
    return history


@denormals_flushed()
def train_joint(
    model: DeepClusteringModel,
    x: Tensor,
    edge_index: Optional[Tensor] = None,
    edge_weight: Optional[Tensor] = None,
    epochs: int = 200,
    lr: float = 1e-3,
    lr_decay: float = 0.9,
    decay_every: int = 10,
    update_interval: int = 1,
    batch_size: Optional[int] = None,
    generator: Optional[torch.Generator] = None,
    progress: bool = True,
    on_epoch_end: Optional[Callable[[int], Dict[str, float]]] = None,
    start_epoch: int = 0,
    optimizer: Optional[torch.optim.Optimizer] = None,
    warmup_steps: int = 0,
    scheduler_state: Optional[Dict] = None,
    after_epoch: Optional[AfterEpoch] = None,
    precision: str = 'fp32',
) -> History:
    r"""Minimises :meth:`DeepClusteringModel.loss` with Adam and the thesis's
    step decay. Graph models are trained full batch; the others in
    mini-batches of :obj:`batch_size` (full batch when :obj:`None`).
    :meth:`DeepClusteringModel.update_target` runs every
    :obj:`update_interval` epochs. Models with a :meth:`warmup_loss` first
    get :obj:`warmup_steps` steps of :func:`warmup`.
    :obj:`on_epoch_end(epoch)` may return
    extra numbers for the history (e.g. metrics, which must never be used to
    choose anything). :obj:`precision` is that of the forward passes (see
    :func:`autocast`).

    Every record also holds :obj:`clusters`, the number of clusters that are
    the arg-max of at least one sample (of the target :math:`P` for models
    that have one, else of :meth:`~DeepClusteringModel.predict_proba`); a
    :class:`RuntimeWarning` is issued the first time it drops below
    :math:`K`.

    A resumed run passes :obj:`start_epoch`, the restored :obj:`optimizer`
    and :obj:`scheduler_state` (the model's own training state restored by
    :meth:`~DeepClusteringModel.load_training_state`); the warm-up then does
    not run again."""
    generator = generator or torch.Generator().manual_seed(0)
    if model.requires_graph:
        if edge_index is None:
            raise ValueError(f'{model.__class__.__name__} needs a graph')
        batch_size = None
    if warmup_steps > 0 and start_epoch == 0 and \
            hasattr(model, 'warmup_loss'):
        warmup(model, x, edge_index, edge_weight, warmup_steps, lr, progress,
               precision)
    optimizer = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = _step_decay(optimizer, lr_decay, decay_every)
    if scheduler_state is not None:
        scheduler.load_state_dict(scheduler_state)
    else:
        for _ in range(start_epoch):
            scheduler.step()
    history: History = []
    collapse_warned = False
    bar = tqdm(range(start_epoch, epochs), desc='train', disable=not progress,
               leave=False)
    for epoch in bar:
        # Counted from epoch 0, so a resumed run refreshes when the
        # uninterrupted one would (the target itself is restored).
        if epoch % update_interval == 0 or \
                getattr(model, 'target', ...) is None:
            if model.refreshes_target_in_loss and batch_size is None:
                model.schedule_target_refresh()
            else:
                model.eval()
                model.update_target(x, edge_index, edge_weight)
        model.train()
        # Summed on the device in float64 and read once per epoch: a float()
        # per term and mini-batch would synchronise a GPU every step.
        sums: Dict[str, Tensor] = {}
        for index in _batches(x.size(0), batch_size, generator, x.device):
            batch = x if index is None else x[index]
            with autocast(x.device, precision):
                terms = model.loss(batch, edge_index, edge_weight, index)
            loss = sum(terms.values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            n = batch.size(0)
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value.detach().double() * n
        scheduler.step()
        record = {'epoch': epoch}
        record.update({k: float(v) / x.size(0) for k, v in sums.items()})
        record['loss'] = sum(v for k, v in record.items() if k != 'epoch')
        if not np.isfinite(record['loss']):
            raise FloatingPointError(
                f'loss became {record["loss"]} at epoch {epoch}; lower the '
                f'learning rate or check the input scaling')
        record['clusters'] = used = clusters_used(model, x, edge_index,
                                                  edge_weight)
        if used < model.num_clusters and not collapse_warned:
            collapse_warned = True
            warnings.warn(f'epoch {epoch}: only {used} of '
                          f'{model.num_clusters} clusters are used (the '
                          f'clustering is collapsing)', RuntimeWarning)
        if on_epoch_end is not None:
            record.update(on_epoch_end(epoch))
        history.append(record)
        bar.set_postfix(loss=f'{record["loss"]:.3f}')
        if after_epoch is not None:
            after_epoch(epoch, history, optimizer, scheduler)
    return history


@torch.no_grad()
def clusters_used(model: DeepClusteringModel, x: Tensor,
                  edge_index: Optional[Tensor] = None,
                  edge_weight: Optional[Tensor] = None) -> int:
    r"""Number of clusters that are the arg-max of at least one sample: of
    the model's self-training target :math:`P` when it has one (already
    computed, free), else of its :meth:`predict_proba` on :obj:`x` (one
    forward pass in eval mode, no randomness)."""
    assignment = getattr(model, 'target', None)
    if not torch.is_tensor(assignment):
        was_training = model.training
        model.eval()
        assignment = model.predict_proba(x, edge_index, edge_weight)
        model.train(was_training)
    return int(assignment.argmax(-1).unique().numel())
