import torch

from vgdcn_pyg.nn import DeepAutoEncoder, FusedGCN


def _line_graph(n):
    src = torch.arange(n - 1)
    edge_index = torch.stack([torch.cat([src, src + 1]),
                              torch.cat([src + 1, src])])
    return edge_index, torch.ones(edge_index.size(1))


def test_output_is_log_probabilities():
    gcn = FusedGCN(6, (5, 4), 3, 2, eps=0.5)
    x = torch.rand(7, 6)
    ei, ew = _line_graph(7)
    hidden = [torch.rand(7, 5), torch.rand(7, 4), torch.rand(7, 3)]
    out = gcn(x, ei, ew, hidden)
    assert out.shape == (7, 2)
    assert torch.allclose(out.exp().sum(-1), torch.ones(7), atol=1e-5)


def test_eps_one_ignores_gcn_features_of_hidden_layers():
    # With eps = 1 every fused layer passes on the encoder's features, so
    # the output depends on x only through nothing but the last layer input.
    torch.manual_seed(0)
    gcn = FusedGCN(6, (5, ), 3, 2, eps=1.0)
    ei, ew = _line_graph(4)
    hidden = [torch.rand(4, 5), torch.rand(4, 3)]
    a = gcn(torch.rand(4, 6), ei, ew, hidden)
    b = gcn(torch.rand(4, 6), ei, ew, hidden)
    assert torch.allclose(a, b)


def test_init_from_encoder_reproduces_encoder_without_edges():
    torch.manual_seed(0)
    ae = DeepAutoEncoder(6, (5, 4), 3)
    gcn = FusedGCN(6, (5, 4), 3, 2, eps=0.0, latent_activation=False)
    gcn.init_from_encoder(ae)
    means = torch.randn(2, 3)
    gcn.init_cluster_layer(means, 0.5)
    x = torch.rand(4, 6)
    enc = ae.encode(x)
    empty = torch.empty(2, 0, dtype=torch.long)
    out = gcn(x, empty, None, enc.hidden + [enc.mu])
    # No edges: A_hat = I, so the GCN is the encoder followed by the
    # isotropic-Gaussian posterior of the given means.
    expected = torch.log_softmax(-torch.cdist(enc.mu, means).pow(2) / 1.0,
                                 dim=-1)
    assert torch.allclose(out, expected, atol=1e-4)


def test_layerwise_inference_equals_forward_and_runs_in_row_batches():
    torch.manual_seed(0)
    ae = DeepAutoEncoder(6, (5, 4), 3)
    gcn = FusedGCN(6, (5, 4), 3, 2, eps=0.3)
    n = 23
    x = torch.rand(n, 6)
    src = torch.randint(0, n, (40, ))
    dst = torch.randint(0, n, (40, ))
    ei = torch.stack([torch.cat([src, dst]), torch.cat([dst, src])])
    ew = torch.rand(40).repeat(2)
    enc = ae.encode(x)
    expected = gcn(x, ei, ew, enc.hidden + [enc.mu])

    rows = []
    hooks = [lin.register_forward_hook(
        lambda mod, inp, out: rows.append(inp[0].size(0)))
        for lin in [c.lin for c in gcn.convs] + list(ae.encoder)]
    adj_t = FusedGCN.normalized_adjacency(ei, ew, n)
    out = gcn.inference(x, adj_t, ae.encoder_layers(), batch_size=5)
    for hook in hooks:
        hook.remove()
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-6)
    assert max(rows) == 5 and len(rows) == 5 * 5  # 5 batches, 5 layers


def test_prebuilt_adjacency_is_used_as_given():
    torch.manual_seed(0)
    gcn = FusedGCN(6, (5, ), 3, 2)
    x = torch.rand(7, 6)
    ei, ew = _line_graph(7)
    hidden = [torch.rand(7, 5), torch.rand(7, 3)]
    adj_t = FusedGCN.normalized_adjacency(ei, ew, 7)
    torch.testing.assert_close(gcn(x, adj_t, None, hidden),
                               gcn(x, ei, ew, hidden))
