r"""Exceptions raised on bad input.

Every error a user can cause (a bad file, a wrong shape, ``k >= N`` ...) is a
:class:`VGDCNError`, so the command line can print its one-line message and
exit non-zero instead of a traceback.
"""


class VGDCNError(ValueError):
    r"""Base class of all user-facing errors of :mod:`vgdcn_pyg`."""


class DataError(VGDCNError):
    r"""Input data cannot be read or is malformed (names the file or problem)."""


class GraphError(VGDCNError):
    r"""A graph cannot be built from the given samples and parameters."""


class ModelError(VGDCNError):
    r"""A model cannot be fitted, loaded or used as asked."""
