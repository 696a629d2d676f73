r"""The phases of :meth:`DeepClustering.fit <vgdcn_pyg.cluster.DeepClustering.fit>`,
one function each, so that benchmarks and experiments can run, time or
replace a phase without copying private code:

.. code-block:: python

    run = validate(est, x)       # checks, seeds, the model (or a checkpoint)
    pretrain(est, run)           # reconstruction pretraining
    build_graph(est, run)        # embedding and kNN heat-kernel graph
    initialise(est, run)         # initial partition and clustering layers
    train(est, run)              # the joint phase
    finish(est, run)             # labels_, proba_, embedding_, ...

Each phase reads the estimator's hyper-parameters and writes its fitted
attributes (the names ending in ``_``); what flows between phases (the
samples, the model, the embedding, the random generator, the checkpoint) is
the :class:`FitRun`. What differs between models is declared by the model
classes (:data:`vgdcn_pyg.models.MODELS`), never tested by name here.
"""
import warnings
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from .datasets import ClusteringData
from .evaluation import evaluate
from .exceptions import ModelError
from .graph import edge_error_rate, knn_heat_kernel_graph
from .models import DeepClusteringModel
from .models.base import embed_rows
from .training import distributed
from .training import train as train_loop
from .training.batches import RowBatches, SubgraphBatches, WholeGraph
from .training.checkpoint import Checkpointer, fingerprint, set_rng_state
from .training.trainer import make_adam, resolve_precision
from .training.trainer import pretrain as pretrain_loop
from .training.trainer import seed_everything
from .validation import (check_fit_args, check_params, check_samples,
                         resolve_device)


@dataclass
class FitRun:
    r"""What the phases of one fit hand on to each other.

    Args:
        x (Tensor): The samples, on the fit's device.
        y (numpy.ndarray, optional): Labels, which only score the history.
        seed (int): The fit's seed.
        generator (torch.Generator): Randomness of the pretraining and
            row mini-batches.
        checkpointer (Checkpointer, optional): Writes checkpoints and holds
            the one the fit resumes from.
        pretrained (dict, optional): A pretrained auto-encoder state that
            replaces pretraining.
        parallel (bool): Whether several processes (:obj:`torchrun`) fit
            together; only the lead process pretrains and initialises.
        model (DeepClusteringModel, optional): The model being fitted.
        z (Tensor, optional): The pretrained embedding.
        graphs (dict, optional): With :obj:`graph_space="auto"`, the kNN
            graph of each space until :func:`initialise` keeps one.
    """
    x: Tensor
    y: Optional[np.ndarray]
    seed: int
    generator: torch.Generator
    checkpointer: Optional[Checkpointer] = None
    pretrained: Optional[Dict] = None
    parallel: bool = False
    model: Optional[DeepClusteringModel] = None
    graphs: Optional[Dict[str, Data]] = None
    z: Optional[Tensor] = None

    @property
    def lead(self) -> bool:
        return not self.parallel or distributed.rank() == 0

    @property
    def saved(self) -> Optional[Dict]:
        r"""The checkpoint this fit resumes from, if any."""
        return None if self.checkpointer is None else self.checkpointer.saved

    @property
    def resumed_phase(self) -> Optional[str]:
        return None if self.saved is None else self.saved['phase']


