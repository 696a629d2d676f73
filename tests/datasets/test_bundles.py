r"""The COIL-20 and ISOLET bundles against their shared sources: equal bit
for bit, and rebuilt byte for byte by ``make_bundles``."""

import hashlib

import numpy as np
import pytest

from vgdcn_pyg.datasets import make_bundles
from vgdcn_pyg.datasets.bundled import bundle_path
from vgdcn_pyg.datasets.coil20 import read_coil20
from vgdcn_pyg.datasets.isolet import read_isolet

from ..conftest import shared_data, shared_root

SOURCES = [("coil20", "coil20/coil20.npz", read_coil20, np.uint8, (1440, 1024)),
           ("isolet", "isolet/isolet.npz", read_isolet, np.float32, (1560, 617))]


@pytest.mark.parametrize("name, source, read, dtype, shape", SOURCES)
def test_bundle_equals_shared_source(name, source, read, dtype, shape):
    path = shared_data(source)
    with np.load(path, allow_pickle=False) as z:
        x, y = z["x"], z["y"]
    assert x.dtype == dtype and x.shape == shape
    x = np.ascontiguousarray(x)  # the ISOLET source is column-major, like its MATLAB origin
    for got_x, got_y in (read(), read(path)):  # the decoded bundle, and the source read by the loader
        assert got_x.dtype == dtype
        np.testing.assert_array_equal(got_x.view(np.uint8), x.view(np.uint8))  # every bit
        np.testing.assert_array_equal(got_y, y)


@pytest.mark.parametrize("name, source, read, dtype, shape", SOURCES)
def test_rebuild_gives_the_bundled_bytes(tmp_path, capsys, name, source, read, dtype, shape):
    shared_data(source)
    assert make_bundles.main([name, "--shared", str(shared_root()), "--out", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == [f"{name}.npz"]  # the other bundles untouched
    rebuilt = (tmp_path / f"{name}.npz").read_bytes()
    assert rebuilt == bundle_path(f"{name}.npz").read_bytes()
    assert hashlib.sha256(rebuilt).hexdigest() in capsys.readouterr().out


def test_refuses_unknown_names_and_other_sources(tmp_path, capsys):
    with pytest.raises(SystemExit):
        make_bundles.main(["mnist", "--out", str(tmp_path)])
    assert "unknown bundle mnist" in capsys.readouterr().err
    (tmp_path / "coil20").mkdir()
    (tmp_path / "coil20" / "coil20.npz").write_bytes(b"something else")
    with pytest.raises(SystemExit, match="is not the reference"):
        make_bundles.main(["coil20", "--shared", str(tmp_path), "--out", str(tmp_path / "out")])
