r"""Nearest training samples of new samples (to attach them to a graph)."""
from typing import Optional, Tuple

import torch
from torch import Tensor

from vgdcn_pyg.exceptions import GraphError

from .knn import _sort_rows, default_block_size


def knn_query(queries: Tensor, reference: Tensor, k: int,
              block_size: Optional[int] = None) -> Tuple[Tensor, Tensor]:
    r"""For every row of :obj:`queries`, its :obj:`k` nearest rows of
    :obj:`reference` (indices into :obj:`reference`, shape :obj:`(M, k)`) and
    their squared distances, by blocked matrix products: memory
    :math:`O(B \cdot N)`, never :math:`M \times N`."""
    if queries.dim() != 2 or reference.dim() != 2 or \
            queries.size(1) != reference.size(1):
        raise GraphError(f'queries {tuple(queries.shape)} and reference '
                         f'{tuple(reference.shape)} must be 2-D with the '
                         f'same number of features')
    n = reference.size(0)
    if not 1 <= k <= n:
        raise GraphError(f'k={k} must be in [1, {n}] for {n} reference '
                         f'samples')
    if block_size is None:
        block_size = default_block_size(n, reference.element_size())
    ref_sq = reference.pow(2).sum(-1)
    indices, dists = [], []
    with torch.no_grad():
        for block in queries.split(block_size):
            d = (block.pow(2).sum(-1, keepdim=True) - 2 * block @ reference.t()
                 + ref_sq).clamp_min_(0)
            dist, index = d.topk(k, dim=1, largest=False)
            # Recompute the kept distances exactly (no cancellation).
            exact = (block.unsqueeze(1) - reference[index]).pow(2).sum(-1)
            index, exact = _sort_rows(index, exact)
            indices.append(index)
            dists.append(exact)
    return torch.cat(indices), torch.cat(dists)
