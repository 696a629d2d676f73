import numpy as np
import pytest
import torch
from threadpoolctl import threadpool_limits

from vgdcn_pyg import N2D, VGDCN, DeepClustering
from vgdcn_pyg.evaluation import cluster_accuracy
from vgdcn_pyg.exceptions import ModelError
from vgdcn_pyg.models import graph_models, umap_partition
from vgdcn_pyg.graph.spectral import spectral_clustering
from vgdcn_pyg.models.umap_partition import (VOTE_FLOOR, consensus_labels,
                                             gmm_posterior, graph_vote,
                                             latent_silhouette, umap_consensus,
                                             umap_gmm, umap_gmm_restarts,
                                             umap_knn, vote_weights)

from ..conftest import TINY, make_blobs


@pytest.fixture(scope='module')
def fitted():
    x, y = make_blobs(n_per_cluster=40, n_clusters=4)
    return N2D(n_clusters=4, random_state=0, **TINY).fit(x), x, y


def test_umap_gmm_separates_blobs_and_is_reproducible():
    x, y = make_blobs(n_per_cluster=50, n_clusters=4, seed=1)
    proba = umap_gmm(x.astype(np.float64), 4, random_state=0)
    assert proba.shape == (200, 4)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    assert cluster_accuracy(y, proba.argmax(1)) > 0.95
    np.testing.assert_array_equal(umap_gmm(x.astype(np.float64), 4, 0),
                                  proba)


def test_umap_epochs_default_is_umap_learns_and_is_passed_on():
    # Below 10,000 samples umap-learn lays out for 500 epochs: None and 500
    # are the same partition; a shorter layout is another one.
    x, _ = make_blobs(n_per_cluster=50, n_clusters=4, seed=1)
    x = x.astype(np.float64)
    default = umap_gmm(x, 4, 0)
    np.testing.assert_array_equal(umap_gmm(x, 4, 0, n_epochs=500), default)
    assert not np.array_equal(umap_gmm(x, 4, 0, n_epochs=20), default)
    short = umap_gmm(x, 4, 0, n_epochs=20)
    np.testing.assert_array_equal(
        umap_gmm_restarts(x, 4, 0, restarts=1, n_epochs=20), short)
    np.testing.assert_array_equal(
        umap_gmm_restarts(x, 4, 0, restarts=2, n_epochs=20),
        umap_gmm_restarts(x, 4, 0, restarts=2, n_epochs=20))
    model = VGDCN(n_clusters=4, umap_epochs=20).build_model(8, 'gaussian')
    assert model.umap_epochs == 20


def _unequal_blobs(seed=3, k=10, dim=10):
    # Tight, well separated blobs of unequal sizes: what UMAP with
    # min_dist=0 makes of clusters, and where one k-means start of EM can
    # put two components on one blob and one over two.
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 10, size=(k, dim))
    sizes = rng.integers(10, 60, size=k)
    e = np.concatenate([c + 0.3 * rng.standard_normal((n, dim))
                        for c, n in zip(centers, sizes)])
    return e, np.repeat(np.arange(k), sizes)


def test_more_gmm_starts_recover_the_blobs_one_start_merges():
    e, y = _unequal_blobs()
    one = [cluster_accuracy(y, gmm_posterior(e, 10, rs).argmax(1))
           for rs in range(5)]
    ten = [cluster_accuracy(y, gmm_posterior(e, 10, rs, starts=10).argmax(1))
           for rs in range(5)]
    assert min(one) < 0.99  # some single start merges and splits blobs
    assert ten == [1.0] * 5


