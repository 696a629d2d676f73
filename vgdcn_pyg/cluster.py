r"""scikit-learn style estimators on top of the models.

>>> from vgdcn_pyg import VGDCN
>>> from vgdcn_pyg.datasets import load_usps
>>> data = load_usps()
>>> labels = VGDCN(n_clusters=10, random_state=0).fit_predict(data.x)
"""
import contextlib
import inspect
import math
import os
import warnings
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin
from tqdm.auto import tqdm

from . import __version__
from .datasets import ClusteringData
from .exceptions import DataError, GraphError, ModelError
from .graph import knn_heat_kernel_graph, knn_search
from .graph.heat_kernel import default_bandwidth, heat_kernel_weights
from .graph.query import knn_query
from .graph.sampling import check_num_neighbors
from .io import save_torch
from .models import (AEKMeansModel, DECModel, DeepClusteringModel, IDECModel,
                     SDCNModel, VaDEModel, VAEKMeansModel, VGDCNModel)
from .nn import DeepAutoEncoder, FusedGCN
from .training import distributed
from .training.checkpoint import (fingerprint, load_checkpoint,
                                  save_checkpoint, set_rng_state)
from .training.minibatch import (DEFAULT_INFERENCE_BATCH_SIZE,
                                 supports_minibatch, train_minibatch)
from .training.trainer import pretrain, seed_everything, train_joint

#: Model name -> model class.
MODELS = {
    'vgdcn': VGDCNModel,
    'vade': VaDEModel,
    'vae_kmeans': VAEKMeansModel,
    'ae_kmeans': AEKMeansModel,
    'dec': DECModel,
    'idec': IDECModel,
    'sdcn': SDCNModel,
}
_VARIATIONAL = {'vgdcn', 'vade', 'vae_kmeans'}
#: Least number of mini-batch steps of the default pretraining.
MIN_PRETRAIN_STEPS = 1800
_MODEL_FILE_FORMAT = 'vgdcn-pyg-model'
_MODEL_FILE_VERSION = 1


def resolve_device(device: Optional[str]) -> torch.device:
    r""":obj:`"auto"` picks CUDA when present."""
    if device is None or device == 'auto':
        return torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise ModelError(f'unknown device {device!r} (use cpu, cuda, cuda:N '
                         f'or auto)') from None
    if device.type == 'cuda':
        if not torch.cuda.is_available():
            raise ModelError('device cuda was asked for but no CUDA GPU is '
                             'available (use --device cpu)')
        if device.index is not None and \
                device.index >= torch.cuda.device_count():
            raise ModelError(f'{device} does not exist: '
                             f'{torch.cuda.device_count()} GPU(s) present')
    return device


def check_samples(x: Any, name: str = 'X') -> np.ndarray:
    r"""Returns :obj:`x` as a finite float32 matrix or raises
    :class:`~vgdcn_pyg.exceptions.DataError`."""
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    try:
        x = np.asarray(x)
    except Exception as e:  # ragged lists and the like
        raise DataError(f'{name} cannot be read as an array: {e}') from None
    if x.dtype.kind not in 'biuf':
        raise DataError(f'{name} must be numeric, got dtype {x.dtype}')
    if x.ndim != 2:
        raise DataError(f'{name} must be 2-D (n_samples, n_features), got '
                        f'shape {x.shape}')
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f'{name} is empty (shape {x.shape})')
    x = x.astype(np.float32, copy=False)
    bad = ~np.isfinite(x)
    if bad.any():
        row = int(np.argwhere(bad)[0, 0])
        raise DataError(f'{name} contains {int(bad.sum())} NaN/inf values '
                        f'(first in row {row})')
    return x


