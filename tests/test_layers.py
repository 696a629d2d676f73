r"""The package is a stack of layers (see ``vgdcn_pyg/__init__.py``): each may
import only the layers before it, and all its imports of the package are at
module level, where a cycle fails at once instead of hiding in a function.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / 'vgdcn_pyg'

#: The layers in pipeline order; a module belongs to the layer whose name it
#: is or starts with (``vgdcn_pyg.graph.knn`` to ``vgdcn_pyg.graph``).
#: ``plotting`` (figures, on top of ``io`` only) sits with the evaluation;
#: ``validation``, ``model_file`` and ``phases`` are the parts of the
#: estimator layer that :mod:`vgdcn_pyg.cluster` is built from.
LAYERS = [
    'vgdcn_pyg.exceptions',
    'vgdcn_pyg.version',
    'vgdcn_pyg.io',
    'vgdcn_pyg.datasets',
    'vgdcn_pyg.graph',
    'vgdcn_pyg.nn',
    'vgdcn_pyg.models',
    'vgdcn_pyg.training',
    'vgdcn_pyg.evaluation',
    'vgdcn_pyg.plotting',
    'vgdcn_pyg.validation',
    'vgdcn_pyg.model_file',
    'vgdcn_pyg.phases',
    'vgdcn_pyg.cluster',
    'vgdcn_pyg.experiments',
    'vgdcn_pyg.cli',
]
#: What ``import vgdcn_pyg`` alone may load (the estimators are imported on
#: first use, see ``vgdcn_pyg.__getattr__``); importing any layer loads it.
TOP_LEVEL = {'vgdcn_pyg', 'vgdcn_pyg.version', 'vgdcn_pyg.exceptions'}
#: Third-party modules that a function may import itself: heavy or optional
#: ones that most calls never need (numba comes with umap and is only
#: needed with it). Everything else is imported at module
#: level.
LOCAL_IMPORTS_ALLOWED = {'faiss', 'matplotlib', 'numba', 'skimage', 'umap'}
#: (file, function) pairs allowed a function-local import of the package:
#: the lazy import of the estimators by the package's top level.
LOCAL_PACKAGE_IMPORTS_ALLOWED = {('__init__.py', '__getattr__')}


def _loaded_after_importing(module: str) -> set:
    r"""The ``vgdcn_pyg`` modules in ``sys.modules`` after importing
    :obj:`module` in a fresh interpreter."""
    code = ('import importlib, json, sys; '
            f'importlib.import_module({module!r}); '
            "print(json.dumps(sorted(m for m in sys.modules "
            "if m == 'vgdcn_pyg' or m.startswith('vgdcn_pyg.'))))")
    result = subprocess.run([sys.executable, '-c', code],
                            capture_output=True, text=True,
                            cwd=PACKAGE.parent)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def _layer_of(module: str) -> int:
    for i, layer in enumerate(LAYERS):
        if module == layer or module.startswith(layer + '.'):
            return i
    raise AssertionError(f'{module} belongs to no layer of tests/'
                         f'test_layers.py: add its place in the pipeline to '
                         f'LAYERS')


def test_the_top_level_imports_no_layer_above_the_exceptions():
    assert _loaded_after_importing('vgdcn_pyg') == TOP_LEVEL


@pytest.mark.parametrize('layer', LAYERS)
def test_a_layer_imports_no_later_layer(layer):
    loaded = _loaded_after_importing(layer) - TOP_LEVEL
    position = LAYERS.index(layer)
    later = sorted(m for m in loaded if _layer_of(m) > position)
    assert not later, (f'importing {layer} imports the later layer(s) '
                       f'{", ".join(later)}')


def _imported_module(node: ast.AST):
    r"""``(name, relative)`` of an import statement or of an
    ``importlib.import_module`` / ``__import__`` call with a literal name;
    :obj:`None` for any other node."""
    if isinstance(node, ast.Import):
        return [(alias.name, False) for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        return [(node.module or '', node.level > 0)]
    if isinstance(node, ast.Call) and node.args and \
            isinstance(node.args[0], ast.Constant) and \
            isinstance(node.args[0].value, str):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else \
            getattr(func, 'id', None)
        if name in ('import_module', '__import__'):
            text = node.args[0].value
            return [(text.lstrip('.'), text.startswith('.'))]
    return None


def _function_local_imports():
    r"""``(file, line, function, module, relative)`` of every import inside
    a function body of the package."""
    found = {}
    for path in sorted(PACKAGE.rglob('*.py')):
        tree = ast.parse(path.read_text(), filename=str(path))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                for name, relative in _imported_module(node) or ():
                    key = (path.relative_to(PACKAGE).as_posix(), node.lineno)
                    # the innermost function wins (ast.walk goes outside in)
                    found[key] = (*key, func.name, name, relative)
    return sorted(found.values())


def test_no_function_imports_the_package_or_a_light_dependency():
    bad = []
    for file, line, func, name, relative in _function_local_imports():
        root = name.split('.')[0]
        if relative or root == 'vgdcn_pyg':
            if (file, func) not in LOCAL_PACKAGE_IMPORTS_ALLOWED:
                bad.append(f'vgdcn_pyg/{file}:{line} {func}() imports '
                           f'{"." if relative else ""}{name}: import the '
                           f'package at module level (a cycle there is a '
                           f'layering error)')
        elif root not in LOCAL_IMPORTS_ALLOWED:
            bad.append(f'vgdcn_pyg/{file}:{line} {func}() imports {name}: '
                       f'import it at module level (only '
                       f'{", ".join(sorted(LOCAL_IMPORTS_ALLOWED))} may be '
                       f'imported where needed)')
    assert not bad, '\n'.join(bad)


def test_the_static_check_finds_local_imports(tmp_path, monkeypatch):
    # The check above must be able to fail: a package with one hidden
    # import of itself and one of a light dependency.
    package = tmp_path / 'vgdcn_pyg'
    package.mkdir()
    (package / 'a.py').write_text(
        'import os\n\n\ndef f():\n    from . import b\n    import numpy\n'
        '    import matplotlib.pyplot\n    return b, numpy\n')
    monkeypatch.setitem(globals(), 'PACKAGE', package)
    found = [(f, line, func, name, rel)
             for f, line, func, name, rel in _function_local_imports()]
    assert found == [('a.py', 5, 'f', '', True),
                     ('a.py', 6, 'f', 'numpy', False),
                     ('a.py', 7, 'f', 'matplotlib.pyplot', False)]
    with pytest.raises(AssertionError, match=r'a\.py:5 f\(\) imports \.'):
        test_no_function_imports_the_package_or_a_light_dependency()