def test_gmm_starts_reach_the_mixture_of_vgdcn_and_n2d(monkeypatch):
    seen = []
    real = umap_partition.gmm_posterior

    def spy(embedding, num_clusters, random_state, starts=1):
        seen.append(starts)
        return real(embedding, num_clusters, random_state, starts)
    monkeypatch.setattr(umap_partition, 'gmm_posterior', spy)
    # Latent means: the auto-encoder's 10 latent channels.
    x, _ = make_blobs(n_per_cluster=30, n_clusters=3, dim=10)
    z = x.astype(np.float64)
    inputs = torch.from_numpy(x)
    for est, expected in ((VGDCN(n_clusters=3, init_restarts=2,
                                 input_starts=0, gmm_starts=4), [4, 4]),
                          (VGDCN(n_clusters=3, init_restarts=1,
                                 input_starts=0), [10]),
                          # the defaults: two starts on each view
                          (VGDCN(n_clusters=3, gmm_starts=4), [4] * 4),
                          (N2D(n_clusters=3, gmm_starts=3), [3]),
                          (N2D(n_clusters=3), [1])):
        seen.clear()
        est.build_model(8, 'gaussian').init_clusters(z, 0, x=inputs)
        assert seen == expected


def test_umap_knn_lists_self_first_then_the_exact_neighbours():
    rng = np.random.RandomState(0)
    z = rng.randn(300, 5)
    z[7] = z[3]  # a duplicate stays a neighbour, at distance 0
    indices, dists = umap_knn(z, 8)
    assert indices.shape == dists.shape == (300, 8)
    np.testing.assert_array_equal(indices[:, 0], np.arange(300))
    assert (dists[:, 0] == 0).all()
    assert indices[3, 1] == 7 and indices[7, 1] == 3 and dists[3, 1] == 0
    full = np.linalg.norm(z[:, None] - z[None], axis=-1)
    np.fill_diagonal(full, np.inf)
    brute = np.sort(full, axis=1)[:, :7]
    np.testing.assert_allclose(dists[:, 1:], brute, rtol=1e-5, atol=1e-6)
    assert (np.diff(dists, axis=1) >= 0).all()


def test_umap_kernels_are_compiled_with_a_cache_once():
    import importlib

    from numba.core.caching import NullCache

    from vgdcn_pyg.models import umap_partition
    umap_partition._import_umap()
    kernels = [getattr(importlib.import_module(m), a)
               for m, a in umap_partition.UMAP_KERNELS]
    compiled = [getattr(k, 'dispatcher', k) for k in kernels]
    assert all(not isinstance(k._cache, NullCache) for k in compiled)
    # the layout keeps umap-learn's flags: serial (reproducible) fastmath;
    # it releases the GIL so that restarts can run on threads
    layout = compiled[-1].targetoptions
    assert layout['fastmath'] and not layout['parallel'] and layout['nogil']
    # numba files a cache under the function's name, not its flags: each
    # kernel is the same code under a name of its own, so that a cache of
    # umap-learn's function compiled without nogil (an older version of
    # this module wrote one) is never loaded in its place
    import umap.layouts
    original = umap.layouts._optimize_layout_euclidean_single_epoch
    assert compiled[-1].py_func.__code__ is original.__code__
    assert compiled[-1].py_func.__qualname__ == \
        original.__qualname__ + umap_partition.KERNEL_CACHE_TAG
    assert all(c.py_func.__qualname__.endswith(
        umap_partition.KERNEL_CACHE_TAG) for c in compiled)
    # the parallel kernels are serialised across threads
    parallel = [k for k, c in zip(kernels, compiled)
                if c.targetoptions.get('parallel')]
    assert parallel and all(k is not c for k, c in zip(kernels, compiled)
                            if k in parallel)
    umap_partition._import_umap()  # no second wrapping
    assert [getattr(importlib.import_module(m), a)
            for m, a in umap_partition.UMAP_KERNELS] == kernels


def test_umap_leaves_numba_off_openmp():
    # numba's OpenMP pool shares the runtime of the graph extensions, which
    # then ran a one-thread fit's sparse products on a second thread.
    import os

    import numba
    x, _ = make_blobs(n_per_cluster=20, n_clusters=3)
    umap_gmm(x.astype(np.float64), 3, 0)
    if 'NUMBA_THREADING_LAYER' not in os.environ:
        assert numba.threading_layer() == 'workqueue'


