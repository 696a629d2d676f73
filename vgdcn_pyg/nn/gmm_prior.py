r"""Gaussian-mixture prior of VaDE with its evidence lower bound."""
import math
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Module, Parameter

from .autoencoder import MAX_LOGVAR
from .clustering_head import EPS


class GaussianMixturePrior(Module):
    r"""The Gaussian-mixture latent prior of VaDE (`Jiang et al., IJCAI 2017
    <https://arxiv.org/abs/1611.05148>`_), thesis eq. 3.5-3.6:

    .. math::
        p(c) = \pi_c, \qquad
        p(\mathbf{z} \mid c) = \mathcal{N}(\mathbf{z} \mid \boldsymbol{\mu}_c,
        \mathrm{diag}(\boldsymbol{\sigma}_c^2)).

    The responsibilities are :math:`\gamma_{ic} = q(c \mid \mathbf{x}_i)
    \approx p(c \mid \mathbf{z}_i) \propto \pi_c\, \mathcal{N}(\mathbf{z}_i
    \mid \boldsymbol{\mu}_c, \boldsymbol{\sigma}_c^2)`, and the KL part of the
    negative ELBO for an encoder posterior :math:`\mathcal{N}(\tilde{\boldsymbol
    \mu}, \tilde{\boldsymbol\sigma}^2)` is

    .. math::
        \mathrm{KL}(q(\mathbf{z}, c \mid \mathbf{x}) \,\|\, p(\mathbf{z}, c))
        = \frac{1}{2}\sum_c \gamma_c \sum_d \left(\log\sigma_{cd}^2 +
        \frac{\tilde\sigma_d^2}{\sigma_{cd}^2} + \frac{(\tilde\mu_d -
        \mu_{cd})^2}{\sigma_{cd}^2}\right) - \sum_c \gamma_c \log
        \frac{\pi_c}{\gamma_c} - \frac{1}{2}\sum_d (1 + \log\tilde\sigma_d^2).

    The mixture weights are stored as logits so that :math:`\boldsymbol\pi`
    always stays on the simplex.

    Args:
        num_components (int): Number of clusters :math:`K`.
        latent_channels (int): Latent dimension :math:`d_z`.
    """
    def __init__(self, num_components: int, latent_channels: int):
        super().__init__()
        self.num_components = num_components
        self.latent_channels = latent_channels
        self.pi_logits = Parameter(torch.empty(num_components))
        self.mu_c = Parameter(torch.empty(num_components, latent_channels))
        self.logvar_c = Parameter(torch.empty(num_components, latent_channels))
        self.reset_parameters()

    def reset_parameters(self):
        r"""Uniform weights, standard-normal means, unit variances."""
        torch.nn.init.zeros_(self.pi_logits)
        torch.nn.init.normal_(self.mu_c)
        torch.nn.init.zeros_(self.logvar_c)

    @property
    def pi(self) -> Tensor:
        return torch.softmax(self.pi_logits, dim=0)

    @torch.no_grad()
    def init_from(self, means: Tensor, variances: Tensor,
                  weights: Optional[Tensor] = None):
        r"""Copies a fitted diagonal GMM (e.g. :class:`sklearn.mixture.
        GaussianMixture` with :obj:`covariance_type="diag"`) into the prior."""
        means = torch.as_tensor(means, dtype=self.mu_c.dtype)
        variances = torch.as_tensor(variances, dtype=self.mu_c.dtype)
        self.mu_c.copy_(means)
        self.logvar_c.copy_(variances.clamp_min(EPS).log())
        if weights is None:
            self.pi_logits.zero_()
        else:
            weights = torch.as_tensor(weights, dtype=self.mu_c.dtype)
            self.pi_logits.copy_(weights.clamp_min(EPS).log())

    def _logvar_c(self) -> Tensor:
        return self.logvar_c.clamp(-MAX_LOGVAR, MAX_LOGVAR)

    def _log_pi(self) -> Tensor:
        # An emptied component's weight may underflow to 0 (or its logit be
        # -inf): floored at log(EPS), 0 * log(pi_c) stays 0 instead of NaN.
        # Inactive for every weight above 1e-10, so results do not change.
        return torch.log_softmax(self.pi_logits, dim=0).clamp_min(
            math.log(EPS))

    def log_joint(self, z: Tensor) -> Tensor:
        r""":math:`\log \pi_c + \log\mathcal{N}(\mathbf{z}_i \mid
        \boldsymbol\mu_c, \boldsymbol\sigma_c^2)` for every sample and
        component, shape :obj:`[N, K]`."""
        logvar_c = self._logvar_c()
        diff = z.unsqueeze(1) - self.mu_c.unsqueeze(0)  # [N, K, d]
        log_pdf = -0.5 * (math.log(2 * math.pi) + logvar_c +
                          diff.pow(2) / logvar_c.exp()).sum(-1)
        return self._log_pi() + log_pdf

    def responsibilities(self, z: Tensor) -> Tensor:
        r""":math:`\gamma_{ic} = p(c \mid \mathbf{z}_i)`, shape :obj:`[N, K]`."""
        return torch.softmax(self.log_joint(z), dim=-1)

    def kl_divergence(self, mu: Tensor, logvar: Tensor, gamma: Tensor) -> Tensor:
        r"""The KL term of the VaDE ELBO, averaged over samples."""
        logvar_c = self._logvar_c()
        var_c = logvar_c.exp()
        diff = mu.unsqueeze(1) - self.mu_c.unsqueeze(0)  # [N, K, d]
        per_component = (logvar_c + logvar.exp().unsqueeze(1) / var_c +
                         diff.pow(2) / var_c).sum(-1)  # [N, K]
        log_pi = self._log_pi()
        kl = (0.5 * (gamma * per_component).sum(-1) -
              (gamma * (log_pi - torch.log(gamma + EPS))).sum(-1) -
              0.5 * (1 + logvar).sum(-1))
        return kl.mean()

    @torch.no_grad()
    def sample(self, num_samples: int, component: int,
               generator: Optional[torch.Generator] = None) -> Tensor:
        r"""Draws :math:`\mathbf{z} \sim \mathcal{N}(\boldsymbol\mu_c,
        \boldsymbol\sigma_c^2)` for one component :math:`c`."""
        if not 0 <= component < self.num_components:
            raise ValueError(f'component must be in [0, {self.num_components})'
                             f', got {component}')
        std = torch.exp(0.5 * self._logvar_c()[component])
        eps = torch.randn(num_samples, self.latent_channels,
                          generator=generator, device=std.device)
        return self.mu_c[component] + eps * std

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_components='
                f'{self.num_components}, latent_channels='
                f'{self.latent_channels})')
