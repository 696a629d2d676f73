r"""What one training epoch iterates over: the whole graph, row
mini-batches, or sampled subgraphs. The training loop
(:func:`~vgdcn_pyg.training.trainer.train`) is the same for all three; full
batch is the one-batch case.

Each source yields :class:`~vgdcn_pyg.models.Batch` objects and offers
:attr:`whole`, the whole data set as one batch, on which the target is
refreshed and the used clusters are counted (in row batches of
:attr:`inference_batch_size` where that is set).

**Sampled subgraphs** (:class:`SubgraphBatches`), for graphs too large for a
full-batch step: every epoch visits each node once as a *seed*; batches of
seeds come with their sampled induced subgraphs
(:func:`~vgdcn_pyg.graph.sampling.neighbor_loader`, full-graph edge
weights), and the model's objective is evaluated on the seeds only. With the
gradients of an epoch's batches accumulated (each weighted by its share of
the seeds) and one optimizer step per epoch, subgraphs that hold each seed's
whole receptive field give the gradient of the full-batch objective, so
mini-batch training follows the full-batch run's dynamics with the memory of
one subgraph. A step after every batch instead makes more progress per epoch
but, at the full-batch learning rate, moves the pretrained model about ten
times as far per epoch, enough to lose the initial partition
(``benchmarks/results/minibatch_usps.md``). The target is refreshed from an
inference pass done layer by layer in row batches, so the autograd graph
never spans more than one subgraph.

Under :obj:`torchrun` (a process group of several processes), a
:class:`~torch.utils.data.distributed.DistributedSampler` gives each process
its share of the seed nodes and the trainer wraps the objective in
:class:`~torch.nn.parallel.DistributedDataParallel`, which averages the
gradients, so that all processes hold the same model after every step.
"""
from typing import Dict, Iterable, Optional, Sequence

import torch
from torch import Tensor
from torch.utils.data.distributed import DistributedSampler

from ..graph.sampling import (neighbor_loader, normalized_graph,
                              subgraph_adjacency, subgraph_row_scale)
from ..models.base import Batch
from ..nn import FusedGCN
from . import distributed

#: Rows per batch of the inference passes over a large graph (target
#: refresh, predictions), unless set otherwise.
DEFAULT_INFERENCE_BATCH_SIZE = 8192
#: Warm-up pass :math:`c` is numbered :obj:`WARMUP_EPOCH_OFFSET + c`, apart
#: from the training epochs, so that the distributed shuffles differ.
WARMUP_EPOCH_OFFSET = 10**6


class WholeGraph:
    r"""One batch per epoch: all samples with the whole graph (the
    full-batch training of the graph models).

    Args:
        x (Tensor): Features of all samples.
        edge_index (Tensor, optional): The kNN graph.
        edge_weight (Tensor, optional): Its edge weights.
    """
    parallel = False
    inference_batch_size: Optional[int] = None
    #: The randomness of the batches, which a checkpoint saves.
    generator: Optional[torch.Generator] = None

    def __init__(self, x: Tensor, edge_index: Optional[Tensor] = None,
                 edge_weight: Optional[Tensor] = None):
        self.whole = Batch(x, edge_index, edge_weight)
        self.num_seeds = x.size(0)
        self.num_batches = 1

    def epoch(self, epoch: int) -> Iterable[Batch]:
        return [self.whole]

    def state_dict(self) -> Dict:
        if self.generator is None:
            return {}
        return {'generator': self.generator.get_state()}

    def load_state_dict(self, state: Dict):
        if self.generator is not None:
            self.generator.set_state(state['generator'])


