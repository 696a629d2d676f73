import pytest
import torch

from vgdcn_pyg.nn import DeepAutoEncoder
from vgdcn_pyg.nn.autoencoder import MAX_LOGVAR


def test_shapes_and_hidden_outputs():
    ae = DeepAutoEncoder(12, (8, 6), 3)
    x = torch.rand(5, 12)
    enc, z, decoded = ae(x)
    assert [h.shape for h in enc.hidden] == [(5, 8), (5, 6)]
    assert enc.mu.shape == enc.logvar.shape == z.shape == (5, 3)
    assert decoded.shape == (5, 12)
    assert all((h >= 0).all() for h in enc.hidden)  # ReLU outputs
    assert 'DeepAutoEncoder(12-8-6-3' in repr(ae)


def test_sampling_only_in_training_mode():
    torch.manual_seed(0)
    ae = DeepAutoEncoder(6, (5, ), 2)
    ae.reset_logvar_head(0.0)  # unit variance: samples differ from mu
    x = torch.rand(4, 6)
    ae.train()
    enc, z, _ = ae(x)
    assert not torch.allclose(z, enc.mu)
    ae.eval()
    enc, z, _ = ae(x)
    assert torch.equal(z, enc.mu)


def test_plain_autoencoder_is_deterministic():
    ae = DeepAutoEncoder(6, (5, ), 2, variational=False).train()
    enc, z, _ = ae(torch.rand(3, 6))
    assert enc.logvar is None and torch.equal(z, enc.mu)


def test_logvar_is_clamped():
    ae = DeepAutoEncoder(4, (3, ), 2)
    with torch.no_grad():
        ae.logvar.bias.fill_(1e4)
    enc = ae.encode(torch.rand(2, 4))
    assert enc.logvar.max() == MAX_LOGVAR
    assert torch.isfinite(enc.logvar.exp()).all()


def test_recon_loss_known_values():
    ae = DeepAutoEncoder(2, (3, ), 1, likelihood='gaussian')
    x = torch.tensor([[1.0, 2.0]])
    assert ae.recon_loss(x, torch.tensor([[0.0, 0.0]])).item() == \
        pytest.approx(0.5 * (1 + 4))
    bern = DeepAutoEncoder(2, (3, ), 1)
    # logits 0 -> p = 0.5 -> BCE = log 2 per feature
    assert bern.recon_loss(torch.tensor([[0.0, 1.0]]),
                           torch.zeros(1, 2)).item() == \
        pytest.approx(2 * torch.log(torch.tensor(2.0)).item())


def test_kl_standard_normal_zero_at_prior():
    mu, logvar = torch.zeros(3, 4), torch.zeros(3, 4)
    assert DeepAutoEncoder.kl_standard_normal(mu, logvar).item() == 0.0
    assert DeepAutoEncoder.kl_standard_normal(mu + 1, logvar).item() == \
        pytest.approx(2.0)


def test_reconstruction_loss_goes_down():
    torch.manual_seed(0)
    ae = DeepAutoEncoder(10, (16, ), 2, variational=False)
    x = torch.rand(64, 10).round()
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    losses = []
    for _ in range(60):
        loss = ae.recon_loss(x, ae.decode(ae.encode(x).mu))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_bad_likelihood():
    with pytest.raises(ValueError, match='likelihood'):
        DeepAutoEncoder(3, likelihood='poisson')
