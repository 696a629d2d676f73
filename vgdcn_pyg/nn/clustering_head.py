r"""DEC's Student-t soft assignment and its sharpened target distribution."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module, Parameter

#: Guards logarithms and divisions by cluster frequencies.
EPS = 1e-10


class StudentTAssignment(Module):
    r"""Soft cluster assignment of DEC (`Xie et al., ICML 2016
    <https://arxiv.org/abs/1511.06335>`_), thesis eq. 3.13:

    .. math::
        q_{ij} = \frac{(1 + \|\mathbf{z}_i - \boldsymbol\mu_j\|^2 /
        \nu)^{-\frac{\nu + 1}{2}}}{\sum_{j'} (1 + \|\mathbf{z}_i -
        \boldsymbol\mu_{j'}\|^2 / \nu)^{-\frac{\nu + 1}{2}}}.

    Args:
        num_clusters (int): Number of clusters :math:`K`.
        latent_channels (int): Dimension of :math:`\mathbf{z}`.
        alpha (float): Degrees of freedom :math:`\nu`. (default: :obj:`1.0`)
    """
    def __init__(self, num_clusters: int, latent_channels: int,
                 alpha: float = 1.0):
        super().__init__()
        self.num_clusters = num_clusters
        self.latent_channels = latent_channels
        self.alpha = alpha
        self.cluster_centers = Parameter(torch.empty(num_clusters,
                                                     latent_channels))
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.xavier_normal_(self.cluster_centers)

    @torch.no_grad()
    def init_centers(self, centers: Tensor):
        r"""Sets the centres, e.g. from k-means or a GMM's means."""
        self.cluster_centers.copy_(torch.as_tensor(
            centers, dtype=self.cluster_centers.dtype))

    def forward(self, z: Tensor) -> Tensor:
        return student_t(z, self.cluster_centers, self.alpha)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_clusters}, '
                f'latent_channels={self.latent_channels}, '
                f'alpha={self.alpha})')


def student_t(z: Tensor, centers: Tensor, alpha: float = 1.0) -> Tensor:
    r"""The Student-t kernel of :class:`StudentTAssignment` against given
    centres (VGDCN ties them to the GMM prior's means)."""
    dist = (z.unsqueeze(1) - centers.unsqueeze(0)).pow(2).sum(-1)
    q = (1.0 + dist / alpha).pow(-(alpha + 1.0) / 2.0)
    return q / q.sum(dim=-1, keepdim=True)


def target_distribution(q: Tensor) -> Tensor:
    r"""DEC's auxiliary target distribution (thesis eq. 3.14),

    .. math::
        p_{ij} = \frac{q_{ij}^2 / f_j}{\sum_{j'} q_{ij'}^2 / f_{j'}},
        \qquad f_j = \sum_i q_{ij},

    which sharpens confident assignments and divides by cluster size so that
    large clusters cannot swallow the others. Returned without gradient."""
    q = q.detach()
    weight = q.pow(2) / q.sum(dim=0).clamp_min(EPS)
    return weight / weight.sum(dim=1, keepdim=True)


def kl_to_target(p: Tensor, log_q: Tensor,
                 weight: Optional[Tensor] = None) -> Tensor:
    r""":math:`\mathrm{KL}(P \,\|\, Q) = \frac{1}{N}\sum_i\sum_j p_{ij}
    \log(p_{ij} / q_{ij})` (thesis eq. 3.15), averaged over samples, or
    with per-sample :obj:`weight` :math:`w_i`, the weighted mean
    :math:`\sum_i w_i \mathrm{KL}_i / \sum_i w_i`. Takes :math:`\log Q` so
    that a log-softmax output is used without round trip; pass
    ``q.clamp_min(EPS).log()`` for probabilities."""
    per_sample = (p * (torch.log(p + EPS) - log_q)).sum(-1)
    if weight is None:
        return per_sample.mean()
    return (weight * per_sample).sum() / weight.sum().clamp_min(EPS)
