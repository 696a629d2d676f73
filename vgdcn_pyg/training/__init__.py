r"""Training loops: reconstruction pretraining and the joint phase."""
from .trainer import pretrain, seed_everything, train_joint

__all__ = ['pretrain', 'train_joint', 'seed_everything']
