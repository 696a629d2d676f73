# Sphinx configuration of vgdcn-pyg (build: `make docs`).
import os
import sys

sys.path.insert(0, os.path.abspath('..'))

from vgdcn_pyg.version import __version__  # noqa: E402

project = 'vgdcn-pyg'
author = 'vgdcn-pyg developers'
release = __version__
extensions = [
    'sphinx.ext.autodoc',
    'sphinx.ext.autosummary',
    'sphinx.ext.napoleon',
    'sphinx.ext.mathjax',
    'sphinx.ext.viewcode',
    'sphinx_click',
]
autodoc_member_order = 'bysource'
autodoc_default_options = {'members': True, 'show-inheritance': True}
autodoc_typehints = 'none'
napoleon_google_docstring = True
exclude_patterns = ['_build']
html_theme = 'alabaster'


def _skip_sklearn_routing(app, what, name, obj, skip, options):
    # scikit-learn adds set_*_request methods whose docstrings link into its
    # own documentation; they are not part of this package's API.
    if name.startswith('set_') and name.endswith('_request'):
        return True
    return skip


def setup(app):
    app.connect('autodoc-skip-member', _skip_sklearn_routing)