class DeepClustering(ClusterMixin, BaseEstimator):
    r"""Deep clustering of samples (rows of :obj:`X`) with VGDCN or one of its
    baselines, in the style of :class:`sklearn.cluster.KMeans`.

    :meth:`fit` runs the three phases of every model: mini-batch
    reconstruction pretraining of the auto-encoder, k-means / GMM
    initialisation on its embedding, and the model's joint objective (graph
    models full batch over a kNN heat-kernel graph). Labels passed to
    :meth:`fit` only add metrics to :attr:`history_`; nothing is chosen with
    them, and the result is the last epoch's.

    Args:
        n_clusters (int): Number of clusters :math:`K`. (default: :obj:`10`)
        model (str): :obj:`"vgdcn"`, :obj:`"vade"`, :obj:`"vae_kmeans"`,
            :obj:`"ae_kmeans"`, :obj:`"dec"`, :obj:`"idec"` or :obj:`"sdcn"`.
        hidden_channels (Sequence[int]): Encoder widths.
            (default: :obj:`(500, 500, 2000)`)
        latent_channels (int): Latent dimension. (default: :obj:`10`)
        likelihood (str): :obj:`"bernoulli"`, :obj:`"gaussian"` or
            :obj:`"auto"` (Bernoulli when all values are in :math:`[0, 1]`).
        n_neighbors (int, optional): :math:`M`, neighbours per sample in the
            graph. :obj:`None`: 10 for VGDCN (on the latent space), 3 for
            SDCN (on the input, as published).
        graph_space (str, optional): Build the graph on the :obj:`"input"`
            features or on the pretrained :obj:`"latent"` means. :obj:`None`:
            latent for VGDCN, input for SDCN.
        graph_backend (str): kNN back end (see
            :func:`vgdcn_pyg.graph.knn_search`). (default: :obj:`"auto"`)
        eps (float): Fusion weight :math:`\epsilon` of the GCN branch.
        gcn_weight (float): Weight :math:`\lambda` of the GCN's KL term
            (VGDCN) or of :math:`\mathrm{KL}(P\|\mathbf{Z}_G)` (SDCN).
            :obj:`None` uses the model's published default.
        init (str, optional): VGDCN's initial partition, :obj:`"spectral"`
            (of the kNN graph, the default) or :obj:`"gmm"` (the thesis).
        gcn_init (str, optional): VGDCN's GCN start, :obj:`"encoder"` (a
            copy of the pretrained encoder, the default) or :obj:`"random"`
            (the thesis).
        target (str, optional): VGDCN's self-training target, from
            :obj:`"gcn"` (:math:`\mathbf{Z}_G`, the default) or
            :obj:`"latent"` (Student-t of the latent means, the thesis).
        posterior (str, optional): VGDCN's :math:`q(c \mid \mathbf{x})` in
            the ELBO, :obj:`"graph"` (:math:`\mathbf{Z}_G`, the default) or
            :obj:`"gmm"` (VaDE's, the thesis).
        warmup_steps (int): VGDCN's GCN warm-up steps on the initial
            partition.
        pretrain_epochs (int, optional): Reconstruction pretraining epochs.
            :obj:`None`: 50 epochs, or more on small data sets so that
            pretraining takes at least :obj:`MIN_PRETRAIN_STEPS` mini-batch
            steps (USPS: 50 epochs; the 598 Flavia leaves: 600). With 50
            epochs of 3 steps, DEC on the leaves collapsed to one cluster.
        pretrain_lr (float): Pretraining learning rate.
        epochs (int, optional): Joint training epochs (:attr:`n_iter_`).
            :obj:`None`: 200 for SDCN (as published), 50 for the others.
        lr (float): Joint learning rate, decayed by :obj:`lr_decay` every
            :obj:`decay_every` epochs.
        lr_decay (float, optional): :obj:`None`: 0.9 (the thesis's 10% every
            10 epochs), no decay for SDCN (as published).
        batch_size (int): Mini-batch size of pretraining and of the
            graph-free models.
        update_interval (int): Epochs between target refreshes.
        batch_size_graph (int, optional): Train the graph model (VGDCN) in
            mini-batches of this many seed nodes with their sampled
            subgraphs instead of full batch (see
            :mod:`vgdcn_pyg.training.minibatch` and ``docs/scaling.rst``),
            for graphs whose full-batch step does not fit in memory. Under
            :obj:`torchrun` the processes then share the mini-batches
            (DistributedDataParallel). :obj:`None`: full batch.
        num_neighbors (Sequence[int]): Neighbours sampled per hop around
            the seeds in mini-batch training, :obj:`-1` for all.
            (default: :obj:`(-1,)`, each seed's whole neighbourhood)
        minibatch_update (str): In mini-batch training, :obj:`"epoch"`:
            one Adam step per epoch from the gradients accumulated over its
            batches, which follows the full-batch training (default);
            :obj:`"batch"`: a step after every batch (see
            :mod:`vgdcn_pyg.training.minibatch`).
        device (str): :obj:`"cpu"`, :obj:`"cuda"` or :obj:`"auto"`.
        precision (str): :obj:`"fp32"`, or :obj:`"bf16"` for mixed-precision
            training (matrix products in bfloat16; several times faster on
            CPUs with AMX / AVX-512 BF16 and on recent GPUs). Inference and
            initialisation always run in float32.
        random_state (int, optional): Seed; the same seed on the same
            machine gives the same labels.
        verbose (bool): Show progress bars.
    """
    def __init__(
        self,
        n_clusters: int = 10,
        model: str = 'vgdcn',
        hidden_channels: Sequence[int] = (500, 500, 2000),
        latent_channels: int = 10,
        likelihood: str = 'auto',
        n_neighbors: Optional[int] = None,
        graph_space: Optional[str] = None,
        graph_backend: str = 'auto',
        eps: float = 0.5,
        gcn_weight: Optional[float] = None,
        init: Optional[str] = None,
        gcn_init: Optional[str] = None,
        target: Optional[str] = None,
        posterior: Optional[str] = None,
        warmup_steps: int = 30,
        pretrain_epochs: Optional[int] = None,
        pretrain_lr: float = 1e-3,
        epochs: Optional[int] = None,
        lr: float = 1e-3,
        lr_decay: Optional[float] = None,
        decay_every: int = 10,
        batch_size: int = 256,
        update_interval: int = 1,
        batch_size_graph: Optional[int] = None,
        num_neighbors: Sequence[int] = (-1, ),
        minibatch_update: str = 'epoch',
        device: str = 'auto',
        precision: str = 'fp32',
        random_state: Optional[int] = 0,
        verbose: bool = True,
    ):
        self.n_clusters = n_clusters
        self.model = model
        self.hidden_channels = hidden_channels
        self.latent_channels = latent_channels
        self.likelihood = likelihood
        self.n_neighbors = n_neighbors
        self.graph_space = graph_space
        self.graph_backend = graph_backend
        self.eps = eps
        self.gcn_weight = gcn_weight
        self.init = init
        self.gcn_init = gcn_init
        self.target = target
        self.posterior = posterior
        self.warmup_steps = warmup_steps
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_lr = pretrain_lr
        self.epochs = epochs
        self.lr = lr
        self.lr_decay = lr_decay
        self.decay_every = decay_every
        self.batch_size = batch_size
        self.update_interval = update_interval
        self.batch_size_graph = batch_size_graph
        self.num_neighbors = num_neighbors
        self.minibatch_update = minibatch_update
        self.device = device
        self.precision = precision
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ build
    def _graph_settings(self):
        r"""``(n_neighbors, graph_space)`` with the model's defaults."""
        vgdcn = self.model == 'vgdcn'
        k = self.n_neighbors if self.n_neighbors is not None else \
            (10 if vgdcn else 3)
        space = self.graph_space if self.graph_space is not None else \
            ('latent' if vgdcn else 'input')
        return k, space

    def _pretrain_epochs(self, n_samples: int) -> int:
        if self.pretrain_epochs is not None:
            return self.pretrain_epochs
        steps_per_epoch = math.ceil(n_samples / self.batch_size)
        return max(50, math.ceil(MIN_PRETRAIN_STEPS / steps_per_epoch))

    def _schedule(self):
        r"""``(epochs, lr_decay)`` with the model's defaults."""
        sdcn = self.model == 'sdcn'
        epochs = self.epochs if self.epochs is not None else \
            (200 if sdcn else 50)
        decay = self.lr_decay if self.lr_decay is not None else \
            (1.0 if sdcn else 0.9)
        return epochs, decay

    def _check_params(self, n_samples: int):
        if self.model not in MODELS:
            raise ModelError(f'unknown model {self.model!r}; choose one of '
                             f'{", ".join(MODELS)}')
        if not isinstance(self.n_clusters, (int, np.integer)) or \
                self.n_clusters < 2:
            raise ModelError(f'n_clusters must be an integer >= 2, got '
                             f'{self.n_clusters!r}')
        if n_samples <= self.n_clusters:
            samples = '1 sample is' if n_samples == 1 else \
                f'{n_samples} samples are'
            raise DataError(f'{samples} too few for {self.n_clusters} '
                            f'clusters (need more samples than clusters)')
        k, space = self._graph_settings()
        if MODELS[self.model].requires_graph and not 1 <= k < n_samples:
            raise DataError(f'n_neighbors={k} must be in [1, {n_samples}) '
                            f'for {n_samples} samples')
        if not 0.0 <= self.eps <= 1.0:
            raise ModelError(f'eps must be in [0, 1], got {self.eps}')
        if space not in ('input', 'latent'):
            raise ModelError(f"graph_space must be 'input' or 'latent', got "
                             f'{space!r}')
        if self.precision not in ('fp32', 'bf16'):
            raise ModelError(f"precision must be 'fp32' or 'bf16', got "
                             f'{self.precision!r}')
        for name, choices in (('init', ('spectral', 'gmm')),
                              ('gcn_init', ('encoder', 'random')),
                              ('target', ('gcn', 'latent')),
                              ('posterior', ('graph', 'gmm'))):
            value = getattr(self, name)
            if value is not None and value not in choices:
                raise ModelError(f'{name} must be one of '
                                 f'{", ".join(map(repr, choices))}, got '
                                 f'{value!r}')
        if self.batch_size_graph is not None:
            if isinstance(self.batch_size_graph, bool) or not isinstance(
                    self.batch_size_graph, (int, np.integer)) or \
                    self.batch_size_graph < 1:
                raise ModelError(f'batch_size_graph must be a positive '
                                 f'integer or None, got '
                                 f'{self.batch_size_graph!r}')
            if not supports_minibatch(MODELS[self.model]):
                raise ModelError(f'mini-batch graph training '
                                 f'(batch_size_graph) supports the vgdcn '
                                 f'model only, not {self.model!r}')
            try:
                check_num_neighbors(self.num_neighbors)
            except GraphError as e:
                raise ModelError(str(e)) from None
            if self.minibatch_update not in ('epoch', 'batch'):
                raise ModelError(f"minibatch_update must be 'epoch' or "
                                 f"'batch', got {self.minibatch_update!r}")
        for name, value in (
                ('epochs', self._schedule()[0]),
                ('pretrain_epochs', self._pretrain_epochs(n_samples))):
            if value < 0:
                raise ModelError(f'{name} must be >= 0')

    def _likelihood(self, x: np.ndarray) -> str:
        if self.likelihood != 'auto':
            return self.likelihood
        return 'bernoulli' if x.min() >= 0.0 and x.max() <= 1.0 else \
            'gaussian'

    def _build(self, n_features: int, likelihood: str) -> DeepClusteringModel:
        ae = DeepAutoEncoder(n_features, self.hidden_channels,
                             self.latent_channels,
                             variational=self.model in _VARIATIONAL,
                             likelihood=likelihood)
        cls = MODELS[self.model]
        kwargs = {}
        if cls.requires_graph:
            kwargs['eps'] = self.eps
            if self.gcn_weight is not None:
                kwargs['gcn_weight'] = self.gcn_weight
        if self.model == 'vgdcn':
            for name in ('init', 'gcn_init', 'target', 'posterior'):
                if getattr(self, name) is not None:
                    kwargs[name] = getattr(self, name)
        return cls(ae, self.n_clusters, **kwargs)

    def _graph(self, x: torch.Tensor, z: torch.Tensor):
        k, space = self._graph_settings()
        data = knn_heat_kernel_graph(x if space == 'input' else z, k=k,
                                     backend=self.graph_backend)
        return data.edge_index, data.edge_weight, float(data.t)

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, *, pretrained: Optional[Dict] = None,
            checkpoint=None, checkpoint_every: Optional[int] = None,
            resume: bool = False):
        r"""Fits the model on :obj:`X` (shape :obj:`(n_samples,
        n_features)`).

        Args:
            X: The samples, or a :class:`~vgdcn_pyg.datasets.ClusteringData`
                (its labels then feed the history unless :obj:`y` is given).
            y: Labels, only used to record metrics per epoch in
                :attr:`history_`.
            pretrained (dict, optional): The :attr:`pretrained_state_` of an
                earlier fit on the same data and architecture; skips
                pretraining, so that several models can be compared from one
                pretrained auto-encoder.
            checkpoint (str or PathLike, optional): Write a checkpoint to
                this file (atomically) every :obj:`checkpoint_every`
                pretraining epochs and every :obj:`checkpoint_every` joint
                epochs. It is deleted when the fit succeeds and kept when it
                fails or is interrupted.
            checkpoint_every (int, optional): :obj:`None`: 1, or when
                resuming the value the checkpoint was written with.
            resume (bool): Continue from :obj:`checkpoint` instead of
                starting over. The checkpoint must come from a fit with the
                same parameters (but :obj:`verbose` and :obj:`device`) and
                the same :obj:`X`, :obj:`y` and :obj:`pretrained`; the result
                is then bit-identical to an uninterrupted fit on the same
                machine and device.

        Raises:
            DataError: On malformed :obj:`X` or :obj:`y`.
            ModelError: On bad parameters, or a missing, unreadable or
                foreign checkpoint when resuming.
            FloatingPointError: If a loss becomes NaN/inf.
        """
        if isinstance(X, ClusteringData):
            X, y = X.x, X.y if y is None else y
        x_np = check_samples(X)
        n, d = x_np.shape
        self._check_params(n)
        if y is not None:
            y = np.asarray(y)
            if y.shape != (n, ):
                raise DataError(f'y has shape {y.shape}, expected ({n},)')
        if resume and checkpoint is None:
            raise ModelError('resume=True needs the checkpoint file to '
                             'resume from')
        if checkpoint_every is not None and (
                not isinstance(checkpoint_every, (int, np.integer)) or
                checkpoint_every < 1):
            raise ModelError(f'checkpoint_every must be an integer >= 1, '
                             f'got {checkpoint_every!r}')
        device = resolve_device(self.device)
        minibatch = self.batch_size_graph is not None
        if minibatch and checkpoint is not None:
            raise ModelError('checkpoints are not supported with mini-batch '
                             'graph training (batch_size_graph) yet')
        parallel = False
        if minibatch and distributed.world_size() > 1:
            # Under torchrun: one process per GPU, or Gloo on CPU.
            if device.type == 'cuda':
                device = torch.device('cuda', distributed.local_rank())
            parallel = distributed.init_process_group(device)
        lead = not parallel or distributed.rank() == 0
        saved = None
        if checkpoint is not None:
            fit_print = fingerprint(self.get_params(), x_np, y, pretrained)
            if resume:
                saved = load_checkpoint(checkpoint, fit_print)
            every = checkpoint_every or \
                (saved['checkpoint_every'] if saved else 1)
        for name in ('model_', 'labels_', 'proba_', 'graph_t_'):
            self.__dict__.pop(name, None)  # no stale state from an old fit
        seed = 0 if self.random_state is None else int(self.random_state)
        seed_everything(seed)
        generator = torch.Generator().manual_seed(seed)

        self.likelihood_ = self._likelihood(x_np)
        x = torch.from_numpy(x_np).to(device)
        net = edge_index = edge_weight = None

        def save(phase: str, epoch: int, optimizer, scheduler, **extra):
            if checkpoint is None or (epoch + 1) % every:
                return
            state = dict(
                phase=phase, epoch=epoch + 1, checkpoint_every=every,
                model=net.state_dict(), training=net.training_state(),
                optimizer=optimizer.state_dict(),
                scheduler=None if scheduler is None else
                scheduler.state_dict(),
                generator=generator.get_state(), **extra)
            save_checkpoint(checkpoint, state, fit_print)

        if lead:
            net = self._build(d, self.likelihood_).to(device)
            if saved is not None:
                net.load_state_dict(saved['model'])
                net.load_training_state(saved['training'])
                generator.set_state(saved['generator'])
                set_rng_state(saved['rng'])
        if lead and saved is not None and saved['phase'] == 'joint':
            self._restore_initialisation(saved, device)
            edge_index, edge_weight = self.edge_index_, self.edge_weight_
        elif lead:
            if pretrained is None:
                pretrained_epochs = [] if saved is None else \
                    saved['pretrain_history']
                self.pretrain_history_ = pretrained_epochs + pretrain(
                    net, x, self._pretrain_epochs(n), self.batch_size,
                    self.pretrain_lr, generator, self.verbose,
                    precision=self.precision,
                    start_epoch=len(pretrained_epochs),
                    optimizer_state=None if saved is None else
                    saved['optimizer'],
                    after_epoch=lambda e, h, opt, _: save(
                        'pretrain', e, opt, None,
                        pretrain_history=pretrained_epochs + h))
            else:
                self._load_pretrained(net, pretrained)
                self.pretrain_history_ = []
            self.pretrained_state_ = {
                k: v.detach().cpu().clone()
                for k, v in net.autoencoder.state_dict().items()
                if not k.startswith('logvar.')}
            z = self._embed(net, x) if minibatch else net.embed(x)
            # One bar for the graph and the initial partition: both take a
            # while on large data and neither has steps of its own to show.
            stages = ['kNN graph'] if net.requires_graph else []
            bar = tqdm(total=len(stages) + 1, desc=(stages + ['init'])[0],
                       disable=not self.verbose, leave=False)
            with bar:
                if net.requires_graph:
                    edge_index, edge_weight, self.graph_t_ = self._graph(x, z)
                    bar.update()
                    bar.set_description('init')
                self.init_labels_ = net.init_clusters(
                    z.cpu().double().numpy(), seed, edge_index, edge_weight)
                bar.update()
        if parallel:
            # The other processes take rank 0's initialised model and graph
            # (sent through the CPU), so that all start alike.
            broadcast = None
            if lead:
                broadcast = (net.cpu(), edge_index.cpu(), edge_weight.cpu(),
                             self.graph_t_, self.init_labels_,
                             self.pretrain_history_, self.pretrained_state_)
            state = distributed.broadcast_object(broadcast)
            (net, edge_index, edge_weight, self.graph_t_, self.init_labels_,
             self.pretrain_history_, self.pretrained_state_) = state
            net, edge_index, edge_weight = (net.to(device),
                                            edge_index.to(device),
                                            edge_weight.to(device))
        self.edge_index_, self.edge_weight_ = edge_index, edge_weight
        self.model_ = net
        self._x_train = x

        def record(epoch: int) -> Dict[str, float]:
            if y is None:
                return {}
            from .evaluation import evaluate
            labels = self._predict_train()
            scores = evaluate(y, labels)
            # Label-free, and the first sign of a collapsing clustering.
            scores['clusters'] = int(np.unique(labels).size)
            return scores

        epochs, lr_decay = self._schedule()
        trained_epochs = [] if saved is None else saved.get('history', [])
        self.history_ = trained_epochs
        if minibatch and net.has_joint_phase and epochs > 0:
            self.history_ = train_minibatch(
                net, x, edge_index, edge_weight,
                num_neighbors=self.num_neighbors,
                batch_size=int(self.batch_size_graph), epochs=epochs,
                lr=self.lr, lr_decay=lr_decay,
                decay_every=self.decay_every,
                update_interval=self.update_interval,
                warmup_steps=self.warmup_steps, seed=seed,
                progress=self.verbose and lead, on_epoch_end=record,
                update=self.minibatch_update)
        elif net.has_joint_phase and epochs > 0:
            optimizer = None
            if trained_epochs:
                optimizer = torch.optim.Adam(net.parameters(), lr=self.lr)
                optimizer.load_state_dict(saved['optimizer'])
            initialisation = dict(
                pretrain_history=self.pretrain_history_,
                pretrained_state=self.pretrained_state_,
                init_labels=torch.as_tensor(self.init_labels_),
                edge_index=edge_index, edge_weight=edge_weight,
                graph_t=getattr(self, 'graph_t_', None))
            self.history_ = trained_epochs + train_joint(
                net, x, edge_index, edge_weight, epochs=epochs,
                lr=self.lr, lr_decay=lr_decay,
                decay_every=self.decay_every,
                update_interval=self.update_interval,
                batch_size=self.batch_size, generator=generator,
                progress=self.verbose, on_epoch_end=record,
                warmup_steps=self.warmup_steps, precision=self.precision,
                start_epoch=len(trained_epochs), optimizer=optimizer,
                scheduler_state=saved['scheduler'] if trained_epochs
                else None,
                after_epoch=lambda e, h, opt, sched: save(
                    'joint', e, opt, sched, history=trained_epochs + h,
                    **initialisation))
        self.n_iter_ = len(self.history_)
        self._finish()
        if checkpoint is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(checkpoint)
        return self

    def _restore_initialisation(self, saved: Dict, device: torch.device):
        r"""What pretraining and initialisation computed, from a joint-phase
        checkpoint."""
        self.pretrain_history_ = saved['pretrain_history']
        self.pretrained_state_ = saved['pretrained_state']
        self.init_labels_ = saved['init_labels'].numpy()
        self.edge_index_ = self.edge_weight_ = None
        if saved['edge_index'] is not None:
            self.edge_index_ = saved['edge_index'].to(device)
        if saved['edge_weight'] is not None:
            self.edge_weight_ = saved['edge_weight'].to(device)
        if saved['graph_t'] is not None:
            self.graph_t_ = saved['graph_t']

    @staticmethod
    def _load_pretrained(net: DeepClusteringModel, state: Dict):
        try:
            missing, unexpected = net.autoencoder.load_state_dict(
                state, strict=False)
        except RuntimeError:
            raise ModelError('the pretrained state does not match this '
                             'auto-encoder (other layer sizes)') from None
        if unexpected or any(not k.startswith('logvar.') for k in missing):
            raise ModelError('the pretrained state does not match this '
                             'auto-encoder')

    @torch.no_grad()
    def _proba(self, x: torch.Tensor, edge_index, edge_weight) -> torch.Tensor:
        net = self.model_
        net.eval()
        if net.requires_graph and self.batch_size_graph is not None:
            # Layer by layer in row batches: the graph may be too large for
            # one full-batch forward pass.
            adj_t = FusedGCN.normalized_adjacency(edge_index, edge_weight,
                                                  x.size(0))
            return net.predict_proba_batched(
                x, adj_t, DEFAULT_INFERENCE_BATCH_SIZE)
        if net.requires_graph:
            return net.predict_proba(x, edge_index, edge_weight)
        return net.predict_proba(x)

    @staticmethod
    @torch.no_grad()
    def _embed(net: DeepClusteringModel, x: torch.Tensor) -> torch.Tensor:
        r"""The latent means of :obj:`x`, in row batches."""
        return torch.cat([net.embed(part) for part in
                          x.split(DEFAULT_INFERENCE_BATCH_SIZE)])

    def _predict_train(self) -> np.ndarray:
        proba = self._proba(self._x_train, self.edge_index_, self.edge_weight_)
        return proba.argmax(-1).cpu().numpy()

    def _finish(self):
        proba = self._proba(self._x_train, self.edge_index_,
                            self.edge_weight_)
        if not torch.isfinite(proba).all():
            raise FloatingPointError('the fitted model produced NaN/inf '
                                     'assignments')
        self.proba_ = proba.cpu().numpy()
        self.labels_ = self.proba_.argmax(-1)
        embed = self._embed if self.batch_size_graph is not None else \
            type(self.model_).embed
        self.embedding_ = embed(self.model_, self._x_train).cpu().numpy()
        self.cluster_centers_ = self._latent_centers()
        self.n_features_in_ = self._x_train.size(1)
        used = np.unique(self.labels_).size
        if used < self.n_clusters:
            warnings.warn(f'only {used} of {self.n_clusters} clusters are '
                          f'used (the clustering collapsed)', RuntimeWarning)

    def _latent_centers(self) -> np.ndarray:
        net = self.model_
        if hasattr(net, 'prior'):
            return net.prior.mu_c.detach().cpu().numpy()
        return net.assignment.cluster_centers.detach().cpu().numpy()

    # ---------------------------------------------------------------- predict
    def _check_fitted(self):
        if not hasattr(self, 'model_'):
            raise ModelError('this estimator is not fitted yet: call fit() '
                             'or load() first')

    def predict_proba(self, X) -> np.ndarray:
        r"""Soft assignments of new samples. Graph models connect each new
        sample to its :obj:`n_neighbors` nearest training samples (in the
        space the training graph was built in) and run the GCN over the
        training graph plus these edges."""
        self._check_fitted()
        x_new = check_samples(X)
        if x_new.shape[1] != self.n_features_in_:
            raise DataError(f'X has {x_new.shape[1]} features, the model was '
                            f'fitted with {self.n_features_in_}')
        x_new = torch.from_numpy(x_new).to(self._x_train.device)
        net = self.model_
        if not net.requires_graph:
            return self._proba(x_new, None, None).cpu().numpy()
        n = self._x_train.size(0)
        k, space = self._graph_settings()
        if space == 'input':
            ref, qry, t = self._x_train, x_new, self.graph_t_
        else:
            # The embedding moved during training: search and weigh in the
            # current one, with its own bandwidth (same rule as the graph's).
            ref = torch.from_numpy(self.embedding_).to(x_new.device)
            qry = net.embed(x_new)
            t = default_bandwidth(knn_search(ref, k,
                                             backend=self.graph_backend)[1])
        index, sqdist = knn_query(qry, ref, k)
        new_ids = torch.arange(n, n + x_new.size(0), device=index.device)
        src = index.reshape(-1)
        dst = new_ids.repeat_interleave(index.size(1))
        weight = heat_kernel_weights(sqdist.reshape(-1), t)
        edge_index = torch.cat(
            [self.edge_index_, torch.stack([src, dst]),
             torch.stack([dst, src])], dim=1)
        edge_weight = torch.cat([self.edge_weight_, weight, weight])
        x_all = torch.cat([self._x_train, x_new])
        return self._proba(x_all, edge_index, edge_weight)[n:].cpu().numpy()

    def predict(self, X) -> np.ndarray:
        r"""Cluster of each new sample."""
        return self.predict_proba(X).argmax(-1)

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X, y).labels_

    # ------------------------------------------------------------- generation
    def sample(self, n_per_cluster: int = 8, cluster: Optional[int] = None,
               random_state: Optional[int] = 0) -> np.ndarray:
        r"""Generates new samples from the Gaussian-mixture prior (VaDE and
        VGDCN): :math:`\mathbf{z} \sim \mathcal{N}(\boldsymbol\mu_c,
        \boldsymbol\sigma_c^2)`, decoded. Returns :obj:`(K', n, D)` for all
        clusters or :obj:`(n, D)` for one."""
        self._check_fitted()
        if not hasattr(self.model_, 'sample'):
            raise ModelError(f'model {self.model!r} is not generative; use '
                             f'vgdcn or vade')
        generator = torch.Generator(device=self._x_train.device)
        generator.manual_seed(0 if random_state is None else random_state)
        clusters = range(self.n_clusters) if cluster is None else [cluster]
        self.model_.eval()
        out = [self.model_.sample(n_per_cluster, c, generator).cpu().numpy()
               for c in clusters]
        return out[0] if cluster is not None else np.stack(out)

    # -------------------------------------------------------------- save/load
    def save(self, path, metadata: Optional[Dict] = None) -> None:
        r"""Writes the fitted estimator to :obj:`path` atomically.
        :obj:`metadata` (plain values: numbers, strings, lists, dicts) is
        stored with it and comes back as :attr:`metadata_` from :meth:`load`
        (the command line keeps the image shape and the feature extraction
        there)."""
        self._check_fitted()
        state = {
            'format': _MODEL_FILE_FORMAT,
            'format_version': _MODEL_FILE_VERSION,
            'package_version': __version__,
            'params': self.get_params(),
            'likelihood': self.likelihood_,
            'n_features': self.n_features_in_,
            'state_dict': {k: v.cpu() for k, v in
                           self.model_.state_dict().items()},
            'x_train': self._x_train.cpu(),
            'edge_index': None if self.edge_index_ is None else
            self.edge_index_.cpu(),
            'edge_weight': None if self.edge_weight_ is None else
            self.edge_weight_.cpu(),
            'graph_t': getattr(self, 'graph_t_', None),
            'n_iter': self.n_iter_,
            'history': self.history_,
            'metadata': dict(metadata or {}),
        }
        save_torch(state, path)

    @classmethod
    def load(cls, path, device: Optional[str] = None) -> 'DeepClustering':
        r"""Reads a model written by :meth:`save`."""
        try:
            # weights_only: a model file never runs code when it is read.
            state = torch.load(path, map_location='cpu', weights_only=True)
        except FileNotFoundError:
            raise ModelError(f'no such model file: {path}') from None
        except Exception as e:
            raise ModelError(f'cannot read model file {path} (truncated or '
                             f'not a vgdcn-pyg model): '
                             f'{type(e).__name__}') from None
        if not isinstance(state, dict) or \
                state.get('format') != _MODEL_FILE_FORMAT:
            raise ModelError(f'{path} is not a vgdcn-pyg model file')
        if state.get('format_version') != _MODEL_FILE_VERSION:
            raise ModelError(
                f'{path} has model format {state.get("format_version")} '
                f'(written by vgdcn-pyg {state.get("package_version")}); '
                f'this version reads format {_MODEL_FILE_VERSION}')
        params = dict(state['params'])
        if device is not None:
            params['device'] = device
        try:
            est = cls(**params)
        except TypeError as e:
            raise ModelError(f'{path} was written with parameters this '
                             f'version does not know: {e}') from None
        dev = resolve_device(est.device)
        net = est._build(state['n_features'], state['likelihood'])
        try:
            net.load_state_dict(state['state_dict'])
        except RuntimeError as e:
            raise ModelError(f'{path} does not match this version\'s model '
                             f'layout: {str(e).splitlines()[0]}') from None
        est.model_ = net.to(dev)
        est.likelihood_ = state['likelihood']
        est._x_train = state['x_train'].to(dev)
        est.edge_index_ = None if state['edge_index'] is None else \
            state['edge_index'].to(dev)
        est.edge_weight_ = None if state['edge_weight'] is None else \
            state['edge_weight'].to(dev)
        if state['graph_t'] is not None:
            est.graph_t_ = state['graph_t']
        est.history_ = state['history']
        est.n_iter_ = state['n_iter']
        est.metadata_ = state.get('metadata') or {}
        est._finish()
        return est


