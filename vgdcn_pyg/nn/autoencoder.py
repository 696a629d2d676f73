r"""Fully connected (variational) auto-encoder that exposes every encoder layer."""
from typing import Callable, List, NamedTuple, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Linear, Module, ModuleList

#: Log-variances are clamped to ``[-MAX_LOGVAR, MAX_LOGVAR]`` so that
#: ``exp(logvar)`` can neither overflow nor underflow to zero.
MAX_LOGVAR = 20.0


class EncoderOutput(NamedTuple):
    r"""What the encoder returns: :obj:`hidden`, the output of every
    hidden encoder layer :math:`[\mathbf{H}^{(1)}, \dots, \mathbf{H}^{(L)}]`
    (after the activation); :obj:`mu`, the latent mean
    :math:`\boldsymbol{\mu}`; :obj:`logvar`, the latent log-variance
    :math:`\log \boldsymbol{\sigma}^2` (:obj:`None` for a plain
    auto-encoder)."""
    hidden: List[Tensor]
    mu: Tensor
    logvar: Optional[Tensor]


class DeepAutoEncoder(Module):
    r"""The stacked fully connected auto-encoder of DEC
    (`Xie et al., ICML 2016 <https://arxiv.org/abs/1511.06335>`_), optionally
    variational (`Kingma and Welling, ICLR 2014
    <https://arxiv.org/abs/1312.6114>`_).

    The encoder maps :math:`D \to 500 \to 500 \to 2000 \to d_z` (widths
    configurable), with

    .. math::
        \mathbf{H}^{(l)} = \mathrm{ReLU}\left(\mathbf{H}^{(l-1)}
        \mathbf{W}_e^{(l)} + \mathbf{b}_e^{(l)}\right), \qquad
        \mathbf{H}^{(0)} = \mathbf{X},

    followed by a linear head for :math:`\boldsymbol{\mu}` and, when
    :obj:`variational=True`, one for :math:`\log\boldsymbol{\sigma}^2`. The
    latent code is :math:`\mathbf{z} = \boldsymbol{\mu} +
    \boldsymbol{\sigma} \odot \boldsymbol{\epsilon}` in training mode and
    :math:`\boldsymbol{\mu}` in evaluation mode. The decoder mirrors the
    encoder. Its output are logits of a Bernoulli likelihood
    (:obj:`likelihood="bernoulli"`, for data in :math:`[0, 1]`) or the mean
    of a unit-variance Gaussian (:obj:`likelihood="gaussian"`).

    Args:
        in_channels (int): Input dimension :math:`D`.
        hidden_channels (Sequence[int]): Widths of the hidden encoder layers.
            (default: :obj:`(500, 500, 2000)`)
        latent_channels (int): Latent dimension :math:`d_z`. (default: :obj:`10`)
        variational (bool): Whether to add the log-variance head.
            (default: :obj:`True`)
        likelihood (str): :obj:`"bernoulli"` (binary cross-entropy) or
            :obj:`"gaussian"` (squared error). (default: :obj:`"bernoulli"`)
    """
    def __init__(
        self,
        in_channels: int,
        hidden_channels: Sequence[int] = (500, 500, 2000),
        latent_channels: int = 10,
        variational: bool = True,
        likelihood: str = 'bernoulli',
    ):
        super().__init__()
        if likelihood not in ('bernoulli', 'gaussian'):
            raise ValueError(f"likelihood must be 'bernoulli' or 'gaussian', "
                             f"got {likelihood!r}")
        self.in_channels = in_channels
        self.hidden_channels = tuple(int(c) for c in hidden_channels)
        self.latent_channels = latent_channels
        self.variational = variational
        self.likelihood = likelihood

        widths = (in_channels, ) + self.hidden_channels
        self.encoder = ModuleList(
            Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.mu = Linear(widths[-1], latent_channels)
        self.logvar = (Linear(widths[-1], latent_channels)
                       if variational else None)
        dec_widths = (latent_channels, ) + self.hidden_channels[::-1]
        self.decoder = ModuleList(
            Linear(a, b) for a, b in zip(dec_widths[:-1], dec_widths[1:]))
        self.out = Linear(dec_widths[-1], in_channels)
        self.reset_parameters()

    def reset_parameters(self):
        r"""Resets all learnable parameters of the module."""
        for lin in list(self.encoder) + list(self.decoder) + [self.mu, self.out]:
            lin.reset_parameters()
        if self.logvar is not None:
            self.reset_logvar_head()

    def reset_logvar_head(self, init: float = -4.0):
        r"""Starts the log-variance head at a small constant variance
        :math:`\sigma^2 = e^{init}`, so that a freshly pretrained mean head is
        not drowned in sampling noise."""
        if self.logvar is None:
            return
        torch.nn.init.zeros_(self.logvar.weight)
        torch.nn.init.constant_(self.logvar.bias, init)

    @property
    def num_hidden_layers(self) -> int:
        return len(self.encoder)

    def encode(self, x: Tensor) -> EncoderOutput:
        r"""Runs the encoder and returns every layer output,
        :math:`\boldsymbol{\mu}` and :math:`\log\boldsymbol{\sigma}^2`."""
        hidden = []
        h = x
        for lin in self.encoder:
            h = F.relu(lin(h))
            hidden.append(h)
        # The latent statistics stay float32 under mixed precision: the
        # mixture prior's log-densities need the resolution.
        mu = self.mu(h).float()
        logvar = None
        if self.logvar is not None:
            logvar = self.logvar(h).float().clamp(-MAX_LOGVAR, MAX_LOGVAR)
        return EncoderOutput(hidden, mu, logvar)

    def encoder_layers(self) -> List[Callable[[Tensor], Tensor]]:
        r"""The encoder as one row-wise map per layer: :math:`\mathbf{H}^{(l)}
        = \mathrm{ReLU}(\mathbf{H}^{(l-1)} \mathbf{W}_e^{(l)} +
        \mathbf{b}_e^{(l)})` for the hidden layers, then the
        :math:`\boldsymbol\mu` head. Composed, they give :meth:`encode`'s
        :obj:`hidden` and :obj:`mu`, one layer at a time (for layer-wise
        inference on many samples)."""
        def hidden_layer(lin: Linear) -> Callable[[Tensor], Tensor]:
            return lambda h: F.relu(lin(h))
        return [hidden_layer(lin) for lin in self.encoder] + [self.mu]

    def reparametrize(self, mu: Tensor, logvar: Optional[Tensor]) -> Tensor:
        r"""Samples :math:`\mathbf{z} \sim \mathcal{N}(\boldsymbol{\mu},
        \boldsymbol{\sigma}^2)` in training mode; returns the mean otherwise
        (and always for a plain auto-encoder)."""
        if self.training and logvar is not None:
            return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return mu

    def decode(self, z: Tensor) -> Tensor:
        r"""Maps latent codes back to input space (logits for the Bernoulli
        likelihood, means for the Gaussian one)."""
        h = z
        for lin in self.decoder:
            h = F.relu(lin(h))
        return self.out(h).float()

    def reconstruct(self, z: Tensor) -> Tensor:
        r"""Decodes to data space: probabilities in :math:`[0, 1]` for the
        Bernoulli likelihood, means for the Gaussian one."""
        out = self.decode(z)
        return torch.sigmoid(out) if self.likelihood == 'bernoulli' else out

    def recon_loss(self, x: Tensor, decoded: Tensor) -> Tensor:
        r"""Negative log-likelihood :math:`-\log p(\mathbf{x} \mid \mathbf{z})`
        summed over features and averaged over samples (up to a constant for
        the Gaussian likelihood)."""
        if self.likelihood == 'bernoulli':
            nll = F.binary_cross_entropy_with_logits(decoded, x,
                                                     reduction='none')
        else:
            nll = 0.5 * (decoded - x).pow(2)
        return nll.sum(dim=-1).mean()

    @staticmethod
    def kl_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
        r""":math:`\mathrm{KL}(\mathcal{N}(\boldsymbol{\mu},
        \boldsymbol{\sigma}^2) \,\|\, \mathcal{N}(\mathbf{0}, \mathbf{I}))
        = \frac{1}{2}\sum_d (\mu_d^2 + \sigma_d^2 - \log\sigma_d^2 - 1)`
        (thesis eq. 3.3), averaged over samples."""
        return 0.5 * (mu.pow(2) + logvar.exp() - logvar - 1).sum(-1).mean()

    def forward(self, x: Tensor):
        r"""Returns ``(encoder_output, z, decoded)``."""
        enc = self.encode(x)
        z = self.reparametrize(enc.mu, enc.logvar)
        return enc, z, self.decode(z)

    def __repr__(self) -> str:
        widths = '-'.join(str(c) for c in (self.in_channels, ) +
                          self.hidden_channels + (self.latent_channels, ))
        return (f'{self.__class__.__name__}({widths}, '
                f'variational={self.variational}, '
                f'likelihood={self.likelihood!r})')
