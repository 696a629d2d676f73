r"""Mini-batches of seed nodes with their sampled neighbourhoods, for training
the GCN branch on graphs too large for a full-batch step.

A mini-batch holds :obj:`batch_size` seed nodes, the neighbours reached
from them by hop-wise uniform sampling (:obj:`num_neighbors[h]` per node at
hop :math:`h`, :obj:`-1` for all), and every edge of the kNN graph between
these nodes (the *induced* subgraph). This is the sampling of PyG's
:class:`~torch_geometric.loader.NeighborLoader` with
:obj:`subgraph_type="induced"`; the GCN, deeper than the sampled scope, then
runs on this subgraph as in ShaDow-GNN (`Zeng et al., "Decoupling the Depth
and Scope of Graph Neural Networks", NeurIPS 2021
<https://arxiv.org/abs/2201.07858>`_). Taking all neighbours at the first
hop (the default) gives every seed its complete neighbourhood.

Edge weights are the entries of the *full* graph's
:math:`\hat{\mathbf{A}} = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A} +
\mathbf{I})\tilde{\mathbf{D}}^{-1/2}`, not renormalised per subgraph, so that
a node whose neighbours were all sampled aggregates exactly as in full-batch
training (see :func:`normalized_graph`). A node at the border of the
subgraph misses some neighbours, so its aggregate shrinks, and the shrinkage
compounds over the GCN's layers; :func:`subgraph_row_scale` gives the factor
:math:`s_i = \sum_{j} \hat{A}_{ij} / \sum_{j \in S} \hat{A}_{ij}` that
restores each row's full-graph mass (the missing neighbours imputed by the
present ones' weighted mean; :math:`s_i = 1` for a node with all its
neighbours). Without it the seeds' GCN outputs drift away from the
full-graph :math:`\mathbf{Z}_G` through their border neighbours;
``tests/graph/test_sampling.py`` checks that it brings them closer, and
``docs/scaling.rst`` describes the effect on training. The induced subgraph
of a symmetric graph is symmetric, which the fast backward of
:class:`~vgdcn_pyg.nn.fused_gcn.SymmetricGCNConv` relies on.

PyG's own :class:`~torch_geometric.loader.NeighborLoader` needs
:obj:`pyg-lib` or :obj:`torch-sparse` for its sampling kernel.
:func:`neighbor_loader` uses it when one of them is installed; otherwise
it plugs :class:`InducedKHopSampler`, a pure-PyTorch sampler of the same
subgraphs, into PyG's generic :class:`~torch_geometric.loader.NodeLoader`.

:obj:`num_neighbors` (how many neighbours are *sampled* per hop) is not the
:obj:`n_neighbors` of :func:`~vgdcn_pyg.graph.knn_heat_kernel_graph` (how
many neighbours each sample has in the kNN graph, the thesis's :math:`M`):
the sampling draws from the :math:`M` (or more, the graph being undirected)
neighbours that graph gives a node.
"""
import warnings
from typing import List, Optional, Sequence

import torch
from torch import Tensor
import torch_geometric.typing as pyg_typing
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader, NodeLoader
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.sampler import (BaseSampler, NodeSamplerInput,
                                     SamplerOutput)
from torch_geometric.utils import to_torch_csr_tensor

from vgdcn_pyg.exceptions import GraphError


def check_num_neighbors(num_neighbors: Sequence[int]) -> List[int]:
    r"""Returns :obj:`num_neighbors`, the neighbours sampled per hop (not the
    kNN graph's :obj:`n_neighbors`), as a list of ints, each :math:`\geq 1`
    or :obj:`-1` (all neighbours), or raises
    :class:`~vgdcn_pyg.exceptions.GraphError`."""
    try:
        values = [int(n) for n in num_neighbors]
    except (TypeError, ValueError):
        raise GraphError(f'num_neighbors must be a list of integers, got '
                         f'{num_neighbors!r}') from None
    if not values or any(n == 0 or n < -1 for n in values):
        raise GraphError(f'num_neighbors must hold at least one hop, each a '
                         f'count >= 1 or -1 for all neighbours, got '
                         f'{num_neighbors!r}')
    return values


