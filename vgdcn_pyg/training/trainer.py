r"""Training loops: reconstruction pretraining and the joint phase."""
import random
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..models.base import DeepClusteringModel

History = List[Dict[str, float]]


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


def _step_decay(optimizer, decay: float, every: int):
    # The thesis decays the learning rate by 10% every 10 epochs.
    return torch.optim.lr_scheduler.StepLR(optimizer, step_size=every,
                                           gamma=decay)


def pretrain(model: DeepClusteringModel, x: Tensor, epochs: int = 50,
             batch_size: int = 256, lr: float = 1e-3,
             generator: Optional[torch.Generator] = None,
             progress: bool = True, precision: str = 'fp32') -> History:
    r"""Pretrains the auto-encoder of :obj:`model` by mini-batch
    reconstruction (:meth:`DeepClusteringModel.pretrain_loss`) with Adam,
    in the given :obj:`precision` (see :func:`autocast`). Returns the mean
    loss of every epoch."""
    generator = generator or torch.Generator().manual_seed(0)
    params = model.autoencoder.parameters()
    optimizer = torch.optim.Adam(params, lr=lr)
    history: History = []
    model.train()
    bar = tqdm(range(epochs), desc='pretrain', disable=not progress,
               leave=False)
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
        history.append({'epoch': epoch, 'recon': mean})
        bar.set_postfix(recon=f'{mean:.3f}')
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
    :func:`autocast`)."""
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
    for _ in range(start_epoch):
        scheduler.step()
    history: History = []
    bar = tqdm(range(start_epoch, epochs), desc='train', disable=not progress,
               leave=False)
    for epoch in bar:
        if (epoch - start_epoch) % update_interval == 0:
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
        if on_epoch_end is not None:
            record.update(on_epoch_end(epoch))
        history.append(record)
        bar.set_postfix(loss=f'{record["loss"]:.3f}')
    return history
