r"""External clustering metrics: accuracy under the best one-to-one matching
of clusters to classes, NMI, ARI, macro F1 and purity.

Labels may be any hashable values of one type (ints, strings, ...); they are
mapped to :math:`0, \ldots, C - 1` internally, so only the partition matters.
"""
from typing import Any, Dict, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_rand_score,
    f1_score,
    normalized_mutual_info_score,
)

from vgdcn_pyg.exceptions import DataError


def _as_label_array(labels: Any, name: str) -> np.ndarray:
    if hasattr(labels, 'detach'):  # torch.Tensor, without importing torch
        labels = labels.detach().cpu().numpy()
    array = np.asarray(labels)
    if array.ndim == 2 and 1 in array.shape:
        array = array.reshape(-1)
    if array.ndim != 1:
        raise DataError(f'{name} must be 1-D, got shape {array.shape}')
    if array.dtype.kind in 'fc' and not np.isfinite(array).all():
        n_bad = int((~np.isfinite(array)).sum())
        raise DataError(f'{name} contains {n_bad} NaN/inf labels')
    return array


def _encode(y_true: Any, y_pred: Any
            ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Validates both label vectors and maps them to :math:`0..C-1` and
    :math:`0..K-1`; also returns the original class and cluster values."""
    y_true = _as_label_array(y_true, 'y_true')
    y_pred = _as_label_array(y_pred, 'y_pred')
    if y_true.shape[0] != y_pred.shape[0]:
        raise DataError(f'y_true and y_pred must have the same length, got '
                        f'{y_true.shape[0]} and {y_pred.shape[0]}')
    if y_true.shape[0] == 0:
        raise DataError('y_true and y_pred are empty')
    try:
        classes, true_codes = np.unique(y_true, return_inverse=True)
        clusters, pred_codes = np.unique(y_pred, return_inverse=True)
    except TypeError as e:  # e.g. a mix of strings and numbers
        raise DataError(f'labels must be mutually comparable: {e}') from e
    return true_codes.reshape(-1), pred_codes.reshape(-1), classes, clusters


def _contingency(true_codes: np.ndarray, pred_codes: np.ndarray,
                 num_classes: int, num_clusters: int) -> np.ndarray:
    r"""Counts :math:`n_{cl}` of samples in cluster :math:`c` with class
    :math:`l`, shape :obj:`(K, C)`."""
    counts = np.zeros((num_clusters, num_classes), dtype=np.int64)
    np.add.at(counts, (pred_codes, true_codes), 1)
    return counts


def _hungarian(true_codes: np.ndarray, pred_codes: np.ndarray,
               num_classes: int, num_clusters: int
               ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Maximum-weight matching of clusters (rows) to classes (columns) of
    the contingency matrix :math:`n_{cl}`.

    Several matchings can reach the same accuracy, and which one the solver
    returns would then depend on the label values. Ties are broken by the sum
    of the per-pair F1 scores :math:`2 n_{cl} / (|c| + |l|)`, a label-free
    criterion, so that :func:`macro_f1` is invariant to relabelling: the
    weights are :math:`n_{cl} + \epsilon F_{cl}` with
    :math:`\epsilon \sum F_{cl} < 1`, less than one correctly labelled
    sample.
    """
    counts = _contingency(true_codes, pred_codes, num_classes, num_clusters)
    cluster_size = counts.sum(axis=1, keepdims=True)
    class_size = counts.sum(axis=0, keepdims=True)
    pair_f1 = 2.0 * counts / (cluster_size + class_size)
    eps = 1.0 / (min(num_classes, num_clusters) + 1)
    # Rectangular problems are fine: with K > C clusters, K - C clusters stay
    # unmatched; with K < C, C - K classes do.
    rows, cols = linear_sum_assignment(counts + eps * pair_f1, maximize=True)
    return counts, rows, cols


def match_clusters(y_true: Any, y_pred: Any) -> Dict[Any, Any]:
    r"""The one-to-one map :math:`m` from clusters to classes that maximises
    the number of correctly labelled samples (Hungarian algorithm, Kuhn
    1955), see :func:`cluster_accuracy`.

    Returns:
        dict: Maps each matched cluster value of :obj:`y_pred` to a class
        value of :obj:`y_true`. When there are more clusters than classes,
        the clusters left unmatched are absent from the dict.
    """
    true_codes, pred_codes, classes, clusters = _encode(y_true, y_pred)
    _, rows, cols = _hungarian(true_codes, pred_codes, len(classes),
                               len(clusters))
    return {clusters[r].item(): classes[c].item() for r, c in zip(rows, cols)}


def cluster_accuracy(y_true: Any, y_pred: Any) -> float:
    r"""Unsupervised clustering accuracy

    .. math::
        \mathrm{ACC} = \max_{m} \frac{1}{N} \sum_{i=1}^N
        \mathbb{1}\{ l_i = m(c_i) \},

    where :math:`l_i` is the class and :math:`c_i` the cluster of sample
    :math:`i`, and :math:`m` ranges over one-to-one maps from clusters to
    classes. The best :math:`m` is a maximum-weight matching on the
    :math:`K \times C` contingency matrix, found with the Hungarian algorithm
    (Kuhn, "The Hungarian method for the assignment problem", 1955) via
    :func:`scipy.optimize.linear_sum_assignment`. :math:`K` may differ from
    :math:`C`: samples of unmatched clusters count as errors.
    """
    true_codes, pred_codes, classes, clusters = _encode(y_true, y_pred)
    counts, rows, cols = _hungarian(true_codes, pred_codes, len(classes),
                                    len(clusters))
    return float(counts[rows, cols].sum() / true_codes.shape[0])


def purity(y_true: Any, y_pred: Any) -> float:
    r"""Cluster purity

    .. math::
        \mathrm{purity} = \frac{1}{N} \sum_{c} \max_{l} n_{cl},

    each cluster voting for its majority class (several clusters may vote
    for the same class, so :math:`\mathrm{purity} \geq \mathrm{ACC}`).
    """
    true_codes, pred_codes, classes, clusters = _encode(y_true, y_pred)
    counts = _contingency(true_codes, pred_codes, len(classes), len(clusters))
    return float(counts.max(axis=1).sum() / true_codes.shape[0])


def normalized_mutual_info(y_true: Any, y_pred: Any) -> float:
    r"""Normalised mutual information with the arithmetic mean,

    .. math::
        \mathrm{NMI} = \frac{I(L; C)}{\frac{1}{2} (H(L) + H(C))},

    as :func:`sklearn.metrics.normalized_mutual_info_score`
    (:obj:`average_method="arithmetic"`)."""
    true_codes, pred_codes, _, _ = _encode(y_true, y_pred)
    return float(normalized_mutual_info_score(
        true_codes, pred_codes, average_method='arithmetic'))


def adjusted_rand_index(y_true: Any, y_pred: Any) -> float:
    r"""Adjusted Rand index (Hubert and Arabie, 1985),

    .. math::
        \mathrm{ARI} = \frac{\mathrm{RI} - \mathbb{E}[\mathrm{RI}]}
        {\max(\mathrm{RI}) - \mathbb{E}[\mathrm{RI}]},

    as :func:`sklearn.metrics.adjusted_rand_score`."""
    true_codes, pred_codes, _, _ = _encode(y_true, y_pred)
    return float(adjusted_rand_score(true_codes, pred_codes))


def macro_f1(y_true: Any, y_pred: Any) -> float:
    r"""Macro-averaged F1 score after relabelling clusters with the best
    one-to-one map :math:`m` of :func:`cluster_accuracy`,

    .. math::
        F_1 = \frac{1}{C} \sum_{l=1}^C \frac{2 P_l R_l}{P_l + R_l},

    with precision :math:`P_l` and recall :math:`R_l` of class :math:`l`.
    Samples in clusters left unmatched (more clusters than classes) get a
    label that matches no class, so they count as false negatives; classes
    left unmatched (fewer clusters than classes) score :math:`F_1 = 0`.
    Among matchings of equal accuracy, the one with the highest macro F1 is
    used.
    """
    true_codes, pred_codes, classes, clusters = _encode(y_true, y_pred)
    num_classes = len(classes)
    _, rows, cols = _hungarian(true_codes, pred_codes, num_classes,
                               len(clusters))
    # -1 is not a class code, so samples of unmatched clusters are wrong.
    mapping = np.full(len(clusters), -1, dtype=np.int64)
    mapping[rows] = cols
    mapped = mapping[pred_codes]
    return float(f1_score(true_codes, mapped, labels=np.arange(num_classes),
                          average='macro', zero_division=0))


def evaluate(y_true: Any, y_pred: Any) -> Dict[str, float]:
    r"""All metrics at once.

    Returns:
        dict: :obj:`acc` (:func:`cluster_accuracy`), :obj:`nmi`
        (:func:`normalized_mutual_info`), :obj:`ari`
        (:func:`adjusted_rand_index`), :obj:`f1` (:func:`macro_f1`) and
        :obj:`purity` (:func:`purity`), as Python floats.
    """
    true_codes, pred_codes, _, _ = _encode(y_true, y_pred)
    return {
        'acc': cluster_accuracy(true_codes, pred_codes),
        'nmi': normalized_mutual_info(true_codes, pred_codes),
        'ari': adjusted_rand_index(true_codes, pred_codes),
        'f1': macro_f1(true_codes, pred_codes),
        'purity': purity(true_codes, pred_codes),
    }