class RowBatches(WholeGraph):
    r"""Mini-batches of rows in a new random order every epoch, for the
    models without a graph; the whole data set when :obj:`batch_size` is
    :obj:`None` or not smaller than the number of samples.

    Args:
        x (Tensor): Features of all samples.
        batch_size (int, optional): Rows per batch.
        generator (torch.Generator): Randomness of the order.
    """
    def __init__(self, x: Tensor, batch_size: Optional[int],
                 generator: torch.Generator):
        super().__init__(x)
        self.batch_size = batch_size
        self.generator = generator
        n = x.size(0)
        self.split = batch_size is not None and batch_size < n
        self.num_batches = -(-n // batch_size) if self.split else 1

    def epoch(self, epoch: int) -> Iterable[Batch]:
        if not self.split:
            return [self.whole]
        x = self.whole.x
        perm = torch.randperm(x.size(0), generator=self.generator)
        return [Batch(x[index], n_id=index)
                for index in perm.to(x.device).split(self.batch_size)]


class SubgraphBatches(WholeGraph):
    r"""Mini-batches of :obj:`batch_size` seed nodes with their sampled
    induced subgraphs (see the module docstring); under a process group of
    several processes, each process gets its share of the seeds.

    Args:
        x (Tensor): Features of all :math:`N` nodes.
        edge_index (Tensor): The kNN graph (both directions).
        edge_weight (Tensor, optional): Its heat-kernel weights.
        num_neighbors (Sequence[int]): Neighbours sampled per hop, :obj:`-1`
            for all. (default: :obj:`(-1,)`, each seed's whole
            neighbourhood)
        batch_size (int): Seed nodes per batch, per process.
        seed (int): Seed of the shuffling and neighbour sampling.
        inference_batch_size (int, optional): Rows per batch of the passes
            over the whole graph. (default:
            :data:`DEFAULT_INFERENCE_BATCH_SIZE`)
    """
    def __init__(self, x: Tensor, edge_index: Tensor,
                 edge_weight: Optional[Tensor],
                 num_neighbors: Sequence[int] = (-1, ),
                 batch_size: int = 1024, seed: int = 0,
                 inference_batch_size: Optional[int] = None):
        num_nodes = x.size(0)
        adj_t = FusedGCN.normalized_adjacency(edge_index, edge_weight,
                                              num_nodes)
        super().__init__(x, adj_t)
        self.inference_batch_size = int(inference_batch_size or
                                        DEFAULT_INFERENCE_BATCH_SIZE)
        self.parallel = distributed.is_initialized() and \
            distributed.world_size() > 1
        rank = distributed.rank() if self.parallel else 0
        # Sampling runs on the CPU; batches move to the device one by one.
        graph = normalized_graph(
            edge_index.cpu(), None if edge_weight is None else
            edge_weight.cpu(), num_nodes, x=x.cpu())
        self.generator = torch.Generator().manual_seed(seed +
                                                       1_000_003 * rank)
        self.sampler = None
        if self.parallel:
            self.sampler = DistributedSampler(range(num_nodes), shuffle=True,
                                              seed=seed)
            self.loader = neighbor_loader(graph, num_neighbors, batch_size,
                                          generator=self.generator,
                                          sampler=self.sampler)
        else:
            self.loader = neighbor_loader(graph, num_neighbors, batch_size,
                                          generator=self.generator,
                                          shuffle=True)
        # Seeds this process visits per pass (DistributedSampler pads the
        # ranks to equal shares; DDP then averages the ranks' gradients).
        self.num_seeds = len(self.sampler) if self.sampler is not None \
            else num_nodes
        self.num_batches = len(self.loader)

    def epoch(self, epoch: int) -> Iterable[Batch]:
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)
        if epoch < WARMUP_EPOCH_OFFSET:
            # The mini-batch loop before the one training loop opened the
            # loader twice per training epoch (its progress bar did), and
            # each opening draws a number from the generator: drawing it
            # here keeps a seed's mini-batches, and labels, what they were.
            torch.empty((), dtype=torch.int64).random_(
                generator=self.generator)
        device = self.whole.x.device
        for data in self.loader:
            data = data.to(device)
            yield Batch(data.x, subgraph_adjacency(data), None, data.n_id,
                        int(data.batch_size), subgraph_row_scale(data))
