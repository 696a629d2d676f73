r"""Interface shared by VGDCN and its baselines."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from torch import Tensor
from torch.nn import Module

from ..nn import DeepAutoEncoder

LossDict = Dict[str, Tensor]


class DeepClusteringModel(Module):
    r"""Base class of the deep clustering models.

    Every model owns a :class:`~vgdcn_pyg.nn.DeepAutoEncoder` and goes through
    the same three phases, driven by :mod:`vgdcn_pyg.training`:

    1. :meth:`pretrain_loss` — reconstruction of mini-batches through the
       deterministic mean code (as VaDE and DEC pretrain);
    2. :meth:`init_clusters` — k-means, a GMM or (VGDCN) spectral clustering of
       the kNN graph, on the pretrained embedding;
    3. :meth:`loss` — the model's own joint objective, returned term by term,
       with :meth:`update_target` called every few epochs to refresh the
       self-supervision target.

    :meth:`predict_proba` gives the soft assignment the model clusters with.
    Models with :attr:`requires_graph` take the kNN graph in every call and are
    trained full batch; the others accept mini-batches through :obj:`index`.
    """
    #: Whether :meth:`loss` and :meth:`predict_proba` need the kNN graph.
    requires_graph: bool = False
    #: Whether the model has a joint training phase after initialisation.
    has_joint_phase: bool = True
    #: Whether full-batch :meth:`loss` can refresh the target from its own
    #: forward pass (see :meth:`schedule_target_refresh`).
    refreshes_target_in_loss: bool = False
    #: Attributes holding tensors (or :obj:`None`) that are training state
    #: but not parameters, e.g. the target :math:`P` refreshed every few
    #: epochs; :meth:`training_state` saves them for a checkpoint.
    training_tensors: Tuple[str, ...] = ()

    def __init__(self, autoencoder: DeepAutoEncoder, num_clusters: int):
        super().__init__()
        self.autoencoder = autoencoder
        self.num_clusters = num_clusters

    def reset_parameters(self):
        for module in self.children():
            if hasattr(module, 'reset_parameters'):
                module.reset_parameters()

    def training_state(self) -> Dict[str, Optional[Tensor]]:
        r"""The non-parameter training state (:attr:`training_tensors`),
        which a checkpoint stores next to :meth:`state_dict` so that a resumed
        run continues exactly. Kept out of :meth:`state_dict` because a fitted
        model does not need it."""
        return {name: getattr(self, name) for name in self.training_tensors}

    def load_training_state(self, state: Dict[str, Optional[Tensor]]):
        r"""Restores what :meth:`training_state` returned, on the model's
        device."""
        device = next(self.parameters()).device
        for name in self.training_tensors:
            value = state.get(name)
            setattr(self, name, None if value is None else value.to(device))

    def pretrain_loss(self, x: Tensor) -> LossDict:
        r"""Reconstruction through :math:`\boldsymbol\mu` (no sampling)."""
        ae = self.autoencoder
        return {'recon': ae.recon_loss(x, ae.decode(ae.encode(x).mu))}

    @torch.no_grad()
    def embed(self, x: Tensor) -> Tensor:
        r"""The latent means :math:`\boldsymbol\mu` of :obj:`x`."""
        return self.autoencoder.encode(x).mu

    def init_clusters(self, z: np.ndarray, random_state: int,
                      edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None) -> np.ndarray:
        r"""Initialises the clustering parameters from the pretrained
        embedding :obj:`z` (graph models also get the kNN graph) and returns
        the initial labels."""
        raise NotImplementedError

    @torch.no_grad()
    def update_target(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None):
        r"""Refreshes the self-supervision target from the whole data set."""

    def schedule_target_refresh(self):
        r"""For models with :attr:`refreshes_target_in_loss`: the next
        full-batch :meth:`loss` refreshes the target from its forward pass,
        in place of an :meth:`update_target` inference pass."""
        raise NotImplementedError

    def loss(self, x: Tensor, edge_index: Optional[Tensor] = None,
             edge_weight: Optional[Tensor] = None,
             index: Optional[Tensor] = None) -> LossDict:
        r"""The joint objective, term by term (their sum is minimised).
        :obj:`index` holds the rows of :obj:`x` in the full data set when
        :obj:`x` is a mini-batch."""
        raise NotImplementedError

    def predict_proba(self, x: Tensor, edge_index: Optional[Tensor] = None,
                      edge_weight: Optional[Tensor] = None) -> Tensor:
        r"""Soft cluster assignment, shape :obj:`[N, K]`."""
        raise NotImplementedError


def kmeans(z: np.ndarray, num_clusters: int, random_state: int,
           n_init: int = 20):
    r"""k-means on an embedding (the initialisation of DEC, IDEC and SDCN)."""
    from sklearn.cluster import KMeans
    return KMeans(num_clusters, n_init=n_init,
                  random_state=random_state).fit(z)


def diagonal_gmm(z: np.ndarray, num_clusters: int, random_state: int):
    r"""A diagonal Gaussian mixture on an embedding (VaDE's initialisation),
    started from the best of 20 k-means runs: EM from a single k-means run
    lands in a poor optimum far more often (on USPS 65% against 77% ACC)."""
    from sklearn.mixture import GaussianMixture
    centers = kmeans(z, num_clusters, random_state).cluster_centers_
    return GaussianMixture(num_clusters, covariance_type='diag',
                           reg_covar=1e-4, means_init=centers,
                           random_state=random_state).fit(z)