def validate(est, X, y=None, *, pretrained: Optional[Dict] = None,
             checkpoint=None, checkpoint_every: Optional[int] = None,
             resume: bool = False) -> FitRun:
    r"""Checks the data and :obj:`est`'s parameters, seeds every random
    number generator and returns the :class:`FitRun` of the other phases,
    with the model built (and restored when resuming)."""
    if isinstance(X, ClusteringData):
        X, y = X.x, X.y if y is None else y
    x_np = check_samples(X)
    check_params(est, est.model_class, x_np.shape[0])
    est.n_neighbors_ = est.graph_settings(x_np.shape[0])[0]
    y = check_fit_args(x_np.shape[0], y, checkpoint, checkpoint_every, resume)
    device = resolve_device(est.device)
    parallel = False
    if est.batch_size_graph is not None and distributed.world_size() > 1:
        if checkpoint is not None:
            raise ModelError('checkpoints are not supported under torchrun '
                             '(several processes)')
        # Under torchrun: one process per GPU, or Gloo on CPU.
        if device.type == 'cuda':
            device = torch.device('cuda', distributed.local_rank())
        parallel = distributed.init_process_group(device)
    saver = None
    if checkpoint is not None:
        # The model's options with their defaults resolved: a default that
        # changed since the checkpoint was written is a change of settings.
        params = dict(est.get_params(), model=est.model,
                      **est.model_options())
        saver = Checkpointer(checkpoint, fingerprint(params, x_np, y,
                                                     pretrained),
                             checkpoint_every, resume)
    for name in ('model_', 'labels_', 'proba_', 'graph_t_', 'graph_space_',
                 'graph_cut_'):
        est.__dict__.pop(name, None)  # no stale state from an old fit
    seed = 0 if est.random_state is None else int(est.random_state)
    seed_everything(seed)
    est.precision_ = resolve_precision(est.precision, device)
    est.likelihood_ = est.likelihood if est.likelihood != 'auto' else (
        'bernoulli' if x_np.min() >= 0.0 and x_np.max() <= 1.0 else
        'gaussian')
    run = FitRun(torch.from_numpy(x_np).to(device), y, seed,
                 torch.Generator().manual_seed(seed), saver, pretrained,
                 parallel)
    if run.lead:
        _start_model(est, run)
    return run


def _start_model(est, run: FitRun):
    run.model = est.build_model(run.x.size(1), est.likelihood_).to(
        run.x.device)
    saved = run.saved
    if saved is None:
        return
    run.model.load_state_dict(saved['model'])
    run.model.load_training_state(saved['training'])
    run.generator.set_state(saved['generator'])
    set_rng_state(saved['rng'])
    if saved['phase'] == 'joint':
        est.pretrain_history_ = saved['pretrain_history']
        est.pretrained_state_ = saved['pretrained_state']
        est.init_labels_ = saved['init_labels'].numpy()
        for name in ('edge_index', 'edge_weight'):
            value = saved[name]
            setattr(est, name + '_',
                    None if value is None else value.to(run.x.device))
        if saved['graph_t'] is not None:
            est.graph_t_ = saved['graph_t']
            est.graph_space_ = saved.get('graph_space') or \
                est._graph_space_before_auto()


def pretrain(est, run: FitRun):
    r"""Reconstruction pretraining of the auto-encoder, or loading
    :obj:`run.pretrained`; sets :attr:`pretrain_history_` and
    :attr:`pretrained_state_`."""
    if not run.lead:
        return
    net, saved = run.model, run.saved
    if run.pretrained is None:
        done = [] if saved is None else saved['pretrain_history']

        def save(epoch, history, optimizer, _):
            if run.checkpointer is not None:
                run.checkpointer.save('pretrain', epoch, net, optimizer, None,
                                      run.generator,
                                      pretrain_history=done + history)
        est.pretrain_history_ = done + pretrain_loop(
            net, run.x, est.pretrain_length(run.x.size(0)),
            est.pretrain_batch(run.x.size(0)),
            est.pretrain_lr, run.generator, est.verbose,
            precision=est.precision_, start_epoch=len(done),
            optimizer_state=None if saved is None else saved['optimizer'],
            after_epoch=save, tol=est.pretrain_tol, done=done, adam=est.adam)
    else:
        _load_pretrained(net, run.pretrained)
        est.pretrain_history_ = []
    est.pretrained_state_ = pretrained_state(net)


def pretrained_state(net: DeepClusteringModel) -> Dict:
    r"""A CPU copy of :obj:`net`'s auto-encoder state as a fit keeps it
    (:attr:`pretrained_state_`, the :obj:`pretrained` of a later fit): the
    log-variance head, which a plain auto-encoder lacks, left out."""
    return {k: v.detach().cpu().clone()
            for k, v in net.autoencoder.state_dict().items()
            if not k.startswith('logvar.')}


def _load_pretrained(net: DeepClusteringModel, state: Dict):
    try:
        missing, unexpected = net.autoencoder.load_state_dict(state,
                                                              strict=False)
    except RuntimeError:
        raise ModelError('the pretrained state does not match this '
                         'auto-encoder (other layer sizes)') from None
    if unexpected or any(not k.startswith('logvar.') for k in missing):
        raise ModelError('the pretrained state does not match this '
                         'auto-encoder')


