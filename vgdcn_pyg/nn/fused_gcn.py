r"""The GCN branch of SDCN / VGDCN, fed layer by layer by the encoder."""
import warnings
from typing import Callable, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.nn import Module, ModuleList
from torch_geometric.nn import GCNConv
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.utils import to_torch_csr_tensor

from .fusion import Fusion


class _SymmetricSpMM(torch.autograd.Function):
    r""":math:`\hat{\mathbf{A}}\mathbf{X}` for a symmetric sparse
    :math:`\hat{\mathbf{A}}`, whose backward reuses :math:`\hat{\mathbf{A}}`
    instead of transposing it (PyTorch's CSR backward sorts the transpose on
    every call, which took half the time of a USPS GCN step)."""
    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor) -> Tensor:
        ctx.save_for_backward(adj)
        ctx.x_dtype = x.dtype
        # Sparse CSR products have no bfloat16 kernel: under mixed precision
        # they run in the adjacency's float32.
        with torch.autocast(x.device.type, enabled=False):
            return torch.sparse.mm(adj, x.to(adj.dtype))

    @staticmethod
    def backward(ctx, grad: Tensor):
        adj, = ctx.saved_tensors
        with torch.autocast(grad.device.type, enabled=False):
            out = torch.sparse.mm(adj, grad.to(adj.dtype))
        return None, out.to(ctx.x_dtype)


class SymmetricGCNConv(GCNConv):
    r""":class:`~torch_geometric.nn.conv.GCNConv` over a pre-normalised,
    symmetric sparse :math:`\hat{\mathbf{A}}` (the undirected kNN graph),
    with the faster backward of :class:`_SymmetricSpMM`."""
    def __init__(self, in_channels: int, out_channels: int):
        super().__init__(in_channels, out_channels, normalize=False)

    def message_and_aggregate(self, adj_t: Tensor, x: Tensor) -> Tensor:
        return _SymmetricSpMM.apply(adj_t, x)


