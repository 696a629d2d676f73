r"""Clustering evaluation metrics (ACC, NMI, ARI, macro F1, purity)."""
from .metrics import (
    adjusted_rand_index,
    cluster_accuracy,
    evaluate,
    macro_f1,
    match_clusters,
    normalized_mutual_info,
    purity,
)

__all__ = [
    'cluster_accuracy',
    'normalized_mutual_info',
    'adjusted_rand_index',
    'macro_f1',
    'purity',
    'match_clusters',
    'evaluate',
]