def build_graph(est, run: FitRun):
    r"""The pretrained embedding (:obj:`run.z`) and, for graph models, the
    kNN heat-kernel graph (:attr:`edge_index_`, :attr:`edge_weight_`,
    :attr:`graph_t_`, :attr:`graph_space_`) on the input or on that
    embedding; with :obj:`graph_space="auto"` both, the embedding's in use
    until :func:`initialise` chooses."""
    if not run.lead:
        return
    run.z = embed_rows(run.model.autoencoder, run.x,
                       est._inference_batch_size())
    est.edge_index_ = est.edge_weight_ = None
    if not run.model.requires_graph:
        return
    n_neighbors, space = est.n_neighbors_, est.graph_settings()[1]
    # Latent first: on a tie of the choice below the embedding's is kept.
    spaces = ('latent', 'input') if space == 'auto' else (space, )
    graphs = {}
    with tqdm(total=len(spaces), desc='kNN graph', disable=not est.verbose,
              leave=False) as bar:
        for name in spaces:
            graphs[name] = knn_heat_kernel_graph(
                run.x if name == 'input' else run.z, n_neighbors=n_neighbors,
                backend=est.graph_backend)
            bar.update()
    run.graphs = graphs if len(graphs) > 1 else None
    _use_graph(est, spaces[0], graphs[spaces[0]])


def _use_graph(est, space: str, data: Data):
    est.edge_index_, est.edge_weight_ = data.edge_index, data.edge_weight
    est.graph_t_ = float(data.t)
    est.graph_space_ = space


def choose_graph(est, run: FitRun, labels: np.ndarray):
    r"""With :obj:`graph_space="auto"`, keeps the graph whose edges the
    initial partition :obj:`labels` cuts least
    (:func:`~vgdcn_pyg.graph.edge_error_rate`, the fraction of edges
    between clusters; :attr:`graph_cut_` holds it per space). The GCN
    smooths its output over the graph, so a graph that disagrees with the
    starting partition pulls the joint phase away from it: a partition
    that the input's neighbourhoods support is kept best on the input's
    graph, one found in the embedding on the embedding's
    (``benchmarks/results/ablation_graph_auto.md``). Label-free: only the
    model's own partition is used."""
    if run.graphs is None:
        return
    est.graph_cut_ = {name: edge_error_rate(data.edge_index, labels)
                      for name, data in run.graphs.items()}
    best = min(est.graph_cut_, key=est.graph_cut_.get)  # ties: the first
    _use_graph(est, best, run.graphs[best])
    run.graphs = None


def _input_graph(est, run: FitRun):
    # The input's kNN graph where build_graph made it (graph_space 'auto'
    # or 'input'), for models that also partition it.
    if run.graphs is not None and 'input' in run.graphs:
        return run.graphs['input'].edge_index, run.graphs['input'].edge_weight
    if getattr(est, 'graph_space_', None) == 'input':
        return est.edge_index_, est.edge_weight_
    return None


def initialise(est, run: FitRun):
    r"""The model's initial partition of the embedding
    (:attr:`init_labels_`) and its clustering parameters, then, with
    :obj:`graph_space="auto"`, the graph (:func:`choose_graph`); under
    :obj:`torchrun` the other processes then take the lead's model."""
    if run.lead:
        with tqdm(total=1, desc='init', disable=not est.verbose,
                  leave=False) as bar:
            est.init_labels_ = run.model.init_clusters(
                run.z.cpu().double().numpy(), run.seed, est.edge_index_,
                est.edge_weight_, x=run.x, input_graph=_input_graph(est, run))
            bar.update()
        choose_graph(est, run, est.init_labels_)
    if run.parallel:
        _share_initialisation(est, run)


def _share_initialisation(est, run: FitRun):
    # The other processes take rank 0's initialised model and graph (sent
    # through the CPU), so that all start alike.
    names = ('edge_index_', 'edge_weight_', 'graph_t_', 'graph_space_',
             'init_labels_',
             'pretrain_history_', 'pretrained_state_')
    sent = None
    if run.lead:
        sent = (run.model.cpu(), ) + tuple(
            _cpu(getattr(est, name)) for name in names)
    received = distributed.broadcast_object(sent)
    device = run.x.device
    run.model = received[0].to(device)
    for name, value in zip(names, received[1:]):
        setattr(est, name, value.to(device) if torch.is_tensor(value)
                else value)


