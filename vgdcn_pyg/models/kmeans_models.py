r"""The two-step baselines: an (variational) auto-encoder, then k-means."""
from typing import Optional, Tuple

import numpy as np
import torch
from sklearn.cluster import KMeans
from torch import Tensor

from ..nn import DeepAutoEncoder, StudentTAssignment
from .base import Batch, DeepClusteringModel, LossDict, embed_rows, kmeans


class AEKMeansModel(DeepClusteringModel):
    r"""k-means on the embedding of a pretrained auto-encoder (the two-step
    baseline of DEC, `Xie et al., ICML 2016
    <https://arxiv.org/abs/1511.06335>`_). No joint phase; the soft
    assignment is a Student-t kernel around the k-means centres, whose arg-max
    is the nearest centre."""
    name = 'ae_kmeans'
    has_joint_phase = False

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int):
        super().__init__(autoencoder, num_clusters)
        self.assignment = StudentTAssignment(num_clusters,
                                             autoencoder.latent_channels)

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
    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        return self.assignment(embed_rows(self.autoencoder, x, batch_size))

    def cluster_centers(self) -> Tensor:
        return self.assignment.cluster_centers


class VAEKMeansModel(AEKMeansModel):
    r"""A plain VAE (standard-normal prior, thesis eq. 3.4) trained after
    pretraining, then k-means on :math:`\boldsymbol\mu` — the thesis's
    "VAE + KMeans" ablation (its Fig. 4.2), which shows why VaDE needs a
    mixture prior. :meth:`update_target` re-runs k-means (warm-started from
    the previous centres) so the clustering follows the embedding."""
    name = 'vae_kmeans'
    variational = True
    has_joint_phase = True

    def loss(self, batch: Batch) -> LossDict:
        ae = self.autoencoder
        x = batch.x
        enc, z, decoded = ae(x)
        return {
            'recon': ae.recon_loss(x, decoded),
            'kl': ae.kl_standard_normal(enc.mu, enc.logvar),
        }

    @torch.no_grad()
    def update_target(self, batch: Batch,
                      inference_batch_size: Optional[int] = None):
        z = embed_rows(self.autoencoder, batch.x, inference_batch_size)
        z = z.cpu().numpy().astype(np.float64)
        init = self.assignment.cluster_centers.detach().cpu().numpy()
        km = KMeans(self.num_clusters, init=init.astype(np.float64),
                    n_init=1).fit(z)
        self.assignment.init_centers(torch.from_numpy(km.cluster_centers_))
