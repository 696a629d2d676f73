r"""N2D: an auto-encoder, then UMAP of its embedding, then a Gaussian
mixture (the strongest simple deep clustering pipeline to compare with)."""
from typing import Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ..graph.query import knn_query
from ..nn import DeepAutoEncoder
from .base import DeepClusteringModel, embed_rows
from .umap_partition import umap_gmm


class N2DModel(DeepClusteringModel):
    r"""N2D, "(Not Too) Deep Clustering via Clustering the Local Manifold of
    an Autoencoded Embedding" (`McConville et al., ICPR 2020
    <https://arxiv.org/abs/1908.05968>`_): the pretrained auto-encoder's
    means :math:`\boldsymbol\mu_i` are embedded by UMAP into :math:`K`
    dimensions and clustered there by a full-covariance Gaussian mixture
    (:func:`~vgdcn_pyg.models.umap_partition.umap_gmm`). No joint phase.

    UMAP has no parametric map here, so a sample's soft assignment is the
    mixture posterior of its nearest training sample in the latent space,

    .. math::
        q(c \mid \mathbf{x}) = \gamma_{j c}, \qquad
        j = \operatorname*{arg\,min}_i \|\boldsymbol\mu(\mathbf{x}) -
        \boldsymbol\mu_i\|_2,

    which for a training sample is its own posterior. The model keeps the
    training means and posteriors (:math:`O(N(d + K))`) as buffers, so a
    saved model predicts without UMAP.

    Args:
        autoencoder (DeepAutoEncoder): A pretrained auto-encoder.
        num_clusters (int): :math:`K`.
        gmm_starts (int): EM starts of the mixture, the one of highest
            likelihood kept. (default: :obj:`1`, as published)
    """
    name = 'n2d'
    has_joint_phase = False
    options = ('gmm_starts', )

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int,
                 gmm_starts: int = 1):
        super().__init__(autoencoder, num_clusters)
        if gmm_starts < 1:
            raise ValueError(f'gmm_starts must be at least 1, got '
                             f'{gmm_starts}')
        self.gmm_starts = gmm_starts
        d = autoencoder.latent_channels
        self.register_buffer('train_z', torch.zeros(0, d))
        self.register_buffer('train_proba', torch.zeros(0, num_clusters))
        self.register_buffer('centers', torch.zeros(num_clusters, d))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # The training buffers have N rows, unknown until a fit or a load.
        for name in ('train_z', 'train_proba'):
            saved = state_dict.get(prefix + name)
            if saved is not None:
                setattr(self, name, torch.empty_like(
                    saved, device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    def init_clusters(self, z: np.ndarray, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      x: Optional[Tensor] = None,
                      input_graph: Optional[Tuple[Tensor, Tensor]] = None
                      ) -> np.ndarray:
        proba = umap_gmm(z, self.num_clusters, random_state,
                         gmm_starts=self.gmm_starts)
        labels = proba.argmax(1)
        device = self.centers.device
        self.train_z = torch.as_tensor(z, dtype=torch.float32, device=device)
        self.train_proba = torch.as_tensor(proba, dtype=torch.float32,
                                           device=device)
        for c in range(self.num_clusters):
            part = self.train_z[torch.as_tensor(labels == c, device=device)]
            self.centers[c] = part.mean(0) if len(part) else \
                self.train_z.mean(0)
        return labels

    @torch.no_grad()
    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None,
                      batch_size: Optional[int] = None) -> Tensor:
        if self.train_z.size(0) == 0:
            raise RuntimeError('N2D has no clustering yet: call '
                               'init_clusters first')
        z = embed_rows(self.autoencoder, x, batch_size)
        nearest, _ = knn_query(z, self.train_z, 1)
        return self.train_proba[nearest[:, 0]]

    def cluster_centers(self) -> Tensor:
        r"""The latent mean of each cluster's training samples."""
        return self.centers
