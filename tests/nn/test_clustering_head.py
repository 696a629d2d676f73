import pytest
import torch

from vgdcn_pyg.nn import (StudentTAssignment, kl_to_target, student_t,
                          target_distribution)


def test_student_t_known_answer():
    centers = torch.tensor([[0.0], [2.0]])
    q = student_t(torch.tensor([[0.0]]), centers)
    # kernel (1 + d^2)^-1: 1 and 1/5
    assert q[0, 0].item() == pytest.approx(5 / 6)
    head = StudentTAssignment(2, 1)
    head.init_centers(centers)
    assert torch.allclose(head(torch.tensor([[0.0]])), q)


def test_target_distribution_sharpens_and_normalises():
    q = torch.tensor([[0.6, 0.4], [0.3, 0.7], [0.5, 0.5]])
    p = target_distribution(q)
    assert torch.allclose(p.sum(1), torch.ones(3))
    assert p[0, 0] > q[0, 0] and p[1, 1] > q[1, 1]
    assert not p.requires_grad


def test_kl_to_target_zero_iff_equal():
    p = torch.tensor([[0.2, 0.8]])
    assert kl_to_target(p, p.log()).item() == pytest.approx(0.0, abs=1e-6)
    assert kl_to_target(p, torch.tensor([[0.5, 0.5]]).log()).item() > 0


def test_kl_to_target_weighs_samples():
    p = torch.tensor([[0.2, 0.8], [0.9, 0.1], [0.5, 0.5]])
    log_q = torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]]).log()
    each = torch.stack([kl_to_target(p[i:i + 1], log_q[i:i + 1])
                        for i in range(3)])
    weight = torch.tensor([1.0, 3.0, 0.0])
    assert kl_to_target(p, log_q, weight).item() == pytest.approx(
        ((weight * each).sum() / weight.sum()).item())
    # equal weights, at any scale, are the plain mean
    assert kl_to_target(p, log_q, torch.full((3, ), 7.0)).item() == \
        pytest.approx(kl_to_target(p, log_q).item())
