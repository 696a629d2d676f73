import numpy as np
import pytest
import torch
from sklearn.base import clone

from vgdcn_pyg import DEC, VGDCN, DataError, DeepClustering, ModelError
from vgdcn_pyg.evaluation import cluster_accuracy

from .conftest import TINY, make_blobs


@pytest.fixture(scope='module')
def fitted():
    x, y = make_blobs()
    return VGDCN(n_clusters=3, random_state=0, **TINY).fit(x, y), x, y


def test_fit_attributes(fitted):
    est, x, y = fitted
    assert est.labels_.shape == (len(x), )
    assert est.proba_.shape == (len(x), 3)
    assert est.cluster_centers_.shape == (3, 4)
    assert est.embedding_.shape == (len(x), 4)
    assert est.n_iter_ == TINY['epochs'] == len(est.history_)
    # labels only feed the history
    assert {'acc', 'nmi', 'ari'} <= set(est.history_[-1])
    assert cluster_accuracy(y, est.labels_) > 0.9


def test_same_seed_same_labels(fitted):
    est, x, y = fitted
    again = VGDCN(n_clusters=3, random_state=0, **TINY).fit(x)
    np.testing.assert_array_equal(again.labels_, est.labels_)
    np.testing.assert_allclose(again.proba_, est.proba_, rtol=0, atol=0)


@pytest.mark.parametrize('model', ['sdcn', 'vade', 'dec', 'idec',
                                   'vae_kmeans', 'ae_kmeans', 'n2d'])
def test_every_model_same_seed_same_result(model):
    # (VGDCN, with its graph, is the test above; resuming is in
    # tests/training/test_checkpoint.py.)
    x, _ = make_blobs(n_per_cluster=20)
    params = dict(TINY, n_clusters=3, model=model, pretrain_epochs=4,
                  epochs=4)
    first, again = (DeepClustering(**params).fit(x) for _ in range(2))
    np.testing.assert_array_equal(first.proba_, again.proba_)
    assert first.history_ == again.history_
    other = DeepClustering(**dict(params, random_state=1)).fit(x)
    assert not np.array_equal(other.embedding_, first.embedding_)


def test_predict_new_samples_joins_training_graph(fitted):
    est, x, y = fitted
    x_new, y_new = make_blobs(n_per_cluster=5, seed=0)
    pred = est.predict(x_new)
    assert pred.shape == (15, )
    # the same blobs: new points land in the clusters of their twins
    assert cluster_accuracy(y_new, pred) > 0.9
    np.testing.assert_array_equal(est.predict(x[:10]), est.labels_[:10])


def test_save_load_round_trip(fitted, tmp_path):
    est, x, y = fitted
    path = tmp_path / 'model.pt'
    est.save(path)
    loaded = VGDCN.load(path)
    np.testing.assert_array_equal(loaded.labels_, est.labels_)
    np.testing.assert_allclose(loaded.predict_proba(x[:7]),
                               est.predict_proba(x[:7]), atol=1e-6)
    assert type(loaded) is VGDCN and loaded.get_params() == est.get_params()
    # The general estimator reads any model file; a named one its own only.
    general = DeepClustering.load(path)
    assert general.model == 'vgdcn'
    np.testing.assert_array_equal(general.labels_, est.labels_)
    with pytest.raises(ModelError, match="holds a 'vgdcn' model"):
        DEC.load(path)


