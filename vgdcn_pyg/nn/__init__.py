r"""Building blocks of VGDCN and its baselines, in PyTorch Geometric style."""
from .autoencoder import DeepAutoEncoder, EncoderOutput
from .gmm_prior import GaussianMixturePrior
from .clustering_head import (EPS, StudentTAssignment, kl_to_target, student_t,
                              target_distribution)
from .fusion import Fusion
from .fused_gcn import FusedGCN

__all__ = [
    'DeepAutoEncoder',
    'EncoderOutput',
    'GaussianMixturePrior',
    'StudentTAssignment',
    'student_t',
    'target_distribution',
    'kl_to_target',
    'Fusion',
    'FusedGCN',
]
