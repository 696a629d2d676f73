r"""VGDCN and the baselines it is compared with, sharing the blocks of
:mod:`vgdcn_pyg.nn`, and the registry that names them.

Every model class declares what the estimator needs (its
:attr:`~DeepClusteringModel.name`, whether it is variational, its default
graph and schedule, its extra :attr:`~DeepClusteringModel.options`), so that
:class:`~vgdcn_pyg.cluster.DeepClustering`, the command line and the
benchmarks read :data:`MODELS` and know no model by name. Adding a model is
one subclass of :class:`DeepClusteringModel` plus one entry here.
"""
from typing import Dict, Type

from ..exceptions import ModelError
from .base import Batch, DeepClusteringModel
from .kmeans_models import AEKMeansModel, VAEKMeansModel
from .dec import DECModel, IDECModel
from .vade import VaDEModel
from .n2d import N2DModel
from .graph_models import GraphBranch, SDCNModel, VGDCNModel

#: Model name -> model class, in the order tables list them (baselines
#: first, VGDCN last).
MODELS: Dict[str, Type[DeepClusteringModel]] = {
    cls.name: cls for cls in (AEKMeansModel, VAEKMeansModel, VaDEModel,
                              DECModel, IDECModel, SDCNModel, N2DModel,
                              VGDCNModel)
}


def get_model(name: str) -> Type[DeepClusteringModel]:
    r"""The model class registered as :obj:`name`, or a
    :class:`~vgdcn_pyg.exceptions.ModelError` that lists the choices."""
    try:
        return MODELS[name]
    except (KeyError, TypeError):
        raise ModelError(f'unknown model {name!r}; choose one of '
                         f'{", ".join(MODELS)}') from None


__all__ = [
    'MODELS',
    'get_model',
    'Batch',
    'DeepClusteringModel',
    'GraphBranch',
    'AEKMeansModel',
    'VAEKMeansModel',
    'DECModel',
    'IDECModel',
    'VaDEModel',
    'SDCNModel',
    'N2DModel',
    'VGDCNModel',
]
