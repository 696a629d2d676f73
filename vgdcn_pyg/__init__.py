r"""vgdcn-pyg: deep image clustering with VGDCN (VaDE + GCN) in PyTorch
Geometric.

The package is laid out as the pipeline it runs:
:mod:`~vgdcn_pyg.datasets` -> :mod:`~vgdcn_pyg.graph` -> :mod:`~vgdcn_pyg.nn`
-> :mod:`~vgdcn_pyg.models` -> :mod:`~vgdcn_pyg.training` ->
:mod:`~vgdcn_pyg.evaluation` -> :mod:`~vgdcn_pyg.cli`, with the
scikit-learn style estimators of :mod:`~vgdcn_pyg.cluster` on top.
"""
__version__ = '0.1.0'

from .exceptions import DataError, GraphError, ModelError, VGDCNError  # noqa
from .cluster import (AEKMeans, DEC, IDEC, SDCN, VAEKMeans, VaDE, VGDCN,  # noqa
                      DeepClustering)

__all__ = [
    '__version__',
    'VGDCN',
    'VaDE',
    'VAEKMeans',
    'AEKMeans',
    'DEC',
    'IDEC',
    'SDCN',
    'DeepClustering',
    'VGDCNError',
    'DataError',
    'GraphError',
    'ModelError',
]
