import pytest
import torch

from vgdcn_pyg.nn import Fusion


@pytest.mark.parametrize('eps', [0.0, 0.3, 1.0])
def test_convex_combination(eps):
    a, b = torch.ones(2, 3), torch.zeros(2, 3)
    assert torch.allclose(Fusion(eps)(a, b), torch.full((2, 3), 1 - eps))


def test_bad_eps_and_shapes():
    with pytest.raises(ValueError, match='eps'):
        Fusion(1.5)
    with pytest.raises(ValueError, match='cannot fuse'):
        Fusion(0.5)(torch.ones(2, 3), torch.ones(2, 4))
