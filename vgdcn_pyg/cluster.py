r"""scikit-learn style estimators: one class per algorithm (:class:`VGDCN`,
:class:`DEC`, ...) and :class:`DeepClustering`, which fits any model of the
registry by name: ``VGDCN(n_clusters=10).fit_predict(load_usps().x)``."""
import inspect
from typing import Dict, Optional, Sequence, Tuple, Type

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClusterMixin

from .exceptions import DataError, ModelError
from .graph import knn_search
from .graph.heat_kernel import default_bandwidth
from .graph.attach import attach_queries
from .model_file import load_estimator, save_estimator
from .models import MODELS, DeepClusteringModel, get_model
from .nn import DeepAutoEncoder
from .phases import (build_graph, finish, initialise, pretrain, train,
                     validate)
from .training.batches import DEFAULT_INFERENCE_BATCH_SIZE
from .training.trainer import (MIN_PRETRAIN_STEPS, default_pretrain_batch_size,
                               default_pretrain_epochs)
from .validation import check_samples

class DeepClustering(ClusterMixin, BaseEstimator):
    r"""Deep clustering of samples (rows of :obj:`X`) with VGDCN or one of its
    baselines, in the style of :class:`sklearn.cluster.KMeans`.

    :meth:`fit` runs the phases of every model, each a public method that
    benchmarks can call on their own: :meth:`validate`, :meth:`pretrain`
    (mini-batch reconstruction of the auto-encoder), :meth:`build_graph`
    (the kNN heat-kernel graph of the graph models), :meth:`initialise`
    (k-means, GMM or spectral partition of the embedding), :meth:`train`
    (the model's joint objective, see :func:`vgdcn_pyg.training.train`) and
    :meth:`finish`. What differs between models is declared by the model
    classes (:data:`vgdcn_pyg.models.MODELS`). Labels passed to :meth:`fit`
    only add metrics to :attr:`history_`; nothing is chosen with them, and
    the result is the last epoch's.

    Args:
        n_clusters (int): Number of clusters :math:`K`. (default: :obj:`10`)
        model (str): A name in :data:`vgdcn_pyg.models.MODELS`
            (:obj:`"vgdcn"`, :obj:`"vade"`, :obj:`"dec"`, ...). The named
            estimators (:class:`VGDCN`, :class:`DEC`, ...) have no such
            parameter: each fits its own model.
        hidden_channels (Sequence[int]): Encoder widths.
            (default: :obj:`(500, 500, 2000)`)
        latent_channels (int): Latent dimension. (default: :obj:`10`)
        likelihood (str): :obj:`"bernoulli"`, :obj:`"gaussian"` or
            :obj:`"auto"` (Bernoulli when all values are in :math:`[0, 1]`).
        n_neighbors (int, optional): :math:`M`, neighbours per sample in the
            graph. :obj:`None`: the model's
            :attr:`~vgdcn_pyg.models.DeepClusteringModel.default_n_neighbors`,
            at most :math:`\lfloor N / 2K \rfloor` (:meth:`graph_settings`);
            the fitted :attr:`n_neighbors_` says which.
        graph_space (str, optional): Build the graph on the :obj:`"input"`
            features or on the pretrained :obj:`"latent"` means, or
            :obj:`"auto"`: build both and keep the one whose edges the
            initial partition cuts least (:attr:`graph_cut_`). :obj:`None`:
            the model's default (auto for VGDCN, input for SDCN). The
            space used is :attr:`graph_space_`.
        graph_backend (str): kNN back end (see
            :func:`vgdcn_pyg.graph.knn_search`). (default: :obj:`"auto"`)
        eps (float): Fusion weight :math:`\epsilon` of the GCN branch.
        gcn_weight (float): Weight :math:`\lambda` of the GCN's KL term
            (VGDCN) or of :math:`\mathrm{KL}(P\|\mathbf{Z}_G)` (SDCN).
            :obj:`None` uses the model's default (VGDCN 1000, see
            ``docs/method.rst``; SDCN's published 0.01).
        init (str, optional): VGDCN's initial partition, :obj:`"umap"` (N2D's:
            UMAP of the pretrained embedding, then a GMM; the default),
            :obj:`"spectral"` (of the kNN graph) or :obj:`"gmm"` (the
            thesis).
        init_restarts (int, optional): VGDCN's UMAP starts on the
            embedding with :obj:`init="umap"`; without input starts the one
            of highest latent silhouette is kept (label-free). :obj:`None`:
            the model's default (2).
        input_starts (int, optional): VGDCN's UMAP starts on the input
            features with :obj:`init="umap"`; with any, the initial
            partition is the consensus of these and the embedding's starts
            (label-free). :obj:`None`: the model's default (2).
        umap_epochs (int, optional): VGDCN's UMAP layout epochs per start
            with :obj:`init="umap"`. :obj:`None`: umap-learn's choice (500
            below 10,000 samples, 200 above).
        gmm_starts (int, optional): EM starts of the Gaussian mixture in
            UMAP's embedding (VGDCN's :obj:`init="umap"`, N2D), the one of
            highest likelihood kept (scikit-learn's :obj:`n_init`).
            :obj:`None`: the model's default (10 for VGDCN, 1 for N2D as
            published; ``benchmarks/results/ablation_gmm_starts.md``).
        input_spectral (bool, optional): VGDCN: also take the spectral
            partition of the input's kNN graph into the consensus start
            (needs :obj:`input_starts` and the input's graph,
            :obj:`graph_space` auto or input). :obj:`None`: the model's
            default (off; ``benchmarks/results/ablation_input_spectral.md``).
        graph_votes (int, optional): VGDCN: the votes, in the consensus
            start, of the spectral partition of the input's kNN graph
            reweighted by the UMAP starts' agreement on each edge (the
            model's graph where the input's is not built); :obj:`0` leaves
            it out. :obj:`None`: the model's default (2, as many as each
            UMAP view, up to 20,000 samples, none above;
            ``benchmarks/results/ablation_graph_votes.md``).
        gcn_init (str, optional): VGDCN's GCN start, :obj:`"encoder"` (a
            copy of the pretrained encoder, the default) or :obj:`"random"`
            (the thesis).
        target (str, optional): VGDCN's self-training target, from
            :obj:`"gcn"` (:math:`\mathbf{Z}_G`, the default) or
            :obj:`"latent"` (Student-t of the latent means, the thesis).
        posterior (str, optional): VGDCN's :math:`q(c \mid \mathbf{x})` in
            the ELBO, :obj:`"graph"` (:math:`\mathbf{Z}_G`, the default) or
            :obj:`"gmm"` (VaDE's, the thesis).
        warmup_steps (int): VGDCN's GCN warm-up: steps that fit the
            branch alone to the initial partition, after its last layer was
            fitted alone (``docs/method.rst`` gives the ablation).
        pretrain_epochs (int, optional): Most reconstruction pretraining
            epochs. :obj:`None`: set by the data's size and
            :obj:`pretrain_steps`
            (:func:`~vgdcn_pyg.training.trainer.default_pretrain_epochs`).
        pretrain_steps (int, optional): With :obj:`pretrain_epochs=None`,
            the least number of pretraining mini-batch steps (and a
            36th of it the least number of epochs). :obj:`None`:
            :data:`~vgdcn_pyg.training.trainer.MIN_PRETRAIN_STEPS` (1800);
            :obj:`900` halves the pretraining steps of small data sets, at
            a cost in quality on the suite mean
            (``benchmarks/results/ablation.md``).
        pretrain_batch_size (int, optional): Pretraining mini-batch size.
            :obj:`None`: set by the data's size, 64 on small data up to
            :obj:`batch_size` from :math:`36 \cdot 256` samples on, and
            full batches where :obj:`batch_size` holds all samples
            (:func:`~vgdcn_pyg.training.trainer.default_pretrain_batch_size`);
            :obj:`256` is the pretraining before this rule, four times the
            sample passes on small data.
        pretrain_tol (float): Pretraining stops once the reconstruction loss
            improves by less than this fraction per epoch (see
            :func:`~vgdcn_pyg.training.trainer.reconstruction_converged`);
            :obj:`0` (default): all :obj:`pretrain_epochs`.
        pretrain_lr (float): Pretraining learning rate.
        epochs (int, optional): Most joint training epochs (:attr:`n_iter_`
            tells those run). :obj:`None`: the model's default.
        tol (float, optional): The joint phase stops once fewer than this
            fraction of the samples changed cluster between two target
            refreshes (DEC's rule), not before :obj:`lr_warmup` epochs;
            :obj:`0`: all :obj:`epochs`. :obj:`None`: the model's default
            (0.001 for VGDCN, 0 for the baselines).
        adam (str): Adam's implementation, all of the same update
            (:func:`~vgdcn_pyg.training.trainer.make_adam`).
        lr (float): Joint learning rate, decayed by :obj:`lr_decay` every
            :obj:`decay_every` epochs.
        lr_warmup (int, optional): Optimizer steps over which the learning
            rate of the joint phase (and of VGDCN's GCN warm-up) rises
            linearly to :obj:`lr` (see
            :func:`~vgdcn_pyg.training.trainer.make_adam`); :obj:`0`: none.
            :obj:`None`: the model's default (10 for VGDCN, 0 for the
            baselines, as published).
        lr_decay (float, optional): :obj:`None`: 0.9 (the thesis's 10% every
            10 epochs), none for SDCN (as published).
        batch_size (int): Mini-batch size of the graph-free models, and the
            largest default pretraining batch.
        update_interval (int): Epochs between target refreshes.
        batch_size_graph (int, optional): Train a graph model in
            mini-batches of this many seed nodes with their sampled
            subgraphs (:mod:`vgdcn_pyg.training.batches`), for graphs whose
            full-batch step does not fit in memory; under :obj:`torchrun`
            the processes share them. :obj:`None`: full batch.
        num_neighbors (Sequence[int]): The sampling fan-out: neighbours
            sampled per hop around the seeds in mini-batch training,
            :obj:`-1` for all (default, each seed's whole neighbourhood).
            Not the graph's :obj:`n_neighbors`.
        minibatch_update (str): In mini-batch training, :obj:`"epoch"`:
            one Adam step per epoch from the gradients of all its batches,
            as full batch (default); :obj:`"batch"`: one per batch.
        device (str): :obj:`"cpu"`, :obj:`"cuda"` or :obj:`"auto"`.
        precision (str): :obj:`"fp32"`, :obj:`"bf16"` for mixed-precision
            training (matrix products in bfloat16, which CPUs with AMX /
            AVX-512 BF16 and recent GPUs run faster), or :obj:`"auto"`:
            bf16 on a CPU with such units, fp32 elsewhere
            (:func:`~vgdcn_pyg.training.trainer.resolve_precision`;
            :attr:`precision_` tells which ran). Inference and
            initialisation always run in float32.
        random_state (int, optional): Seed; the same seed on the same
            machine gives the same labels.
        verbose (bool): Show progress bars.
    """
    #: The model of a named estimator (:class:`VGDCN`, ...), else None.
    fixed_model: Optional[str] = None

    def __init__(
        self,
        n_clusters: int = 10,
        *,
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
        init_restarts: Optional[int] = None,
        input_starts: Optional[int] = None,
        umap_epochs: Optional[int] = None,
        gmm_starts: Optional[int] = None,
        input_spectral: Optional[bool] = None,
        graph_votes: Optional[int] = None,
        gcn_init: Optional[str] = None,
        target: Optional[str] = None,
        posterior: Optional[str] = None,
        warmup_steps: int = 10,
        pretrain_epochs: Optional[int] = None,
        pretrain_steps: Optional[int] = None,
        pretrain_batch_size: Optional[int] = None,
        pretrain_tol: float = 0.0,
        pretrain_lr: float = 1e-3,
        epochs: Optional[int] = None,
        tol: Optional[float] = None,
        adam: str = 'auto',
        lr: float = 1e-3,
        lr_warmup: Optional[int] = None,
        lr_decay: Optional[float] = None,
        decay_every: int = 10,
        batch_size: int = 256,
        update_interval: int = 1,
        batch_size_graph: Optional[int] = None,
        num_neighbors: Sequence[int] = (-1, ),
        minibatch_update: str = 'epoch',
        device: str = 'auto',
        precision: str = 'auto',
        random_state: Optional[int] = 0,
        verbose: bool = True,
    ):
        # scikit-learn's rule: every argument stored as given, under its
        # own name (_PARAMETERS, read from this signature); fit validates.
        arguments = locals()
        for name in _PARAMETERS:
            setattr(self, name, arguments[name])

    # --------------------------------------------------------- model defaults
    @property
    def model_class(self) -> Type[DeepClusteringModel]:
        r"""The class of :attr:`model` in :data:`vgdcn_pyg.models.MODELS`."""
        return get_model(self.model)

    def graph_settings(self, n_samples: Optional[int] = None
                       ) -> Tuple[int, str]:
        r"""``(n_neighbors, graph_space)``, the model's defaults filled in.

        The default :math:`M` (:obj:`n_neighbors=None`) on :obj:`n_samples`
        samples is the model's
        :attr:`~vgdcn_pyg.models.DeepClusteringModel.default_n_neighbors`,
        at most half the mean cluster size,

        .. math::
            M = \min\left(M_0, \max\left(1, \left\lfloor
            \frac{N}{2K} \right\rfloor\right)\right):

        with clusters of about :math:`N / K` samples, a sample's
        :math:`M_0` nearest neighbours can otherwise not lie mostly in its
        own cluster, and the GCN averages across clusters. Only data with
        fewer than :math:`2 K M_0` samples (200 for 10 clusters) get a
        smaller :math:`M`."""
        cls = self.model_class
        k = self.n_neighbors if self.n_neighbors is not None else \
            (cls.default_n_neighbors or MODELS['vgdcn'].default_n_neighbors)
        if self.n_neighbors is None and n_samples is not None:
            k = min(k, max(1, n_samples // (2 * self.n_clusters)))
        space = self.graph_space if self.graph_space is not None else \
            (cls.default_graph_space or 'input')
        return k, space

    def _graph_space_before_auto(self) -> str:
        r"""The graph space of a model file or checkpoint written before
        :attr:`graph_space_` was saved: the configured one, where
        :obj:`"auto"` (newer than those files) can only be VGDCN's default,
        which was then the embedding's."""
        space = self.graph_settings()[1]
        return 'latent' if space == 'auto' else space

    def schedule(self) -> Tuple[int, float]:
        r"""``(epochs, lr_decay)``, the model's defaults filled in."""
        cls = self.model_class
        epochs = cls.default_epochs if self.epochs is None else self.epochs
        decay = cls.default_lr_decay if self.lr_decay is None else \
            self.lr_decay
        return epochs, decay

    def stopping_tol(self) -> float:
        r"""The joint phase's :obj:`tol`, the model's default filled in."""
        return self.model_class.default_tol if self.tol is None else self.tol

    def warmup_length(self) -> int:
        r"""The learning-rate warm-up steps, the model's default filled in."""
        if self.lr_warmup is not None:
            return self.lr_warmup
        return self.model_class.default_lr_warmup

    def pretrain_batch(self, n_samples: int) -> int:
        r"""The pretraining mini-batch size on :obj:`n_samples` samples."""
        if self.pretrain_batch_size is not None:
            return self.pretrain_batch_size
        return default_pretrain_batch_size(n_samples, self.batch_size)

    def pretrain_length(self, n_samples: int) -> int:
        r"""Most pretraining epochs on :obj:`n_samples` samples."""
        if self.pretrain_epochs is not None:
            return self.pretrain_epochs
        steps = MIN_PRETRAIN_STEPS if self.pretrain_steps is None else \
            self.pretrain_steps
        return default_pretrain_epochs(n_samples,
                                       self.pretrain_batch(n_samples), steps)

    def model_options(self) -> Dict:
        r"""The model's options (its class's :obj:`options`) as the model is
        built with them: the given value, or the model's default where it is
        :obj:`None`. A checkpoint records these, so that a version of the
        package whose defaults differ refuses to resume it rather than
        finish the fit with other settings."""
        cls = self.model_class
        defaults = inspect.signature(cls.__init__).parameters
        return {name: defaults[name].default if getattr(self, name) is None
                else getattr(self, name) for name in cls.options}

    def build_model(self, n_features: int,
                    likelihood: str) -> DeepClusteringModel:
        r"""A new, untrained model for :obj:`n_features` features."""
        cls = self.model_class
        ae = DeepAutoEncoder(n_features, self.hidden_channels,
                             self.latent_channels,
                             variational=cls.variational,
                             likelihood=likelihood)
        return cls(ae, self.n_clusters, **self.model_options())

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, *, pretrained: Optional[Dict] = None,
            checkpoint=None, checkpoint_every: Optional[int] = None,
            resume: bool = False):
        r"""Fits the model on :obj:`X` (shape :obj:`(n_samples,
        n_features)`), phase by phase (see :mod:`vgdcn_pyg.phases`).

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
                this file every :obj:`checkpoint_every` epochs of each phase
                (not under :obj:`torchrun`); deleted when the fit succeeds.
            checkpoint_every (int, optional): :obj:`None`: 1, or when
                resuming the value the checkpoint was written with.
            resume (bool): Continue from :obj:`checkpoint`, which must come
                from a fit with the same parameters (but :obj:`verbose` and
                :obj:`device`), :obj:`X`, :obj:`y` and :obj:`pretrained`;
                the result is bit-identical to an uninterrupted fit on the
                same machine and device.

        Raises:
            DataError: On malformed :obj:`X` or :obj:`y`.
            ModelError: On bad parameters or an unusable checkpoint.
            FloatingPointError: If a loss becomes NaN/inf.
        """
        run = validate(self, X, y, pretrained=pretrained,
                       checkpoint=checkpoint,
                       checkpoint_every=checkpoint_every, resume=resume)
        if run.resumed_phase != 'joint':
            pretrain(self, run)
            build_graph(self, run)
            initialise(self, run)
        train(self, run)
        finish(self, run)
        return self

    def _inference_batch_size(self) -> Optional[int]:
        # Graphs trained in mini-batches are also inferred in row batches.
        return self.batch_size_graph and DEFAULT_INFERENCE_BATCH_SIZE

    @torch.no_grad()
    def _proba(self, x: torch.Tensor, edge_index, edge_weight) -> torch.Tensor:
        self.model_.eval()
        return self.model_.predict_proba(x, edge_index, edge_weight,
                                         self._inference_batch_size())

    def _training_proba(self) -> torch.Tensor:
        return self._proba(self._x_train, self.edge_index_, self.edge_weight_)

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
        n_neighbors, space = self.n_neighbors_, self.graph_space_
        if space == 'input':
            ref, query, t = self._x_train, x_new, self.graph_t_
        else:
            # The embedding moved during training: search and weigh in the
            # current one, with its own bandwidth (same rule as the graph's).
            ref = torch.from_numpy(self.embedding_).to(x_new.device)
            query = net.embed(x_new)
            t = default_bandwidth(knn_search(ref, n_neighbors,
                                             backend=self.graph_backend)[1])
        edge_index, edge_weight = attach_queries(
            self.edge_index_, self.edge_weight_, query, ref, n_neighbors, t)
        x_all = torch.cat([self._x_train, x_new])
        n = self._x_train.size(0)
        return self._proba(x_all, edge_index, edge_weight)[n:].cpu().numpy()

    def predict(self, X) -> np.ndarray:
        r"""Cluster of each new sample."""
        return self.predict_proba(X).argmax(-1)

    def fit_predict(self, X, y=None) -> np.ndarray:
        return self.fit(X, y).labels_

    def sample(self, n_per_cluster: int = 8, cluster: Optional[int] = None,
               random_state: Optional[int] = 0) -> np.ndarray:
        r"""Generates new samples from the Gaussian-mixture prior (VaDE and
        VGDCN): :math:`\mathbf{z} \sim \mathcal{N}(\boldsymbol\mu_c,
        \boldsymbol\sigma_c^2)`, decoded. Returns :obj:`(K', n, D)` for all
        clusters or :obj:`(n, D)` for one."""
        self._check_fitted()
        if not hasattr(self.model_, 'sample'):
            able = ', '.join(n for n, c in MODELS.items() if hasattr(c, 'sample'))
            raise ModelError(f'model {self.model!r} is not generative; use '
                             f'{able}')
        generator = torch.Generator(device=self._x_train.device)
        generator.manual_seed(0 if random_state is None else random_state)
        clusters = range(self.n_clusters) if cluster is None else [cluster]
        self.model_.eval()
        out = [self.model_.sample(n_per_cluster, c, generator).cpu().numpy()
               for c in clusters]
        return out[0] if cluster is not None else np.stack(out)

    def save(self, path, metadata: Optional[Dict] = None) -> None:
        r"""Writes the fitted estimator to :obj:`path` atomically.
        :obj:`metadata` (plain values: numbers, strings, lists, dicts) is
        stored with it and comes back as :attr:`metadata_` from :meth:`load`
        (the command line keeps the image shape and the feature extraction
        there)."""
        self._check_fitted()
        save_estimator(self, path, metadata)

    @classmethod
    def load(cls, path, device: Optional[str] = None) -> 'DeepClustering':
        r"""Reads a model written by :meth:`save`."""
        est = load_estimator(cls, path, device)
        finish(est)
        return est


#: The hyper-parameters of :class:`DeepClustering`, in signature order.
_PARAMETERS = tuple(inspect.signature(DeepClustering.__init__).parameters)[1:]


def _named_estimator(model_cls: Type[DeepClusteringModel], title: str):
    r"""The estimator of one model: :class:`DeepClustering` without the
    :obj:`model` parameter. Its ``__init__`` has the full signature, so
    scikit-learn's :meth:`get_params`, :func:`~sklearn.base.clone` and
    ``repr`` work, and ``VGDCN(model='dec')`` is a :class:`TypeError`."""
    doc = (f'{title}: :class:`DeepClustering` with the model '
           f':class:`~vgdcn_pyg.models.{model_cls.__name__}` (see both for '
           f'the parameters and the method).')
    signature = inspect.signature(DeepClustering.__init__)
    signature = signature.replace(parameters=[
        p for p in signature.parameters.values() if p.name != 'model'])

    def __init__(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        params = dict(bound.arguments)
        params.pop('self')
        DeepClustering.__init__(self, model=model_cls.name, **params)

    __init__.__signature__ = signature
    name = model_cls.__name__[:-len('Model')]
    return type(name, (DeepClustering, ), {
        '__init__': __init__, '__doc__': doc, '__module__': __name__,
        'fixed_model': model_cls.name})


VGDCN = _named_estimator(MODELS['vgdcn'], 'VGDCN (VaDE + fused GCN branch)')
VaDE = _named_estimator(MODELS['vade'], 'VaDE (VAE + GMM prior)')
VAEKMeans = _named_estimator(MODELS['vae_kmeans'], 'A plain VAE, then k-means')
AEKMeans = _named_estimator(MODELS['ae_kmeans'], 'An auto-encoder, then k-means')
DEC = _named_estimator(MODELS['dec'], 'Deep Embedded Clustering')
IDEC = _named_estimator(MODELS['idec'], 'Improved DEC')
SDCN = _named_estimator(MODELS['sdcn'], 'Structural Deep Clustering Network')
N2D = _named_estimator(MODELS['n2d'], 'N2D (auto-encoder, UMAP, GMM)')