def normalized_graph(edge_index: Tensor, edge_weight: Optional[Tensor],
                     num_nodes: int, x: Optional[Tensor] = None) -> Data:
    r"""The full graph with GCN-normalised weights, ready for sampling.

    :math:`\hat{A}_{ij} = \tilde{A}_{ij} / \sqrt{\tilde{d}_i \tilde{d}_j}`
    with :math:`\tilde{\mathbf{A}} = \mathbf{A} + \mathbf{I}` and degrees
    :math:`\tilde{d}` of the whole graph. The off-diagonal entries become
    :obj:`edge_weight`, the diagonal :obj:`self_weight` (one per node), so
    that a subgraph keeps the weights of the full graph.

    Returns:
        Data: :obj:`edge_index` (no self-loops), :obj:`edge_weight`,
        :obj:`self_weight`, :obj:`num_nodes` and :obj:`x` if given.
    """
    edge_index, weight = gcn_norm(edge_index, edge_weight, num_nodes,
                                  add_self_loops=True)
    loop = edge_index[0] == edge_index[1]
    self_weight = torch.zeros(num_nodes, dtype=weight.dtype,
                              device=weight.device)
    self_weight[edge_index[0, loop]] = weight[loop]
    data = Data(edge_index=edge_index[:, ~loop], edge_weight=weight[~loop],
                self_weight=self_weight, num_nodes=num_nodes)
    # Each row's full-graph mass, for subgraph_row_scale.
    data.row_sum = self_weight.clone().index_add_(0, data.edge_index[1],
                                                  data.edge_weight)
    if x is not None:
        data.x = x
    return data


def subgraph_adjacency(batch: Data) -> Tensor:
    r""":math:`\hat{\mathbf{A}}` of a mini-batch as a sparse CSR matrix in
    PyG's :obj:`adj_t` layout (row = target), with the self-loops and edge
    weights of the full graph (see :func:`normalized_graph`). Pass it to
    :class:`~vgdcn_pyg.nn.FusedGCN` in place of :obj:`edge_index`."""
    num_nodes = batch.num_nodes
    loops = torch.arange(num_nodes, device=batch.edge_index.device)
    edge_index = torch.cat([batch.edge_index,
                            torch.stack([loops, loops])], dim=1)
    weight = torch.cat([batch.edge_weight, batch.self_weight])
    with warnings.catch_warnings():
        # PyTorch calls sparse CSR "beta"; the input is valid.
        warnings.simplefilter('ignore', UserWarning)
        return to_torch_csr_tensor(edge_index.flip(0), weight,
                                   size=(num_nodes, num_nodes))


def subgraph_row_scale(batch: Data) -> Tensor:
    r"""Per node of a mini-batch, :math:`s_i = \sum_j \hat{A}_{ij} /
    \sum_{j \in S} \hat{A}_{ij}`: the full graph's row mass of
    :math:`\hat{\mathbf{A}}` (:obj:`row_sum` of :func:`normalized_graph`)
    over the part present in the subgraph :math:`S` (self-loop included).
    Scaling row :math:`i` of the aggregate by :math:`s_i` imputes a border
    node's missing neighbours by the present ones' weighted mean; it is
    :math:`1` for every node whose neighbours are all in :math:`S` (with the
    whole first hop sampled, every seed). Pass it as :obj:`row_scale` to
    :class:`~vgdcn_pyg.nn.FusedGCN`."""
    present = batch.self_weight.clone().index_add_(0, batch.edge_index[1],
                                                   batch.edge_weight)
    return (batch.row_sum / present).clamp_(min=1.0)


