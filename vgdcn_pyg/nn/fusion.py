r"""The "delivery" operator that fuses auto-encoder features into the GCN."""
from torch import Tensor
from torch.nn import Module


class Fusion(Module):
    r"""Convex combination of a GCN layer's output and the matching
    encoder layer's output (SDCN, `Bo et al., WWW 2020
    <https://arxiv.org/abs/2002.01633>`_; VGDCN thesis eq. 3.9):

    .. math::
        \tilde{\mathbf{Z}}^{(l)} = (1 - \epsilon)\, \mathbf{Z}_G^{(l)} +
        \epsilon\, \mathbf{H}^{(l)}.

    :math:`\epsilon = 0` gives a plain deep GCN (prone to over-smoothing),
    :math:`\epsilon = 1` passes on the encoder's features only.

    Args:
        eps (float): The balance coefficient :math:`\epsilon \in [0, 1]`.
            (default: :obj:`0.5`)
    """
    def __init__(self, eps: float = 0.5):
        super().__init__()
        if not 0.0 <= eps <= 1.0:
            raise ValueError(f'eps must be in [0, 1], got {eps}')
        self.eps = float(eps)

    def reset_parameters(self):
        pass  # no learnable parameters

    def forward(self, z_g: Tensor, h: Tensor) -> Tensor:
        if z_g.shape != h.shape:
            raise ValueError(f'cannot fuse GCN features of shape '
                             f'{tuple(z_g.shape)} with encoder features of '
                             f'shape {tuple(h.shape)}')
        return (1.0 - self.eps) * z_g + self.eps * h

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(eps={self.eps})'
