r"""VGDCN and the baselines it is compared with, sharing the blocks of
:mod:`vgdcn_pyg.nn`."""
from .base import DeepClusteringModel
from .kmeans_models import AEKMeansModel, VAEKMeansModel
from .dec import DECModel, IDECModel
from .vade import VaDEModel
from .graph_models import SDCNModel, VGDCNModel

__all__ = [
    'DeepClusteringModel',
    'AEKMeansModel',
    'VAEKMeansModel',
    'DECModel',
    'IDECModel',
    'VaDEModel',
    'SDCNModel',
    'VGDCNModel',
]
