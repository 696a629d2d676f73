r"""DEC and IDEC: self-training of a Student-t soft assignment."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..nn import (EPS, DeepAutoEncoder, StudentTAssignment, kl_to_target,
                  target_distribution)
from .base import Batch, DeepClusteringModel, LossDict, embed_rows, kmeans


class DECModel(DeepClusteringModel):
    r"""Deep Embedded Clustering (`Xie et al., ICML 2016
    <https://arxiv.org/abs/1511.06335>`_) and, with :obj:`recon_weight > 0`,
    IDEC (`Guo et al., IJCAI 2017 <https://www.ijcai.org/proceedings/2017/243>`_):

    .. math::
        \mathcal{L} = \mathrm{KL}(P \,\|\, Q) + \gamma\,
        \mathcal{L}_{\mathrm{rec}},

    with :math:`Q` the Student-t assignment of the encoder's :math:`\mathbf{z}`
    to learnable centres initialised by k-means and :math:`P` the target
    distribution refreshed by :meth:`update_target`.

    Args:
        autoencoder (DeepAutoEncoder): A pretrained plain auto-encoder.
        num_clusters (int): :math:`K`.
        recon_weight (float): :math:`\gamma` (0 for DEC, 0.1 for IDEC).
        alpha (float): Student-t degrees of freedom. (default: :obj:`1.0`)
    """
    name = 'dec'
    training_tensors = ('target', )

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 recon_weight: float = 0.0, alpha: float = 1.0,
                 q_weight: float = 1.0):
        super().__init__(autoencoder, num_clusters)
        self.recon_weight = recon_weight
        self.q_weight = q_weight
        self.assignment = StudentTAssignment(num_clusters,
                                             autoencoder.latent_channels,
                                             alpha)
        self.target: Optional[Tensor] = None

    def init_clusters(self, z: np.ndarray, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      x: Optional[Tensor] = None,
                      input_graph: Optional[Tuple[Tensor, Tensor]] = None
                      ) -> np.ndarray:
        km = kmeans(z, self.num_clusters, random_state)
        self.assignment.init_centers(torch.from_numpy(km.cluster_centers_))
        return km.labels_

    @torch.no_grad()
    def update_target(self, batch: Batch,
                      inference_batch_size: Optional[int] = None):
        # The Student-t head itself: SDCN clusters with another output.
        self.target = target_distribution(self.assignment(
            embed_rows(self.autoencoder, batch.x, inference_batch_size)))

    def _dec_terms(self, batch: Batch):
        r"""Returns ``(encoder_output, P rows, {kl_q[, recon]})``."""
        if self.target is None:
            raise RuntimeError('call update_target() before loss()')
        ae = self.autoencoder
        x = batch.x
        enc = ae.encode(x)
        p = batch.rows_of(self.target)
        log_q = self.assignment(enc.mu).clamp_min(EPS).log()
        terms = {'kl_q': self.q_weight * kl_to_target(p, log_q)}
        if self.recon_weight > 0:
            terms['recon'] = self.recon_weight * ae.recon_loss(
                x, ae.decode(enc.mu))
        return enc, p, terms

    def loss(self, batch: Batch) -> LossDict:
        return self._dec_terms(batch)[2]

    @torch.no_grad()
    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        return self.assignment(embed_rows(self.autoencoder, x, batch_size))

    def cluster_centers(self) -> Tensor:
        return self.assignment.cluster_centers


class IDECModel(DECModel):
    r"""IDEC: DEC that keeps the decoder, :math:`\gamma = 0.1`."""
    name = 'idec'

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 recon_weight: float = 0.1, alpha: float = 1.0):
        super().__init__(autoencoder, num_clusters, recon_weight, alpha)