def test_latent_silhouette_prefers_the_true_partition():
    x, y = make_blobs(n_per_cluster=50, n_clusters=4, seed=1)
    merged = np.where(y == 1, 0, y)  # two blobs as one
    assert latent_silhouette(x, y) > latent_silhouette(x, merged) + 0.1
    assert latent_silhouette(x, np.zeros(len(x), int)) == -1.0
    # on a fixed subsample: bounded cost, same score every call
    sub = latent_silhouette(x, y, max_rows=60)
    assert sub == latent_silhouette(x, y, max_rows=60)
    assert sub != latent_silhouette(x, y)


def test_umap_restarts_keep_the_start_of_highest_silhouette():
    x, _ = make_blobs(n_per_cluster=30, n_clusters=6, seed=2, spread=3.0)
    x = x.astype(np.float64)
    np.testing.assert_array_equal(umap_gmm_restarts(x, 6, 3), umap_gmm(x, 6, 3))
    # restarts run BLAS on one thread (see the next tests)
    with threadpool_limits(limits=1, user_api='blas'):
        starts = [umap_gmm(x, 6, 3 + 1000 * j) for j in range(3)]
    scores = [latent_silhouette(x, p.argmax(1)) for p in starts]
    assert len(set(scores)) == 3  # the starts differ, so the pick matters
    best = umap_gmm_restarts(x, 6, 3, restarts=3)
    np.testing.assert_array_equal(best, starts[int(np.argmax(scores))])
    with pytest.raises(ValueError, match='at least 1'):
        umap_gmm_restarts(x, 6, 3, restarts=0)


def test_umap_restarts_on_threads_give_the_same_partition():
    # Each restart depends on its own seed only: laying them out on two
    # threads at once (nogil layout, serialised parallel kernels) must not
    # change any posterior, nor the pick.
    x, _ = make_blobs(n_per_cluster=30, n_clusters=6, seed=2, spread=3.0)
    x = x.astype(np.float64)
    serial = umap_gmm_restarts(x, 6, 3, restarts=3, n_epochs=50, workers=1)
    threaded = umap_gmm_restarts(x, 6, 3, restarts=3, n_epochs=50,
                                 workers=3)
    np.testing.assert_array_equal(serial, threaded)


def test_umap_restarts_run_blas_on_one_thread(monkeypatch):
    # Concurrent OpenBLAS calls split their sums by timing, which decided
    # between equally likely EM starts (a permuted partition).
    import threadpoolctl

    from vgdcn_pyg.models import umap_partition
    seen = []
    real = umap_partition.umap_gmm

    def spy(*args, **kwargs):
        # numpy's and scipy's BLAS (the mixture's); a BLAS that another
        # package bundles for its own use (faiss's) is not the point
        seen.append([info['num_threads'] for info in
                     threadpoolctl.threadpool_info()
                     if info['user_api'] == 'blas' and
                     ('numpy' in info['filepath'] or
                      'scipy' in info['filepath'])])
        return real(*args, **kwargs)
    monkeypatch.setattr(umap_partition, 'umap_gmm', spy)
    x, _ = make_blobs(n_per_cluster=20, n_clusters=3)
    umap_gmm_restarts(x.astype(np.float64), 3, 0, restarts=2, n_epochs=20,
                      workers=2)
    assert len(seen) == 2 and all(n and set(n) == {1} for n in seen)


def test_consensus_keeps_what_most_partitions_agree_on():
    truth = np.repeat(np.arange(4), 25)
    # each partition errs differently: two clusters merged, the cluster ids
    # permuted, a few samples moved
    merged = np.where(truth == 1, 0, truth)
    permuted = (truth + 1) % 4
    moved = truth.copy()
    moved[[3, 30, 60]] = [2, 3, 0]
    labels = consensus_labels([merged, permuted, moved, truth], 4, 0)
    assert labels.dtype == np.int64 and labels.shape == truth.shape
    assert cluster_accuracy(truth, labels) == 1.0
    # one partition alone is its own consensus (up to the cluster ids)
    assert cluster_accuracy(moved, consensus_labels([moved], 4, 0)) == 1.0
    with pytest.raises(ValueError, match='same samples'):
        consensus_labels([truth, truth[:-1]], 4, 0)


