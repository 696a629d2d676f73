r"""Nearest training samples of new samples (to attach them to a graph)."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from vgdcn_pyg.exceptions import GraphError

from .knn import _sort_rows, default_block_size


def knn_query(queries: Tensor, reference: Tensor, n_neighbors: int,
              block_size: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    r"""For every row of :obj:`queries` (:math:`Q` of them), its
    :obj:`n_neighbors` nearest rows of :obj:`reference` (:math:`N` of them;
    indices into :obj:`reference`, shape :obj:`(Q, n_neighbors)`) and their
    squared distances, sorted from nearest, by blocked matrix products:
    memory :math:`O(B \cdot N)`, never :math:`Q \times N`. The kept
    distances are recomputed from the differences, as in
    :func:`~vgdcn_pyg.graph.knn_search`."""
    if queries.dim() != 2 or reference.dim() != 2 or \
            queries.size(1) != reference.size(1):
        raise GraphError(f'queries {tuple(queries.shape)} and reference '
                         f'{tuple(reference.shape)} must be 2-D with the '
                         f'same number of features')
    n = reference.size(0)
    if isinstance(n_neighbors, bool) or \
            not isinstance(n_neighbors, (int, np.integer)) or \
            not 1 <= n_neighbors <= n:
        raise GraphError(f'n_neighbors={n_neighbors!r} must be an integer in '
                         f'[1, {n}] for {n} reference samples')
    if block_size is None:
        block_size = default_block_size(n, reference.element_size())
    ref_sq = reference.pow(2).sum(-1)
    indices, dists = [], []
    with torch.no_grad():
        for block in queries.split(block_size):
            d = (block.pow(2).sum(-1, keepdim=True) - 2 * block @ reference.t()
                 + ref_sq).clamp_min_(0)
            _, index = d.topk(int(n_neighbors), dim=1, largest=False)
            # Recompute the kept distances exactly (no cancellation).
            exact = (block.unsqueeze(1) - reference[index]).pow(2).sum(-1)
            index, exact = _sort_rows(index, exact)
            indices.append(index)
            dists.append(exact)
    return torch.cat(indices), torch.cat(dists)
