import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from vgdcn_pyg.evaluation import (
    adjusted_rand_index,
    cluster_accuracy,
    evaluate,
    macro_f1,
    match_clusters,
    normalized_mutual_info,
    purity,
)
from vgdcn_pyg.exceptions import DataError

# Hand-worked cases ###########################################################


def test_permuted_clusters_are_perfect():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [1, 1, 0, 0, 2, 2]
    assert cluster_accuracy(y_true, y_pred) == 1.0
    assert match_clusters(y_true, y_pred) == {0: 1, 1: 0, 2: 2}
    assert evaluate(y_true, y_pred) == {
        'acc': 1.0, 'nmi': 1.0, 'ari': 1.0, 'f1': 1.0, 'purity': 1.0
    }


def test_one_error():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [1, 1, 0, 0, 2, 0]
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(5 / 6)
    assert purity(y_true, y_pred) == pytest.approx(5 / 6)
    # Mapped: [0, 0, 1, 1, 2, 1]. F1 per class: 1, 2*(2/3)/(5/3) = 0.8,
    # 2*(1*0.5)/1.5 = 2/3.
    assert macro_f1(y_true, y_pred) == pytest.approx((1 + 0.8 + 2 / 3) / 3)


def test_more_clusters_than_classes():
    # Four clusters, two classes: the best matching uses 'a' -> 0 and
    # 'c' -> 1; clusters 'b' and 'd' stay unmatched and count as errors.
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = ['a', 'a', 'b', 'c', 'c', 'd']
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert match_clusters(y_true, y_pred) == {'a': 0, 'c': 1}
    # Every cluster is pure.
    assert purity(y_true, y_pred) == 1.0
    # Recall 2/3 and precision 1 for both classes: F1 = 0.8.
    assert macro_f1(y_true, y_pred) == pytest.approx(0.8)


def test_fewer_clusters_than_classes():
    y_true = [0, 0, 1, 1, 2, 2]
    y_pred = [7, 7, 7, 7, 9, 9]
    # 7 -> 0 (or 1) and 9 -> 2: 4 correct.
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    assert purity(y_true, y_pred) == pytest.approx(4 / 6)
    mapping = match_clusters(y_true, y_pred)
    assert mapping[9] == 2 and mapping[7] in (0, 1)
    # F1: the matched class of 7 gets P=1/2, R=1 -> 2/3; class 2 gets 1; the
    # unmatched class gets 0.
    assert macro_f1(y_true, y_pred) == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_single_cluster():
    y_true = [0, 0, 0, 1]
    assert cluster_accuracy(y_true, [5, 5, 5, 5]) == 0.75
    assert purity(y_true, [5, 5, 5, 5]) == 0.75
    assert normalized_mutual_info(y_true, [5, 5, 5, 5]) == 0.0
    assert adjusted_rand_index(y_true, [5, 5, 5, 5]) == 0.0


def test_purity_exceeds_accuracy():
    # Two clusters both dominated by class 0: purity counts both majorities,
    # accuracy may match only one of them to class 0.
    y_true = [0, 0, 1, 0, 0, 1]
    y_pred = [0, 0, 0, 1, 1, 1]
    assert purity(y_true, y_pred) == pytest.approx(4 / 6)
    assert cluster_accuracy(y_true, y_pred) == pytest.approx(3 / 6)


def test_nmi_ari_equal_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, size=200)
    y_pred = np.where(rng.random(200) < 0.7, y_true, rng.integers(0, 5, 200))
    assert normalized_mutual_info(y_true, y_pred) == pytest.approx(
        normalized_mutual_info_score(y_true, y_pred,
                                     average_method='arithmetic'))
    assert adjusted_rand_index(y_true, y_pred) == pytest.approx(
        adjusted_rand_score(y_true, y_pred))


def test_label_values_and_types_do_not_matter():
    y_true = np.array([3, 3, 8, 8, 8, 1])
    y_pred = np.array([2, 2, 2, 0, 0, 1])
    ref = evaluate(y_true, y_pred)
    strings = evaluate(['c', 'c', 'h', 'h', 'h', 'a'],
                       ['x', 'x', 'x', 'y', 'y', 'z'])
    tensors = evaluate(torch.tensor(y_true), torch.tensor(y_pred + 10))
    column = evaluate(y_true.reshape(-1, 1), y_pred.reshape(-1, 1))
    for other in (strings, tensors, column):
        assert other == pytest.approx(ref)
    assert all(type(v) is float for v in ref.values())
    assert set(ref) == {'acc', 'nmi', 'ari', 'f1', 'purity'}