def test_umap_consensus_joins_the_embedding_and_the_input_starts(
        monkeypatch):
    x, y = make_blobs(n_per_cluster=30, n_clusters=4, seed=3)
    x = x.astype(np.float64)
    z = np.random.default_rng(0).normal(size=(len(x), 2))  # no clusters
    calls = []
    real = umap_partition.umap_gmm

    def spy(data, *args, **kwargs):
        calls.append((data is z, args[1]))
        return real(data, *args, **kwargs)
    monkeypatch.setattr(umap_partition, 'umap_gmm', spy)
    labels = umap_consensus(z, x, 4, 5, restarts=1, input_starts=2,
                            n_epochs=50, workers=1)
    # one start on the embedding, two on the input, seeds 5 and 1005
    assert sorted(calls) == [(False, 5), (False, 1005), (True, 5)]
    # the embedding is noise, the input holds the blobs: the two input
    # starts outvote the one embedding start
    assert cluster_accuracy(y, labels) > 0.9
    assert cluster_accuracy(y, real(z, 4, 5, n_epochs=50).argmax(1)) < 0.6
    threaded = umap_consensus(z, x, 4, 5, restarts=1, input_starts=2,
                              n_epochs=50, workers=3)
    np.testing.assert_array_equal(labels, threaded)
    with pytest.raises(ValueError, match='input_starts >= 0'):
        umap_consensus(z, x, 4, 5, input_starts=-1)


def test_n2d_labels_are_the_mixture_partition(fitted):
    est, x, y = fitted
    assert est.n_iter_ == 0  # no joint phase
    np.testing.assert_array_equal(est.labels_, est.init_labels_)
    assert cluster_accuracy(y, est.labels_) > 0.9
    # a training sample gets its own posterior back
    np.testing.assert_array_equal(est.predict(x[:25]), est.labels_[:25])
    assert est.cluster_centers_.shape == (4, TINY['latent_channels'])


def test_n2d_new_samples_and_a_saved_model(fitted, tmp_path):
    est, x, y = fitted
    x_new, y_new = make_blobs(n_per_cluster=5, n_clusters=4, seed=0)
    # new draws of the same blobs join their blob's cluster
    assert cluster_accuracy(y_new, est.predict(x_new)) > 0.9
    est.save(tmp_path / 'n2d.pt')
    loaded = DeepClustering.load(tmp_path / 'n2d.pt')
    assert type(loaded).__name__ == 'DeepClustering' and \
        loaded.model == 'n2d'
    np.testing.assert_array_equal(loaded.labels_, est.labels_)
    np.testing.assert_array_equal(loaded.predict_proba(x_new),
                                  est.predict_proba(x_new))
    assert type(N2D.load(tmp_path / 'n2d.pt')) is N2D


def test_vgdcn_umap_start():
    x, y = make_blobs(n_per_cluster=40, n_clusters=3)
    est = VGDCN(n_clusters=3, random_state=0, init='umap', **TINY).fit(x)
    assert cluster_accuracy(y, est.init_labels_) > 0.9
    assert cluster_accuracy(y, est.labels_) > 0.9


