r"""New samples joined to a fitted kNN graph, so that a graph model can
assign them with the training graph around them."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .heat_kernel import heat_kernel_weights
from .query import knn_query


def attach_queries(edge_index: Tensor, edge_weight: Optional[Tensor],
                   queries: Tensor, reference: Tensor, n_neighbors: int,
                   t: float) -> Tuple[Tensor, Tensor]:
    r"""The graph of the :math:`N` reference nodes plus :math:`Q` new nodes
    :math:`N, \dots, N + Q - 1`: each new node joins its
    :obj:`n_neighbors` nearest rows of :obj:`reference` (searched with
    :func:`~vgdcn_pyg.graph.query.knn_query`) in both directions, with
    heat-kernel weights of bandwidth :obj:`t`. New nodes are not joined to
    each other, so each one's assignment depends on the training graph
    only. Returns ``(edge_index, edge_weight)``."""
    index, sqdist = knn_query(queries, reference, n_neighbors)
    n = reference.size(0)
    new_ids = torch.arange(n, n + queries.size(0), device=index.device)
    src = index.reshape(-1)
    dst = new_ids.repeat_interleave(index.size(1))
    weight = heat_kernel_weights(sqdist.reshape(-1), t)
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), device=weight.device)
    return (torch.cat([edge_index, torch.stack([src, dst]),
                       torch.stack([dst, src])], dim=1),
            torch.cat([edge_weight, weight, weight]))
