r"""VaDE: a VAE whose latent prior is a Gaussian mixture."""
import math
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..nn import DeepAutoEncoder, EncoderOutput, GaussianMixturePrior
from .base import Batch, DeepClusteringModel, LossDict, diagonal_gmm, embed_rows


class VaDEModel(DeepClusteringModel):
    r"""Variational Deep Embedding (`Jiang et al., IJCAI 2017
    <https://arxiv.org/abs/1611.05148>`_), the "VAE + GMM" of the VGDCN
    thesis (Section 3.1.2, Algorithm 1). It minimises the negative ELBO

    .. math::
        -\mathcal{L}_{\mathrm{ELBO}} = -\mathbb{E}_{q(\mathbf{z}, c \mid
        \mathbf{x})}[\log p(\mathbf{x} \mid \mathbf{z})] +
        \mathrm{KL}(q(\mathbf{z}, c \mid \mathbf{x}) \,\|\, p(\mathbf{z}, c))

    (thesis eq. 3.6), returned as the terms :obj:`recon` and :obj:`kl`. The
    prior is initialised by a diagonal GMM fitted on the pretrained means, and
    samples are clustered by :math:`\arg\max_c \gamma_{ic}`.

    Args:
        autoencoder (DeepAutoEncoder): A variational auto-encoder.
        num_clusters (int): :math:`K`.
    """
    name = 'vade'
    variational = True

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int):
        if not autoencoder.variational:
            raise ValueError(f'{self.__class__.__name__} needs a variational '
                             f'auto-encoder')
        super().__init__(autoencoder, num_clusters)
        self.prior = GaussianMixturePrior(num_clusters,
                                          autoencoder.latent_channels)

    def init_clusters(self, z: np.ndarray, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      x: Optional[Tensor] = None,
                      input_graph: Optional[Tuple[Tensor, Tensor]] = None
                      ) -> np.ndarray:
        gmm = diagonal_gmm(z, self.num_clusters, random_state)
        self._init_prior(gmm.means_, gmm.covariances_, gmm.weights_)
        return gmm.predict(z)

    def init_prior_from_labels(self, z: np.ndarray, labels: np.ndarray):
        r"""Moment-matches the prior to a given partition of :obj:`z`
        (weights, means and diagonal variances of every part)."""
        means, variances, weights = [], [], []
        for c in range(self.num_clusters):
            part = z[labels == c]
            if len(part) == 0:  # an empty part: a tiny component at the mean
                part = z.mean(0, keepdims=True)
            means.append(part.mean(0))
            variances.append(part.var(0) + 1e-4)
            weights.append(max(len(part), 1) / len(z))
        self._init_prior(np.stack(means), np.stack(variances),
                         np.asarray(weights) / np.sum(weights))

    def _init_prior(self, means, variances, weights):
        self.prior.init_from(torch.as_tensor(means), torch.as_tensor(variances),
                             torch.as_tensor(weights))
        # Start the posterior variance well inside the clusters' spread, so
        # that sampling does not blur the pretrained structure at once.
        self.autoencoder.reset_logvar_head(
            math.log(0.1 * float(np.median(variances))))

    def elbo(self, x: Tensor) -> Tuple[EncoderOutput, Tensor, LossDict]:
        r"""Returns ``(encoder_output, z, {'recon': ..., 'kl': ...})``."""
        ae = self.autoencoder
        enc, z, decoded = ae(x)
        gamma = self.prior.responsibilities(z)
        return enc, z, {
            'recon': ae.recon_loss(x, decoded),
            'kl': self.prior.kl_divergence(enc.mu, enc.logvar, gamma),
        }

    def loss(self, batch: Batch) -> LossDict:
        return self.elbo(batch.x)[2]

    @torch.no_grad()
    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        return self.prior.responsibilities(
            embed_rows(self.autoencoder, x, batch_size))

    def cluster_centers(self) -> Tensor:
        return self.prior.mu_c

    @torch.no_grad()
    def sample(self, num_samples: int, component: int,
               generator: Optional[torch.Generator] = None) -> Tensor:
        r"""Generates :obj:`num_samples` new data points of cluster
        :obj:`component`: :math:`\mathbf{z} \sim \mathcal{N}(\boldsymbol\mu_c,
        \boldsymbol\sigma_c^2)`, decoded (thesis Fig. 4.3)."""
        z = self.prior.sample(num_samples, component, generator)
        return self.autoencoder.reconstruct(z)