@pytest.mark.parametrize('input_starts', [0, 1])
def test_vgdcn_start_moment_matches_the_prior(input_starts):
    # Whichever start made the partition, the mixture prior (and through it
    # the GCN's cluster layer) starts at its parts' means and sizes.
    x, _ = make_blobs(n_per_cluster=30, n_clusters=3)
    z = x @ np.random.default_rng(0).normal(size=(x.shape[1], 4))
    net = VGDCN(n_clusters=3, init_restarts=1, input_starts=input_starts,
                umap_epochs=50, **TINY).build_model(x.shape[1], 'gaussian')
    labels = net.init_clusters(z, 0, x=torch.from_numpy(x))
    means = np.stack([z[labels == c].mean(0) for c in range(3)])
    np.testing.assert_allclose(net.prior.mu_c.detach().double().numpy(),
                               means, rtol=1e-4, atol=1e-5)
    weights = np.bincount(labels, minlength=3) / len(z)
    np.testing.assert_allclose(
        torch.softmax(net.prior.pi_logits.detach(), 0).double().numpy(),
        weights, atol=1e-5)


def test_vgdcn_input_starts_give_the_consensus_start(monkeypatch):
    x, y = make_blobs(n_per_cluster=40, n_clusters=3)
    seen = []
    real = umap_partition.umap_consensus

    def spy(z, inputs, *args, **kwargs):
        seen.append((z.shape, inputs.shape, args[2:4]))
        return real(z, inputs, *args, **kwargs)
    monkeypatch.setattr(graph_models, 'umap_consensus', spy)
    est = VGDCN(n_clusters=3, random_state=0, init_restarts=2,
                input_starts=1, **TINY).fit(x)
    # the fit hands the consensus its embedding and its input
    assert seen == [((len(x), TINY['latent_channels']), x.shape, (2, 1))]
    assert cluster_accuracy(y, est.init_labels_) > 0.9
    VGDCN(n_clusters=3, random_state=0, input_starts=0, **TINY).fit(x)
    assert len(seen) == 1  # input_starts=0: the silhouette's pick
    with pytest.raises(ModelError, match='input_starts must be'):
        VGDCN(n_clusters=3, input_starts=-1, **TINY).fit(x)


def test_vgdcn_input_spectral_joins_the_consensus(monkeypatch):
    # input_spectral adds the spectral partition of the input's kNN graph
    # to the consensus as one more member; without it the fit has six (four
    # UMAP starts and the graph's two votes).
    seen = []
    consensus = umap_partition.consensus_labels

    def record(partitions, *args, **kwargs):
        seen.append(len(partitions))
        return consensus(partitions, *args, **kwargs)
    monkeypatch.setattr(umap_partition, 'consensus_labels', record)
    x, y = make_blobs()
    for flag in (False, True):
        est = VGDCN(n_clusters=3, random_state=0, input_spectral=flag,
                    **dict(TINY, epochs=2)).fit(x, y)
        assert cluster_accuracy(y, est.init_labels_) > 0.9
    assert seen == [6, 7]
    with pytest.raises(ModelError, match="graph_space 'auto' or 'input'"):
        VGDCN(n_clusters=3, input_spectral=True, graph_space='latent',
              **TINY).fit(x)


