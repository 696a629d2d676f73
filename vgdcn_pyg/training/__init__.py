r"""Training: reconstruction pretraining, the sources of batches (whole
graph, row mini-batches, sampled subgraphs) and the one joint-phase loop."""
from .batches import RowBatches, SubgraphBatches, WholeGraph
from .trainer import pretrain, seed_everything, train

__all__ = ['pretrain', 'train', 'seed_everything', 'WholeGraph',
           'RowBatches', 'SubgraphBatches']