def test_label_permutation_invariance():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, size=100)
    y_pred = rng.integers(0, 6, size=100)
    ref = evaluate(y_true, y_pred)
    perm_pred = rng.permutation(6)[y_pred]
    perm_true = rng.permutation(5)[y_true]
    assert evaluate(perm_true, perm_pred) == pytest.approx(ref)


# Bad input ###################################################################


@pytest.mark.parametrize('metric', [
    cluster_accuracy, normalized_mutual_info, adjusted_rand_index, macro_f1,
    purity, match_clusters, evaluate
])
def test_bad_input_raises(metric):
    with pytest.raises(DataError, match='same length, got 3 and 2'):
        metric([0, 1, 1], [0, 1])
    with pytest.raises(DataError, match='empty'):
        metric([], [])
    with pytest.raises(DataError, match='must be 1-D'):
        metric(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(DataError, match='1 NaN/inf'):
        metric([0.0, float('nan')], [0, 1])
    with pytest.raises(DataError, match='comparable'):
        metric(np.array([0, 'a'], dtype=object), [0, 1])
    assert issubclass(DataError, ValueError)


# Properties ##################################################################


@st.composite
def labellings(draw, max_n=40):
    n = draw(st.integers(1, max_n))
    num_classes = draw(st.integers(1, 6))
    num_clusters = draw(st.integers(1, 6))
    y_true = draw(st.lists(st.integers(0, num_classes - 1), min_size=n,
                           max_size=n))
    y_pred = draw(st.lists(st.integers(0, num_clusters - 1), min_size=n,
                           max_size=n))
    return np.array(y_true), np.array(y_pred)


@settings(max_examples=30, deadline=None)
@given(labellings(), st.randoms(use_true_random=False))
def test_property_bounds_and_relabelling(labels, random):
    y_true, y_pred = labels
    acc = cluster_accuracy(y_true, y_pred)
    assert 0.0 <= acc <= 1.0
    assert acc <= purity(y_true, y_pred) + 1e-12
    assert 0.0 <= macro_f1(y_true, y_pred) <= 1.0
    # Relabelling the clusters (even to other values) changes nothing.
    values = list(range(100, 100 + int(y_pred.max()) + 1))
    random.shuffle(values)
    relabelled = np.array(values)[y_pred]
    assert cluster_accuracy(y_true, relabelled) == acc
    assert evaluate(y_true, relabelled) == pytest.approx(
        evaluate(y_true, y_pred))


@settings(max_examples=30, deadline=None)
@given(labellings())
def test_property_perfect_iff_bijection(labels):
    y_true, y_pred = labels
    num_classes = len(np.unique(y_true))
    num_clusters = len(np.unique(y_pred))
    if num_clusters != num_classes:
        return
    # A bijection exists iff each (cluster, class) pair that occurs is the
    # only pair of its cluster and of its class.
    num_pairs = len(set(zip(y_pred.tolist(), y_true.tolist())))
    bijection = num_pairs == num_classes
    assert (cluster_accuracy(y_true, y_pred) == 1.0) == bijection


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=30),
       st.permutations(range(5)))
def test_property_bijection_is_perfect(y_true, perm):
    # The converse direction with guaranteed bijections.
    y_true = np.array(y_true)
    y_pred = np.array(perm)[y_true]
    assert cluster_accuracy(y_true, y_pred) == 1.0
    assert macro_f1(y_true, y_pred) == 1.0


@settings(max_examples=30, deadline=None)
@given(labellings(), st.randoms(use_true_random=False))
def test_property_symmetric_order_free_and_as_sklearn(labels, random):
    y_true, y_pred = labels
    scores = evaluate(y_true, y_pred)
    # Swapping the two labellings: ACC, NMI and ARI do not change.
    swapped = evaluate(y_pred, y_true)
    for key in ('acc', 'nmi', 'ari'):
        assert swapped[key] == pytest.approx(scores[key], abs=1e-12)
    # Nor does the order of the samples.
    order = list(range(len(y_true)))
    random.shuffle(order)
    assert evaluate(y_true[order], y_pred[order]) == pytest.approx(scores)
    assert scores['nmi'] == pytest.approx(
        normalized_mutual_info_score(y_true, y_pred), abs=1e-12)
    assert scores['ari'] == pytest.approx(
        adjusted_rand_score(y_true, y_pred), abs=1e-12)
    # The matching is at least as good as the best single (cluster, class)
    # pair.
    pairs = np.unique(np.stack([y_pred, y_true]), axis=1, return_counts=True)
    assert scores['acc'] >= pairs[1].max() / len(y_true) - 1e-12