def _estimator(name: str, model: str, doc: str):
    r"""A :class:`DeepClustering` whose :obj:`model` defaults to
    :obj:`model`. Its ``__init__`` keeps the full signature, so scikit-learn's
    :meth:`get_params`, :func:`~sklearn.base.clone` and ``repr`` work."""
    signature = inspect.signature(DeepClustering.__init__)
    signature = signature.replace(parameters=[
        p.replace(default=model) if p.name == 'model' else p
        for p in signature.parameters.values()
    ])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop('self')
        DeepClustering.__init__(self, **params)

    __init__.__signature__ = signature
    return type(name, (DeepClustering, ), {'__init__': __init__,
                                           '__doc__': doc,
                                           '__module__': __name__})


VGDCN = _estimator('VGDCN', 'vgdcn', r"""VGDCN (VaDE + fused GCN branch), see
:class:`DeepClustering` for the parameters and
:class:`~vgdcn_pyg.models.VGDCNModel` for the method.""")
VaDE = _estimator('VaDE', 'vade', r"""VaDE (VAE + GMM prior), see
:class:`DeepClustering` and :class:`~vgdcn_pyg.models.VaDEModel`.""")
VAEKMeans = _estimator('VAEKMeans', 'vae_kmeans', r"""A plain VAE, then
k-means; see :class:`DeepClustering`.""")
AEKMeans = _estimator('AEKMeans', 'ae_kmeans', r"""An auto-encoder, then
k-means; see :class:`DeepClustering`.""")
DEC = _estimator('DEC', 'dec', r"""Deep Embedded Clustering, see
:class:`DeepClustering` and :class:`~vgdcn_pyg.models.DECModel`.""")
IDEC = _estimator('IDEC', 'idec', r"""Improved DEC, see
:class:`DeepClustering` and :class:`~vgdcn_pyg.models.IDECModel`.""")
SDCN = _estimator('SDCN', 'sdcn', r"""Structural Deep Clustering Network, see
:class:`DeepClustering` and :class:`~vgdcn_pyg.models.SDCNModel`.""")