class InducedKHopSampler(BaseSampler):
    r"""Samples the induced subgraph of seed nodes and of neighbours drawn
    hop by hop, uniformly without replacement (:obj:`num_neighbors[h]` per
    node at hop :math:`h`, :obj:`-1` for all), in pure PyTorch. It returns
    the nodes in the order PyG's samplers do (seeds first, then each hop's
    new nodes), and the global ids of the kept edges, so that
    :class:`~torch_geometric.loader.NodeLoader` attaches their features.

    Memory: the graph in CSR form (:math:`O(E)`), one :math:`O(N)` lookup
    table, and per batch :math:`O(\sum_{v \in S} \deg v)` for the sampled
    node set :math:`S`.

    Args:
        data (Data): The graph (:obj:`edge_index`, :obj:`num_nodes`).
        num_neighbors (Sequence[int]): Neighbours to sample per hop.
        generator (torch.Generator, optional): Source of randomness of the
            sampling. (default: :obj:`None`)
    """
    def __init__(self, data: Data, num_neighbors: Sequence[int],
                 generator: Optional[torch.Generator] = None):
        self.num_neighbors = check_num_neighbors(num_neighbors)
        self.generator = generator
        num_nodes = int(data.num_nodes)
        edge_index = data.edge_index.cpu()
        # CSR over targets: the sources of node v are col[ptr[v]:ptr[v+1]],
        # and perm maps a CSR position back to the edge's id.
        self.perm = torch.sort(edge_index[1], stable=True).indices
        self.col = edge_index[0, self.perm]
        count = torch.bincount(edge_index[1], minlength=num_nodes)
        self.ptr = torch.zeros(num_nodes + 1, dtype=torch.long)
        torch.cumsum(count, 0, out=self.ptr[1:])
        # Global -> local ids of the current batch (-1: not sampled); reset
        # after every batch, so it is allocated once.
        self._local = torch.full((num_nodes, ), -1, dtype=torch.long)

    @property
    def edge_permutation(self) -> None:
        return None  # edge ids are returned in the original order

    def _positions(self, nodes: Tensor):
        r"""CSR positions of all in-edges of :obj:`nodes`, and the position in
        :obj:`nodes` of the target of each."""
        start = self.ptr[nodes]
        deg = self.ptr[nodes + 1] - start
        owner = torch.repeat_interleave(torch.arange(nodes.numel()), deg)
        first = torch.cumsum(deg, 0) - deg
        pos = start[owner] + torch.arange(owner.numel()) - first[owner]
        return pos, owner, deg, first

    def _sample_hop(self, frontier: Tensor, fanout: int) -> Tensor:
        pos, owner, deg, first = self._positions(frontier)
        if fanout >= 0 and bool((deg > fanout).any()):
            # Uniform without replacement: order each node's edges by a
            # random key and keep the first `fanout` of them.
            key = torch.rand(pos.numel(), generator=self.generator,
                             dtype=torch.float64)
            order = torch.argsort(owner.to(torch.float64) + key)
            rank = torch.arange(pos.numel()) - first[owner[order]]
            pos = pos[order[rank < fanout]]
        return self.col[pos]

    def sample_from_nodes(self, index: NodeSamplerInput) -> SamplerOutput:
        seeds = index.node.cpu().to(torch.long)
        local = self._local
        if torch.unique(seeds).numel() != seeds.numel():
            raise GraphError('the seed nodes of a mini-batch must be '
                             'distinct')
        local[seeds] = torch.arange(seeds.numel())
        parts, counts = [seeds], [seeds.numel()]
        frontier, num_sampled = seeds, seeds.numel()
        try:
            for fanout in self.num_neighbors:
                found = self._sample_hop(frontier, fanout)
                new = torch.unique(found[local[found] < 0])
                local[new] = torch.arange(num_sampled,
                                          num_sampled + new.numel())
                num_sampled += new.numel()
                parts.append(new)
                counts.append(new.numel())
                frontier = new
            node = torch.cat(parts)
            # The induced subgraph: every edge whose two ends were sampled.
            pos, owner, _, _ = self._positions(node)
            src = local[self.col[pos]]
            keep = src >= 0
            row, col, edge = src[keep], owner[keep], self.perm[pos[keep]]
        finally:
            local[torch.cat(parts)] = -1
        return SamplerOutput(node=node, row=row, col=col, edge=edge,
                             num_sampled_nodes=counts,
                             metadata=(index.input_id, index.time))

    def sample_from_edges(self, index, neg_sampling=None):
        raise NotImplementedError(f'{self.__class__.__name__} samples around '
                                  f'seed nodes only')


def neighbor_loader(data: Data, num_neighbors: Sequence[int],
                    batch_size: int, input_nodes: Optional[Tensor] = None,
                    generator: Optional[torch.Generator] = None,
                    **kwargs) -> NodeLoader:
    r"""A loader of mini-batches of seed nodes with their sampled induced
    subgraphs (see the module docstring): PyG's
    :class:`~torch_geometric.loader.NeighborLoader` (:obj:`subgraph_type=
    "induced"`) if :obj:`pyg-lib` or :obj:`torch-sparse` is installed, else
    :class:`~torch_geometric.loader.NodeLoader` with
    :class:`InducedKHopSampler`. Each batch has :obj:`n_id` (global ids,
    seeds first), :obj:`batch_size` (number of seeds) and the node and edge
    attributes of :obj:`data` restricted to the subgraph.

    Args:
        data (Data): The graph, e.g. from :func:`normalized_graph`.
        num_neighbors (Sequence[int]): Neighbours to sample per hop.
        batch_size (int): Seed nodes per mini-batch.
        input_nodes (Tensor, optional): The seed nodes; all by default.
        generator (torch.Generator, optional): Randomness of the shuffling
            and of the pure-PyTorch sampler. (default: :obj:`None`)
        **kwargs: Passed to :class:`torch.utils.data.DataLoader`, e.g.
            :obj:`shuffle` or :obj:`sampler` (a
            :class:`~torch.utils.data.distributed.DistributedSampler`).
    """
    num_neighbors = check_num_neighbors(num_neighbors)
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise GraphError(f'batch_size must be a positive integer, got '
                         f'{batch_size!r}')
    if generator is not None:
        kwargs['generator'] = generator
    if pyg_typing.WITH_PYG_LIB or pyg_typing.WITH_TORCH_SPARSE:
        return NeighborLoader(data, num_neighbors, input_nodes=input_nodes,
                              subgraph_type='induced',
                              batch_size=int(batch_size), **kwargs)
    sampler = InducedKHopSampler(data, num_neighbors, generator)
    return NodeLoader(data, sampler, input_nodes=input_nodes,
                      batch_size=int(batch_size), **kwargs)
