import math

import pytest
import torch

from vgdcn_pyg.nn import GaussianMixturePrior


def test_log_joint_known_value():
    prior = GaussianMixturePrior(2, 1)
    prior.init_from(torch.tensor([[0.0], [3.0]]), torch.tensor([[1.0], [4.0]]),
                    torch.tensor([0.25, 0.75]))
    z = torch.tensor([[1.0]])
    expected0 = math.log(0.25) - 0.5 * (math.log(2 * math.pi) + 1.0)
    expected1 = math.log(0.75) - 0.5 * (math.log(2 * math.pi) + math.log(4)
                                        + 4 / 4)
    out = prior.log_joint(z)[0]
    assert out[0].item() == pytest.approx(expected0, abs=1e-5)
    assert out[1].item() == pytest.approx(expected1, abs=1e-5)
    gamma = prior.responsibilities(z)
    assert gamma.sum().item() == pytest.approx(1.0)


def test_pi_stays_on_simplex():
    prior = GaussianMixturePrior(4, 2)
    with torch.no_grad():
        prior.pi_logits.copy_(torch.tensor([100.0, -100.0, 0.0, 3.0]))
    assert prior.pi.sum().item() == pytest.approx(1.0)
    assert (prior.pi >= 0).all()


def test_kl_matches_monte_carlo():
    # KL(q(z,c|x) || p(z,c)) by sampling z ~ q(z|x) with c ~ gamma.
    torch.manual_seed(0)
    prior = GaussianMixturePrior(3, 2)
    prior.init_from(torch.randn(3, 2), torch.rand(3, 2) + 0.5,
                    torch.tensor([0.2, 0.3, 0.5]))
    mu = torch.randn(1, 2)
    logvar = torch.log(torch.rand(1, 2) + 0.3)
    gamma = torch.tensor([[0.1, 0.6, 0.3]])
    closed = prior.kl_divergence(mu, logvar, gamma).item()
    z = mu + torch.randn(200000, 2) * (0.5 * logvar).exp()
    log_q_z = (-0.5 * (math.log(2 * math.pi) + logvar +
                       (z - mu).pow(2) / logvar.exp())).sum(-1)
    log_p = prior.log_joint(z)  # log p(c) + log p(z|c)
    mc = (gamma * (log_q_z.unsqueeze(1) + gamma.log() - log_p)).sum(-1)
    assert closed == pytest.approx(mc.mean().item(), abs=0.02)


def test_sample_statistics_and_bad_component():
    prior = GaussianMixturePrior(2, 2)
    prior.init_from(torch.tensor([[5.0, -5.0], [0.0, 0.0]]),
                    torch.tensor([[0.01, 0.01], [1.0, 1.0]]))
    z = prior.sample(500, 0, torch.Generator().manual_seed(0))
    assert z.shape == (500, 2)
    assert torch.allclose(z.mean(0), torch.tensor([5.0, -5.0]), atol=0.05)
    with pytest.raises(ValueError, match='component'):
        prior.sample(1, 2)