def _rings(num_rings=4, size=30, num_cross=60, seed=0):
    # Rings of `size` nodes (each joined to its two nearest on either side)
    # and random edges across them: thin manifolds in a noisy kNN graph.
    edges = [(r * size + i, r * size + (i + d) % size)
             for r in range(num_rings) for i in range(size) for d in (1, 2)]
    ends = np.random.default_rng(seed).integers(0, num_rings * size,
                                                size=(num_cross, 2))
    edges += [(int(u), int(v)) for u, v in ends if u // size != v // size]
    edge_index = torch.tensor(edges).t()
    return torch.cat([edge_index, edge_index.flip(0)], 1), \
        np.repeat(np.arange(num_rings), size)


def test_vote_weights_are_the_kernel_times_the_share_of_agreeing_starts():
    edge_index, truth = _rings()
    weight = torch.rand(edge_index.size(1), dtype=torch.float64) + 0.5
    starts = [truth, np.where(truth == 1, 0, truth), (truth + 1) % 4]
    voted = vote_weights(edge_index, weight, starts)
    row, col = edge_index.numpy()
    share = np.mean([s[row] == s[col] for s in starts], 0)
    np.testing.assert_allclose(
        voted.numpy(), weight.numpy() * share + VOTE_FLOOR * weight.max().item())
    # an unweighted graph counts every edge as 1; an edge that every start
    # cuts keeps only the floor, so no node loses its degree
    unweighted = vote_weights(edge_index, None, starts).numpy()
    across = truth[row] // 2 != truth[col] // 2
    np.testing.assert_allclose(unweighted[across], VOTE_FLOOR)
    assert (unweighted > 0).all()


def test_graph_vote_keeps_the_manifolds_the_starts_cut_in_different_places():
    # Each start merges two rings and cuts a third in half, each another
    # pair and another ring; the graph alone is fooled by its cross edges.
    # The starts' votes remove the cross edges (few starts join their ends)
    # and keep the rings' own edges (most starts do).
    edge_index, truth = _rings()
    position = np.arange(len(truth)) % 30
    starts = []
    for (kept, gone), cut, offset in (((0, 1), 2, 0), ((2, 3), 0, 7),
                                      ((1, 2), 3, 15), ((0, 3), 1, 22)):
        start = np.where(truth == gone, kept, truth)
        start[(truth == cut) & ((position - offset) % 30 < 15)] = gone
        assert cluster_accuracy(truth, start) == 0.625
        starts.append(start)
    plain = spectral_clustering(edge_index, None, len(truth), 4, 0)
    assert cluster_accuracy(truth, plain) < 0.6
    for seed in range(3):
        labels = graph_vote(edge_index, None, starts, 4, seed)
        assert labels.shape == truth.shape
        assert cluster_accuracy(truth, labels) == 1.0


def test_vgdcn_graph_votes_join_the_consensus(monkeypatch):
    # The default consensus holds the four UMAP starts and two copies of the
    # graph's vote on them; graph_votes=0 leaves it out. Without the input's
    # graph (graph_space='latent') the vote is taken on the model's graph.
    seen = []
    consensus = umap_partition.consensus_labels

    def record(partitions, *args, **kwargs):
        seen.append(partitions)
        return consensus(partitions, *args, **kwargs)
    monkeypatch.setattr(umap_partition, 'consensus_labels', record)
    x, y = make_blobs()
    for options in ({}, {'graph_votes': 0}, {'graph_votes': 3},
                    {'graph_space': 'latent'}):
        est = VGDCN(n_clusters=3, random_state=0,
                    **dict(TINY, epochs=2, **options)).fit(x, y)
        assert cluster_accuracy(y, est.init_labels_) > 0.9
    assert [len(p) for p in seen] == [6, 4, 7, 6]
    for partitions in (seen[0], seen[2], seen[3]):
        vote = partitions[4]
        assert all(np.array_equal(vote, p) for p in partitions[4:])
        assert cluster_accuracy(y, vote) > 0.9
    # the default: two votes up to GRAPH_VOTE_MAX_SAMPLES samples, none above
    assert VGDCN(n_clusters=3).model_options()['graph_votes'] is None
    net = VGDCN(n_clusters=3).build_model(8, 'gaussian')
    assert net.votes(graph_models.GRAPH_VOTE_MAX_SAMPLES) == 2
    assert net.votes(graph_models.GRAPH_VOTE_MAX_SAMPLES + 1) == 0
    assert VGDCN(n_clusters=3, graph_votes=3).build_model(
        8, 'gaussian').votes(10 ** 6) == 3
    monkeypatch.setattr(graph_models, 'GRAPH_VOTE_MAX_SAMPLES', len(x) - 1)
    VGDCN(n_clusters=3, random_state=0, **dict(TINY, epochs=2)).fit(x, y)
    assert len(seen[-1]) == 4
    with pytest.raises(ModelError, match='graph_votes must be'):
        VGDCN(n_clusters=3, graph_votes=-1, **TINY).fit(x)
    with pytest.raises(ValueError, match='needs the graph'):
        umap_consensus(x, x, 3, 0, graph_votes=1)
