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


@pytest.mark.parametrize('logit', [-1e4, float('-inf')])
def test_emptied_component_gives_no_nan(logit):
    # Component 0 has lost all its weight (pi_0 underflows to exactly 0, or
    # its logit is -inf) and sits far from every sample: responsibilities,
    # the KL term and all gradients stay finite, and gamma_0 is 0.
    torch.manual_seed(0)
    prior = GaussianMixturePrior(3, 2)
    prior.init_from(torch.tensor([[1e3, 1e3], [0.0, 0.0], [3.0, 3.0]]),
                    torch.ones(3, 2))
    with torch.no_grad():
        prior.pi_logits[0] = logit
    assert prior.pi[0].item() == 0.0
    mu = torch.randn(64, 2).requires_grad_()
    logvar = torch.zeros(64, 2, requires_grad=True)
    gamma = prior.responsibilities(mu)
    assert torch.isfinite(gamma).all() and (gamma[:, 0] == 0).all()
    kl = prior.kl_divergence(mu, logvar, gamma)
    assert torch.isfinite(kl)
    kl.backward()
    for grad in (mu.grad, logvar.grad, prior.pi_logits.grad, prior.mu_c.grad,
                 prior.logvar_c.grad):
        assert torch.isfinite(grad).all()


def test_component_emptied_by_training_stays_finite():
    # Minimising the KL with samples around two of three components drives
    # the third one's weight toward 0 without producing NaN.
    torch.manual_seed(0)
    prior = GaussianMixturePrior(3, 2)
    prior.init_from(torch.tensor([[8.0, 8.0], [0.0, 0.0], [3.0, 3.0]]),
                    torch.ones(3, 2))
    z = torch.cat([torch.randn(100, 2) * 0.3, torch.randn(100, 2) * 0.3 + 3])
    opt = torch.optim.Adam(prior.parameters(), lr=0.1)
    for _ in range(300):
        loss = prior.kl_divergence(z, torch.full_like(z, -3.0),
                                   prior.responsibilities(z))
        opt.zero_grad()
        loss.backward()
        opt.step()
        assert torch.isfinite(loss)
    assert prior.pi[0].item() < 1e-3
    assert all(torch.isfinite(p).all() for p in prior.parameters())