def test_truncated_or_foreign_model_file(fitted, tmp_path):
    est, x, y = fitted
    path = tmp_path / 'model.pt'
    est.save(path)
    data = path.read_bytes()
    (tmp_path / 'cut.pt').write_bytes(data[:len(data) // 2])
    with pytest.raises(ModelError, match='cannot read model file'):
        DeepClustering.load(tmp_path / 'cut.pt')
    torch.save({'format': 'something-else'}, tmp_path / 'other.pt')
    with pytest.raises(ModelError, match='not a vgdcn-pyg model'):
        DeepClustering.load(tmp_path / 'other.pt')
    state = torch.load(path, weights_only=False)
    state['format_version'] = 999
    torch.save(state, tmp_path / 'future.pt')
    with pytest.raises(ModelError, match='format 999'):
        DeepClustering.load(tmp_path / 'future.pt')
    with pytest.raises(ModelError, match='no such model file'):
        DeepClustering.load(tmp_path / 'missing.pt')


def test_generation(fitted):
    est, x, y = fitted
    images = est.sample(4)
    assert images.shape == (3, 4, x.shape[1])
    assert est.sample(2, cluster=1).shape == (2, x.shape[1])
    with pytest.raises(ModelError, match='not generative'):
        DEC(n_clusters=3, **dict(TINY, epochs=1)).fit(x).sample(2)


@pytest.mark.parametrize('model', ['vgdcn', 'sdcn'])
def test_predict_with_default_graph_settings(model):
    # n_neighbors / graph_space left at None: the model's own defaults
    x, y = make_blobs(n_per_cluster=30)
    params = dict(TINY, epochs=3)
    params.pop('n_neighbors')
    est = DeepClustering(n_clusters=3, model=model, **params).fit(x)
    pred = est.predict(x[:12])
    assert pred.shape == (12, )
    assert (pred == est.labels_[:12]).mean() >= 0.9


def test_default_pretraining_length_scales_with_data_size():
    est = VGDCN(batch_size=256)
    from vgdcn_pyg.training.trainer import MIN_PRETRAIN_STEPS
    # USPS, 37 steps of 256 an epoch: the least epochs, then steps grow
    assert est.pretrain_batch(9298) == 256
    assert est.pretrain_length(9298) == 50
    assert est.pretrain_length(20 * 9298) == 50
    # the 598 leaves in batches of 64, 10 steps an epoch: enough epochs for
    # the least steps, a quarter of the sample passes of batches of 256
    assert est.pretrain_batch(598) == 64
    assert est.pretrain_length(598) == -(-MIN_PRETRAIN_STEPS // 10) == 180
    assert VGDCN(pretrain_epochs=7).pretrain_length(598) == 7
    # the pretraining before the batch rule is one setting away
    old = VGDCN(pretrain_batch_size=256)
    assert (old.pretrain_batch(598), old.pretrain_length(598)) == (256, 600)
    # half the pretraining steps too
    short = VGDCN(batch_size=256, pretrain_steps=900)
    assert (short.pretrain_length(9298), short.pretrain_length(598),
            short.pretrain_length(1797)) == (25, 90, 32)


def test_default_pretraining_batch_gives_36_steps_an_epoch():
    from vgdcn_pyg.training.trainer import default_pretrain_batch_size
    sizes = {n: default_pretrain_batch_size(n, 256)
             for n in (10, 256, 257, 598, 1797, 36 * 128 - 1, 36 * 128,
                       9298, 10 ** 6)}
    # one batch holds the data: full-batch steps, as before the rule
    assert sizes == {10: 256, 256: 256, 257: 64, 598: 64, 1797: 64,
                     36 * 128 - 1: 64, 36 * 128: 128, 9298: 256,
                     10 ** 6: 256}
    # batch_size caps it: a user's smaller batch is kept
    assert default_pretrain_batch_size(9298, 32) == 32


def test_pretraining_runs_in_the_default_batches(monkeypatch):
    from vgdcn_pyg import phases
    seen, loop = [], phases.pretrain_loop

    def spy(net, x, epochs, batch_size, *args, **kwargs):
        seen.append(batch_size)
        return loop(net, x, epochs, batch_size, *args, **kwargs)

    monkeypatch.setattr(phases, 'pretrain_loop', spy)
    x = make_blobs()[0]
    for given, expected in ((None, 64), (100, 100)):
        VGDCN(n_clusters=3, **dict(TINY, batch_size=100, pretrain_epochs=1,
                                   epochs=1, pretrain_batch_size=given)
              ).fit(x)
        assert seen.pop() == expected
    with pytest.raises(ModelError, match='pretrain_batch_size must be an'):
        VGDCN(n_clusters=3, **dict(TINY, pretrain_batch_size=0)).fit(x)
    with pytest.raises(ModelError, match='batch_size must be an integer'):
        VGDCN(n_clusters=3, **dict(TINY, batch_size=2.5)).fit(x)


def test_unknown_device():
    with pytest.raises(ModelError, match='unknown device'):
        VGDCN(n_clusters=3, **dict(TINY, device='tpu-ish')).fit(
            make_blobs()[0])


def test_fit_accepts_clustering_data():
    from vgdcn_pyg.datasets import ClusteringData
    x, y = make_blobs(n_per_cluster=15)
    est = DEC(n_clusters=3, **dict(TINY, epochs=2)).fit(ClusteringData(x, y))
    assert len(est.history_) == 2 and 'acc' in est.history_[-1]


def test_sklearn_conventions():
    est = VGDCN(eps=0.7, n_neighbors=4)
    assert clone(est).get_params()['eps'] == 0.7
    assert est.model == 'vgdcn' and DEC().model == 'dec'
    assert 'eps=0.7' in repr(est)
    # A named estimator fits its own model only...
    assert 'model' not in est.get_params()
    with pytest.raises(TypeError, match='model'):
        VGDCN(model='dec')
    with pytest.raises(ValueError, match='model'):
        est.set_params(model='dec')
    # ...DeepClustering any model by name; hyper-parameters are keyword-only
    # after n_clusters.
    assert clone(DeepClustering(model='dec')).get_params()['model'] == 'dec'
    with pytest.raises(TypeError):
        DeepClustering(3, 'dec')


def test_a_new_model_is_one_class_and_one_registry_entry(monkeypatch):
    # The estimator knows no model by name: what it needs comes from the
    # class (here a plain AE + k-means with a 2-epoch default schedule).
    from vgdcn_pyg.models import MODELS, AEKMeansModel

    class Toy(AEKMeansModel):
        name = 'toy'
        default_epochs = 2

    monkeypatch.setitem(MODELS, 'toy', Toy)
    x, y = make_blobs(n_per_cluster=15)
    params = dict(TINY, epochs=None)
    est = DeepClustering(n_clusters=3, model='toy', **params).fit(x)
    assert isinstance(est.model_, Toy) and est.schedule()[0] == 2
    assert cluster_accuracy(y, est.labels_) > 0.9


@pytest.mark.parametrize('x, message', [
    (np.zeros((10, )), 'must be 2-D'),
    (np.array([['a', 'b']] * 5), 'must be numeric'),
    (np.full((20, 3), np.nan), 'NaN/inf'),
    (np.zeros((0, 4)), 'empty'),
])
def test_bad_input(x, message):
    with pytest.raises(DataError, match=message):
        VGDCN(n_clusters=2, **TINY).fit(x)


def test_bad_parameters(blobs):
    x, y = blobs
    with pytest.raises(DataError, match='too few'):
        VGDCN(n_clusters=3, **TINY).fit(x[:3])
    with pytest.raises(DataError, match='n_neighbors'):
        VGDCN(n_clusters=3, **dict(TINY, n_neighbors=500)).fit(x)
    with pytest.raises(ModelError, match='unknown model'):
        DeepClustering(model='kmeans++').fit(x)
    with pytest.raises(ModelError, match='posterior must be one of'):
        VGDCN(n_clusters=3, **dict(TINY, posterior='vade')).fit(x)
    with pytest.raises(ModelError, match='precision'):
        VGDCN(n_clusters=3, **dict(TINY, precision='fp16')).fit(x)
    with pytest.raises(ModelError, match='lr_warmup must be an integer'):
        VGDCN(n_clusters=3, **dict(TINY, lr_warmup=-1)).fit(x)
    with pytest.raises(ModelError, match='init_restarts must be an integer'):
        VGDCN(n_clusters=3, **dict(TINY, init_restarts=0)).fit(x)
    with pytest.raises(ModelError, match='umap_epochs must be an integer'):
        VGDCN(n_clusters=3, **dict(TINY, umap_epochs=0)).fit(x)
    with pytest.raises(ModelError, match='gmm_starts must be an integer'):
        VGDCN(n_clusters=3, **dict(TINY, gmm_starts=0)).fit(x)
    for steps in (0, 2.5, 'many'):
        with pytest.raises(ModelError, match='pretrain_steps must be an'):
            VGDCN(n_clusters=3, **dict(TINY, pretrain_steps=steps)).fit(x)
    with pytest.raises(DataError, match='expected'):
        VGDCN(n_clusters=3, **TINY).fit(x, y[:5])
    with pytest.raises(ModelError, match='not fitted'):
        VGDCN().predict(x)
    with pytest.raises(ModelError, match='no CUDA'):
        if torch.cuda.is_available():
            pytest.skip('a GPU is present')
        VGDCN(n_clusters=3, **dict(TINY, device='cuda')).fit(x)


def test_thesis_options_reach_the_model(blobs):
    x, y = blobs
    est = VGDCN(n_clusters=3, **dict(TINY, epochs=2), init='gmm',
                gcn_init='random', target='latent', posterior='gmm').fit(x)
    net = est.model_
    assert (net.init, net.gcn_init, net.target_source, net.posterior) == \
        ('gmm', 'random', 'latent', 'gmm')
    assert est.labels_.shape == (len(x), )


def test_learning_rate_warmup_defaults_per_model():
    # VGDCN ramps its fresh Adam on the pretrained weights; the baselines
    # keep their published schedule; an explicit value wins.
    assert VGDCN().warmup_length() == 10
    assert DEC().warmup_length() == 0
    assert VGDCN(lr_warmup=0).warmup_length() == 0
