r"""vgdcn-pyg: deep image clustering with VGDCN (VaDE + GCN) in PyTorch
Geometric.

The package is laid out as the pipeline it runs, each layer importing only
those before it:
:mod:`~vgdcn_pyg.datasets` -> :mod:`~vgdcn_pyg.graph` -> :mod:`~vgdcn_pyg.nn`
-> :mod:`~vgdcn_pyg.models` -> :mod:`~vgdcn_pyg.training` ->
:mod:`~vgdcn_pyg.evaluation` -> :mod:`~vgdcn_pyg.cluster` (the scikit-learn
style estimators) -> :mod:`~vgdcn_pyg.experiments` (comparisons and sweeps
over seeds) -> :mod:`~vgdcn_pyg.cli`, with :mod:`~vgdcn_pyg.exceptions`,
:mod:`~vgdcn_pyg.version` and :mod:`~vgdcn_pyg.io` (atomic outputs) below
them all (``tests/test_layers.py`` checks the order).

The estimators are imported on first use (PEP 562), so that
``from vgdcn_pyg import VGDCN`` works while ``import vgdcn_pyg.graph`` loads
no layer above the graphs.
"""
from .version import __version__  # noqa

from .exceptions import DataError, GraphError, ModelError, VGDCNError  # noqa

#: The names of :mod:`vgdcn_pyg.cluster` importable from here.
_ESTIMATORS = ('AEKMeans', 'DEC', 'IDEC', 'N2D', 'SDCN', 'VAEKMeans', 'VaDE',
               'VGDCN', 'DeepClustering')


def __getattr__(name: str):
    if name in _ESTIMATORS:
        # The one function-local import of the package (allowed by
        # tests/test_layers.py): importing the top level must not import
        # the estimators and everything below them.
        from . import cluster
        value = getattr(cluster, name)
        globals()[name] = value  # later lookups skip __getattr__
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return sorted(set(globals()) | set(_ESTIMATORS))


__all__ = [
    '__version__',
    'VGDCN',
    'VaDE',
    'VAEKMeans',
    'AEKMeans',
    'DEC',
    'IDEC',
    'SDCN',
    'N2D',
    'DeepClustering',
    'VGDCNError',
    'DataError',
    'GraphError',
    'ModelError',
]