def _cpu(value):
    return value.cpu() if torch.is_tensor(value) else value


def make_batches(est, run: FitRun) -> WholeGraph:
    r"""What the joint phase iterates over: sampled subgraphs
    (:obj:`batch_size_graph`), the whole graph (graph models) or row
    mini-batches."""
    if est.batch_size_graph is not None:
        return SubgraphBatches(run.x, est.edge_index_, est.edge_weight_,
                               est.num_neighbors, int(est.batch_size_graph),
                               run.seed, est._inference_batch_size())
    if run.model.requires_graph:
        return WholeGraph(run.x, est.edge_index_, est.edge_weight_)
    return RowBatches(run.x, est.batch_size, run.generator)


def train(est, run: FitRun):
    r"""The joint phase (:func:`vgdcn_pyg.training.train`); sets
    :attr:`model_` and :attr:`history_`."""
    net, saved = run.model, run.saved
    est.model_, est._x_train = net, run.x
    epochs, lr_decay = est.schedule()
    resumed = [] if saved is None else saved.get('history', [])
    est.history_ = resumed
    if not net.has_joint_phase or epochs == 0:
        return
    batches = make_batches(est, run)
    optimizer = None
    if resumed:
        optimizer = make_adam(net.parameters(), est.lr, est.adam,
                              est.warmup_length())
        optimizer.load_state_dict(saved['optimizer'])
        batches.load_state_dict(saved['batches'])
    initialisation = dict(
        pretrain_history=est.pretrain_history_,
        pretrained_state=est.pretrained_state_,
        init_labels=torch.as_tensor(est.init_labels_),
        edge_index=est.edge_index_, edge_weight=est.edge_weight_,
        graph_t=getattr(est, 'graph_t_', None),
        graph_space=getattr(est, 'graph_space_', None))

    def save(epoch, history, optimizer, scheduler):
        if run.checkpointer is not None:
            run.checkpointer.save(
                'joint', epoch, net, optimizer, scheduler, run.generator,
                history=resumed + history, batches=batches.state_dict(),
                **initialisation)
    est.history_ = resumed + train_loop(
        net, batches, epochs=epochs, lr=est.lr, lr_decay=lr_decay,
        decay_every=est.decay_every, update_interval=est.update_interval,
        accumulate=est.batch_size_graph is not None and
        est.minibatch_update == 'epoch', warmup_steps=est.warmup_steps,
        precision=est.precision_, progress=est.verbose and run.lead,
        on_epoch_end=lambda epoch: _scores(est, run.y), after_epoch=save,
        start_epoch=len(resumed), optimizer=optimizer,
        scheduler_state=saved['scheduler'] if resumed else None,
        tol=est.stopping_tol(), adam=est.adam, lr_warmup=est.warmup_length(),
        done=resumed)


def _scores(est, y) -> Dict[str, float]:
    if y is None:
        return {}
    labels = est._training_proba().argmax(-1).cpu().numpy()
    # Label-free, and the first sign of a collapsing clustering.
    return dict(evaluate(y, labels), clusters=int(np.unique(labels).size))


def finish(est, run: Optional[FitRun] = None):
    r"""The fitted attributes (:attr:`labels_`, :attr:`proba_`,
    :attr:`embedding_`, :attr:`cluster_centers_`, :attr:`n_iter_`) of the
    trained :attr:`model_`; deletes the checkpoint of :obj:`run`."""
    proba = est._training_proba()
    if not torch.isfinite(proba).all():
        raise FloatingPointError('the fitted model produced NaN/inf '
                                 'assignments')
    est.n_iter_ = len(est.history_)
    est.proba_ = proba.cpu().numpy()
    est.labels_ = est.proba_.argmax(-1)
    est.embedding_ = embed_rows(est.model_.autoencoder, est._x_train,
                                est._inference_batch_size()).cpu().numpy()
    est.cluster_centers_ = est.model_.cluster_centers().detach().cpu() \
        .numpy()
    est.n_features_in_ = est._x_train.size(1)
    used = np.unique(est.labels_).size
    if used < est.n_clusters:
        warnings.warn(f'only {used} of {est.n_clusters} clusters are used '
                      f'(the clustering collapsed)', RuntimeWarning)
    if run is not None and run.checkpointer is not None:
        run.checkpointer.remove()