class FusedGCN(Module):
    r"""Deep GCN branch whose every layer receives the matching encoder layer
    through :class:`Fusion` (VGDCN thesis eq. 3.9-3.12, SDCN's "delivery"):

    .. math::
        \mathbf{Z}^{(1)} &= \mathrm{ReLU}(\hat{\mathbf{A}} \mathbf{X}
        \mathbf{W}^{(1)}) \\
        \mathbf{Z}^{(l+1)} &= \mathrm{ReLU}(\hat{\mathbf{A}}\, [(1-\epsilon)
        \mathbf{Z}^{(l)} + \epsilon \mathbf{H}^{(l)}]\, \mathbf{W}^{(l+1)}) \\
        \mathbf{Z}_G &= \mathrm{softmax}(\hat{\mathbf{A}}\, [(1-\epsilon)
        \mathbf{Z}^{(L)} + \epsilon \mathbf{z}]\, \mathbf{W}^{(L+1)})

    with :math:`\hat{\mathbf{A}} = \tilde{\mathbf{D}}^{-1/2}(\mathbf{A} +
    \mathbf{I})\tilde{\mathbf{D}}^{-1/2}` computed from
    the (weighted) kNN graph and cached while the same graph comes in. The
    layer widths equal the encoder's
    (:math:`D \to 500 \to 500 \to 2000 \to d_z`), so that the features can be
    fused, and a last layer maps :math:`d_z \to K`.

    Args:
        in_channels (int): Input dimension :math:`D`.
        hidden_channels (Sequence[int]): Encoder hidden widths.
        latent_channels (int): Latent width :math:`d_z`.
        num_clusters (int): Number of clusters :math:`K`.
        eps (float): Fusion weight :math:`\epsilon`. (default: :obj:`0.5`)
        latent_activation (bool): Apply the ReLU to the latent layer too, as
            SDCN does. VGDCN leaves it linear, like the encoder's
            :math:`\boldsymbol\mu` head, so that :meth:`init_from_encoder`
            can copy the encoder exactly. (default: :obj:`True`)
    """
    def __init__(self, in_channels: int, hidden_channels: Sequence[int],
                 latent_channels: int, num_clusters: int, eps: float = 0.5,
                 latent_activation: bool = True):
        super().__init__()
        self.latent_activation = latent_activation
        widths = (in_channels, ) + tuple(hidden_channels) + (latent_channels, )
        self.convs = ModuleList(
            SymmetricGCNConv(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.cluster_conv = SymmetricGCNConv(latent_channels, num_clusters)
        self.fusion = Fusion(eps)
        self.num_clusters = num_clusters
        self._cache = None
        self.reset_parameters()

    def reset_parameters(self):
        for conv in self.convs:
            conv.reset_parameters()
        self.cluster_conv.reset_parameters()

    @torch.no_grad()
    def init_from_encoder(self, autoencoder):
        r"""Copies the encoder's weights into the GCN layers of the same
        widths (the last one from the :math:`\boldsymbol\mu` head). With
        :math:`\hat{\mathbf{A}}` close to the identity the branch then starts
        as a graph-smoothed copy of the encoder instead of from noise."""
        linears = list(autoencoder.encoder) + [autoencoder.mu]
        if len(linears) != len(self.convs):
            raise ValueError('the encoder and the GCN differ in depth')
        for conv, lin in zip(self.convs, linears):
            if conv.lin.weight.shape != lin.weight.shape:
                raise ValueError(f'cannot copy a {tuple(lin.weight.shape)} '
                                 f'encoder layer into a '
                                 f'{tuple(conv.lin.weight.shape)} GCN layer')
            conv.lin.weight.copy_(lin.weight)
            conv.bias.copy_(lin.bias)

    @torch.no_grad()
    def init_cluster_layer(self, means: Tensor, variance: float,
                           log_weights: Optional[Tensor] = None):
        r"""Sets the last layer so that, on latent codes, it computes the
        posterior of an isotropic Gaussian mixture with the given means and
        common variance :math:`\sigma^2`:

        .. math::
            \log z_c = \frac{\boldsymbol\mu_c^\top \mathbf{z}}{\sigma^2}
            - \frac{\|\boldsymbol\mu_c\|^2}{2\sigma^2} + \log\pi_c
            + \mathrm{const}.
        """
        means = torch.as_tensor(means, dtype=self.cluster_conv.lin.weight.dtype)
        self.cluster_conv.lin.weight.copy_(means / variance)
        bias = -means.pow(2).sum(-1) / (2 * variance)
        if log_weights is not None:
            bias = bias + torch.as_tensor(log_weights, dtype=bias.dtype)
        self.cluster_conv.bias.copy_(bias)

    @staticmethod
    def normalized_adjacency(edge_index: Tensor,
                             edge_weight: Optional[Tensor],
                             num_nodes: int) -> Tensor:
        r"""Returns :math:`\hat{\mathbf{A}}` (self loops added) as a sparse
        CSR matrix in PyG's :obj:`adj_t` layout (row = target): a sparse
        matrix product beats scatter-based message passing on the wide
        layers (``benchmarks/epoch_time.py`` measures the epoch)."""
        edge_index, edge_weight = gcn_norm(edge_index, edge_weight,
                                           num_nodes, add_self_loops=True)
        with warnings.catch_warnings():
            # PyTorch warns that sparse CSR is "beta" and that invariant
            # checks are off; gcn_norm's output is a valid coalesced matrix.
            warnings.simplefilter('ignore', UserWarning)
            return to_torch_csr_tensor(edge_index.flip(0), edge_weight,
                                       size=(num_nodes, num_nodes))

    def _adjacency(self, edge_index: Tensor, edge_weight: Optional[Tensor],
                   num_nodes: int) -> Tensor:
        if edge_index.layout == torch.sparse_csr:
            # A normalised adjacency built by the caller, e.g. of a sampled
            # subgraph (vgdcn_pyg.graph.sampling.subgraph_adjacency).
            if edge_index.shape != (num_nodes, num_nodes):
                raise ValueError(f'the adjacency has shape '
                                 f'{tuple(edge_index.shape)}, expected '
                                 f'({num_nodes}, {num_nodes})')
            return edge_index
        # The kNN graph is fixed during training: normalise it once and
        # reuse the result while the same edge_index object comes in.
        cache = self._cache
        if cache is not None and cache[0] is edge_index and \
                cache[1] is edge_weight and cache[2].size(0) == num_nodes:
            return cache[2]
        adj_t = self.normalized_adjacency(edge_index, edge_weight, num_nodes)
        self._cache = (edge_index, edge_weight, adj_t)
        return adj_t

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_weight: Optional[Tensor], hidden: List[Tensor],
                row_scale: Optional[Tensor] = None) -> Tensor:
        r"""Returns the log of :math:`\mathbf{Z}_G` (log-probabilities, shape
        :obj:`[N, K]`).

        Args:
            x (Tensor): Node features.
            edge_index (Tensor): Graph connectivity, or the normalised
                adjacency :math:`\hat{\mathbf{A}}` as a symmetric sparse CSR
                tensor (row = target, see :meth:`normalized_adjacency`),
                which is then used as it is.
            edge_weight (Tensor, optional): Heat-kernel edge weights.
            hidden (List[Tensor]): Encoder outputs :math:`[\mathbf{H}^{(1)},
                \dots, \mathbf{H}^{(L)}, \mathbf{z}]`, one per GCN layer.
            row_scale (Tensor, optional): Per node, a factor applied to its
                aggregate :math:`(\hat{\mathbf{A}}\mathbf{X}\mathbf{W})_i`
                in every layer (before the bias): on a sampled subgraph,
                :func:`~vgdcn_pyg.graph.sampling.subgraph_row_scale`.
        """
        h, layer = self._features(x, edge_index, edge_weight, hidden,
                                  row_scale)
        return torch.log_softmax(layer(self.cluster_conv, h), dim=-1)

    def cluster_features(self, x: Tensor, edge_index: Tensor,
                         edge_weight: Optional[Tensor], hidden: List[Tensor]
                         ) -> Tensor:
        r"""The input of the last layer aggregated over the graph,
        :math:`\hat{\mathbf{A}}\, [(1-\epsilon)\mathbf{Z}^{(L)} + \epsilon
        \mathbf{z}]`, so that :math:`\log \mathbf{Z}_G` is
        :math:`\mathrm{log\_softmax}` of these times
        :math:`\mathbf{W}^{(L+1)}` plus the bias: with the other layers fixed,
        the last one is a multinomial logistic regression on them."""
        h, _ = self._features(x, edge_index, edge_weight, hidden, None)
        adj_t = self._adjacency(edge_index, edge_weight, x.size(0))
        return _SymmetricSpMM.apply(adj_t, h)

    def _features(self, x, edge_index, edge_weight, hidden, row_scale):
        if len(hidden) != len(self.convs):
            raise ValueError(f'expected {len(self.convs)} encoder outputs, '
                             f'got {len(hidden)}')
        adj_t = self._adjacency(edge_index, edge_weight, x.size(0))
        def layer(conv: GCNConv, h: Tensor) -> Tensor:
            if row_scale is None:
                return conv(h, adj_t)
            # GCNConv without normalisation is A (h W) + b; the scale goes
            # between, and the symmetric product keeps its fast backward
            # (the transpose of diag(s) A is A diag(s)).
            out = _SymmetricSpMM.apply(adj_t, conv.lin(h))
            out = out * row_scale.to(out.dtype).unsqueeze(-1)
            return out + conv.bias if conv.bias is not None else out

        h = x
        last = len(self.convs) - 1
        for i, (conv, enc_h) in enumerate(zip(self.convs, hidden)):
            h = layer(conv, h)
            if i < last or self.latent_activation:
                h = F.relu(h)
            h = self.fusion(h, enc_h)
        return h, layer

    @torch.no_grad()
    def inference(self, x: Tensor, adj_t: Tensor,
                  encoder_layers: Sequence[Callable[[Tensor], Tensor]],
                  batch_size: int) -> Tensor:
        r"""Returns :meth:`forward` for all nodes (log-probabilities, shape
        :obj:`[N, K]`) without gradients, computed layer by layer and, in
        every layer, in row batches of :obj:`batch_size` nodes: first the
        encoder layer :math:`\mathbf{H}^{(l)}` and the product
        :math:`\tilde{\mathbf{Z}}^{(l-1)} \mathbf{W}^{(l)}` batch by batch,
        then one sparse product with :math:`\hat{\mathbf{A}}`, then
        activation and fusion batch by batch. Nothing larger than a few
        :math:`N \times` width matrices is held, and the result equals the
        full-batch forward pass (the layer-wise inference of PyG's
        large-graph examples, with exact neighbourhoods).

        Args:
            x (Tensor): Node features of all :math:`N` nodes.
            adj_t (Tensor): :math:`\hat{\mathbf{A}}` of the whole graph as
                a sparse CSR tensor (see :meth:`normalized_adjacency`).
            encoder_layers (Sequence[Callable]): One callable per GCN layer
                mapping :math:`\mathbf{H}^{(l-1)}` to :math:`\mathbf{H}^{(l)}`
                row by row (the last one giving the latent code fused into
                the last layer).
            batch_size (int): Rows per batch.
        """
        if len(encoder_layers) != len(self.convs):
            raise ValueError(f'expected {len(self.convs)} encoder layers, '
                             f'got {len(encoder_layers)}')
        num_nodes = x.size(0)
        starts = range(0, num_nodes, max(1, int(batch_size)))

        def by_rows(fn: Callable[[Tensor], Tensor], inp: Tensor) -> Tensor:
            out = None
            for start in starts:
                part = fn(inp[start:start + batch_size])
                if out is None:
                    out = part.new_empty((num_nodes, part.size(1)))
                out[start:start + part.size(0)] = part
            return out

        enc, h = x, x
        last = len(self.convs) - 1
        for i, (conv, enc_layer) in enumerate(zip(self.convs,
                                                  encoder_layers)):
            enc = by_rows(enc_layer, enc)
            h = torch.sparse.mm(adj_t, by_rows(conv.lin, h))
            for start in starts:
                part = h[start:start + batch_size].add_(conv.bias)
                if i < last or self.latent_activation:
                    part.relu_()
                part.copy_(self.fusion(part, enc[start:start + batch_size]))
        out = torch.sparse.mm(adj_t, by_rows(self.cluster_conv.lin, h))
        out.add_(self.cluster_conv.bias)
        return torch.log_softmax(out, dim=-1)

    def __repr__(self) -> str:
        widths = [self.convs[0].in_channels] + [c.out_channels
                                                for c in self.convs]
        return (f'{self.__class__.__name__}('
                f'{"-".join(map(str, widths))}-{self.num_clusters}, '
                f'eps={self.fusion.eps})')
