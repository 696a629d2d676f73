r"""Comparisons over seeds: VGDCN against its baselines, and settings sweeps.

A comparison fits every model as a user would, each with its own
pretraining; with :obj:`share_pretraining` (and always in a sweep) one
auto-encoder is pretrained per seed and reused: every model of a comparison,
and every value of a sweep, starts from the same pretrained weights, so that
the differences come from the clustering phase alone. The shared
pretraining uses the variational architecture (the thesis's VAE; the
plain models use its mean path), so a VGDCN or VaDE run here gives the same
labels as a standalone fit with the same seed. Reported is the last epoch,
mean +- std over seeds; labels are only used to score, never to choose.

This layer sits above the estimators of :mod:`vgdcn_pyg.cluster` and below
the command line (``vgdcn sweep``, ``vgdcn benchmark``); the models it knows
and their table order are those of the registry
:obj:`vgdcn_pyg.models.MODELS`.
"""
from __future__ import annotations

import os
import platform
import time
import warnings
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
import torch

from .cluster import DeepClustering
from .datasets import ClusteringData
from .evaluation import evaluate
from .exceptions import DataError, ModelError
from .io import atomic_write, save_csv, save_json
from .models import MODELS
from .plotting import plot_sweep

#: Published USPS results, ACC / NMI / ARI in % (SDCN paper, Table 2; the
#: thesis's Fig. 4.4 for VGDCN, whose code computed purity).
PUBLISHED_USPS = {
    'ae_kmeans': '71.0 / 67.5 / 58.8', 'dec': '73.3 / 70.6 / 63.7',
    'idec': '76.2 / 75.6 / 67.9', 'sdcn': '78.1 / 79.5 / 71.8',
    'vgdcn': '62.7 (purity)',
}
#: Short settings for smoke runs (``--quick``).
QUICK = dict(pretrain_epochs=5, epochs=5, warmup_steps=5, pretrain_tol=0.0,
             tol=0.0)
#: Sweepable parameters: name on the command line -> estimator parameter.
SWEEP_PARAMS = {'eps': 'eps', 'M': 'n_neighbors'}
METRICS = ('acc', 'nmi', 'ari', 'f1')

Run = Dict[str, object]


def _require_labels(data: ClusteringData, what: str):
    if data.y is None:
        raise DataError(f'{what} scores every run against the true labels, '
                        f'and {data.source or "this data"} has none (use '
                        f'labelled data: a bundled set, an image folder with '
                        f'one sub-folder per class, or an array file with '
                        f'labels)')


def pretrain_autoencoder(data: ClusteringData, seed: int,
                         params: Optional[dict] = None) -> dict:
    r"""Pretrains the auto-encoder that the runs of one seed share (in the
    variational architecture; see the module documentation) and returns
    its state, for :obj:`pretrained` here and in
    :meth:`~vgdcn_pyg.cluster.DeepClustering.fit`. :obj:`params` are
    :class:`~vgdcn_pyg.cluster.DeepClustering` parameters; those of the
    clustering phase are ignored."""
    params = {k: v for k, v in (params or {}).items()
              if k not in ('model', 'epochs', 'n_neighbors', 'eps')}
    params.setdefault('verbose', False)
    est = DeepClustering(model='vae_kmeans', epochs=0, random_state=seed,
                         **params)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # k-means on it may collapse: unused
        est.fit(data.x)
    return est.pretrained_state_


def _pretrain(data: ClusteringData, seed: int, params: dict):
    start = time.perf_counter()
    state = pretrain_autoencoder(data, seed, params)
    return state, time.perf_counter() - start


def _shared_autoencoder(data, seed, params, pretrained):
    if pretrained is not None and seed in pretrained:
        return pretrained[seed], 0.0
    return _pretrain(data, seed, params)


def _fit(data: ClusteringData, seed: int, params: dict, pretrained,
         keep_labels: bool = False) -> Run:
    est = DeepClustering(random_state=seed, **params)
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        est.fit(data.x, data.y, pretrained=pretrained)
    run = dict(seed=seed, model=est.model,
               seconds=time.perf_counter() - start,
               init=evaluate(data.y, est.init_labels_),
               history=est.history_,
               clusters_used=int(np.unique(est.labels_).size),
               warnings=sorted({str(w.message) for w in caught}))
    run.update(evaluate(data.y, est.labels_))
    if keep_labels:
        run['labels'] = est.labels_.tolist()
    return run


def run_benchmark(data: ClusteringData, models: Sequence[str],
                  seeds: Sequence[int], params: Optional[dict] = None,
                  on_run: Optional[Callable[[Run], None]] = None,
                  keep_labels: bool = False,
                  pretrained: Optional[Dict[int, dict]] = None,
                  share_pretraining: bool = False) -> List[Run]:
    r"""Fits every model of :obj:`models` for every seed and scores the last
    epoch.

    Args:
        data (ClusteringData): Labelled samples (labels only score).
        models (Sequence[str]): Model names (keys of
            :obj:`vgdcn_pyg.models.MODELS`, whose order is the table order).
        seeds (Sequence[int]): Random seeds.
        params (dict, optional): Further
            :class:`~vgdcn_pyg.cluster.DeepClustering` parameters shared by all
            models (e.g. :obj:`n_clusters`, :obj:`device`, :obj:`epochs`).
        on_run (callable, optional): Called with each finished run.
        keep_labels (bool): Also keep every run's cluster labels
            (:obj:`labels`).
        pretrained (dict, optional): Seed -> an auto-encoder state
            (:attr:`~vgdcn_pyg.cluster.DeepClustering.pretrained_state_` of
            a fit with that seed) that every model of that seed starts
            from instead of pretraining.
        share_pretraining (bool): Pretrain one auto-encoder per seed and
            start every model from it. If :obj:`False` (default), each model
            pretrains its own (as in a standalone fit; its :obj:`seconds`
            then include the pretraining).

    Returns:
        list[dict]: One record per (seed, model): the metrics of
        :func:`~vgdcn_pyg.evaluation.evaluate`, :obj:`seconds` (without the
        pretraining), :obj:`pretrain_seconds`, the metrics of the initial
        partition (:obj:`init`), the per-epoch :obj:`history` and any
        warnings. :obj:`pretrain_seconds` is :obj:`None` for runs with their
        own pretraining.
    """
    _require_labels(data, 'a benchmark')
    check_models(models)
    if not seeds:
        raise ModelError('give at least one seed')
    params = dict(params or {})
    params.setdefault('verbose', False)
    runs: List[Run] = []
    for seed in seeds:
        state, pre_seconds = None, None
        if share_pretraining or (pretrained is not None
                                 and seed in pretrained):
            state, pre_seconds = _shared_autoencoder(data, seed, params,
                                                     pretrained)
        for name in models:
            run = _fit(data, seed, dict(params, model=name), state,
                       keep_labels)
            run['pretrain_seconds'] = pre_seconds
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return runs


def check_models(models: Sequence[str]):
    r"""Raises :class:`~vgdcn_pyg.exceptions.ModelError` unless
    :obj:`models` names at least one model and only known ones (the CLI
    calls it before loading any data)."""
    unknown = [m for m in models if m not in MODELS]
    if unknown or not models:
        raise ModelError(f'unknown model(s) {", ".join(unknown) or "(none)"};'
                         f' choose from {", ".join(MODELS)}')


def run_sweep(data: ClusteringData, param: str, values: Sequence,
              seeds: Sequence[int], params: Optional[dict] = None,
              on_run: Optional[Callable[[Run], None]] = None,
              pretrained: Optional[Dict[int, dict]] = None) -> List[Run]:
    r"""Fits one model for every value of a setting and every seed (the
    thesis's Fig. 4.4b for :math:`\epsilon` and Fig. 4.5 for :math:`M`),
    reusing one pretrained auto-encoder per seed across the values.

    Args:
        data (ClusteringData): Labelled samples (labels only score).
        param (str): :obj:`"eps"` (fusion weight :math:`\epsilon`) or
            :obj:`"M"` (neighbours per sample in the kNN graph).
        values (Sequence): The values to try.
        seeds (Sequence[int]): Random seeds.
        params (dict, optional): Further
            :class:`~vgdcn_pyg.cluster.DeepClustering` parameters (the model
            must build a graph: :obj:`"vgdcn"`, the default, or
            :obj:`"sdcn"`).
        on_run, pretrained: As in :func:`run_benchmark`.

    Returns:
        list[dict]: The records of :func:`run_benchmark`, each with
        :obj:`param` and :obj:`value`.
    """
    _require_labels(data, 'a sweep')
    if param not in SWEEP_PARAMS:
        raise ModelError(f'unknown sweep parameter {param!r}; choose '
                         f'{" or ".join(SWEEP_PARAMS)}')
    params = dict(params or {})
    params.setdefault('verbose', False)
    model = params.setdefault('model', 'vgdcn')
    if model not in MODELS:
        raise ModelError(f'unknown model {model!r}; choose one of '
                         f'{", ".join(MODELS)}')
    if not MODELS[model].requires_graph:
        graph_models = [m for m, c in MODELS.items() if c.requires_graph]
        raise ModelError(f'{param} has no effect on {model}, which uses no '
                         f'graph; sweep a graph model '
                         f'({", ".join(graph_models)})')
    key = SWEEP_PARAMS[param]
    if key in params:
        raise ModelError(f'{param} is the swept parameter; do not also fix '
                         f'it')
    if not values or not seeds:
        raise ModelError('give at least one value and one seed')
    _check_values(param, values, data.n_samples)
    runs: List[Run] = []
    for seed in seeds:
        state, pre_seconds = _shared_autoencoder(data, seed, params,
                                                 pretrained)
        for value in values:
            run = _fit(data, seed, dict(params, **{key: value}), state)
            run.update(param=param, value=value, pretrain_seconds=pre_seconds)
            runs.append(run)
            if on_run is not None:
                on_run(run)
    return runs


def _check_values(param: str, values: Sequence, n_samples: int):
    for v in values:
        if param == 'eps' and not 0.0 <= float(v) <= 1.0:
            raise ModelError(f'eps values must be in [0, 1], got {v}')
        if param == 'M' and (int(v) != v or not 1 <= v < n_samples):
            raise ModelError(f'M values must be integers in [1, {n_samples})'
                             f', got {v}')


# ------------------------------------------------------------------ reports
def _mean_std(values) -> str:
    v = 100 * np.asarray(values, dtype=float)
    return f'{v.mean():.1f} +- {v.std():.1f}'


def _machine(device: str) -> str:
    return (f'Machine: {platform.processor() or platform.machine()}, '
            f'{os.cpu_count()} cores, torch {torch.__version__}, device '
            f'{device}.')


def benchmark_table(runs: Sequence[Run], models: Sequence[str], title: str,
                    command: str, device: str = 'auto',
                    published: Optional[Dict[str, str]] = None) -> str:
    r"""The comparison as a Markdown table: mean +- std over seeds of ACC,
    NMI, ARI and F1 (%) per model, the median run time and, when given, the
    published numbers."""
    seeds = sorted({int(r['seed']) for r in runs})
    pre = [r.get('pretrain_seconds') for r in runs]
    if all(p is not None for p in pre):
        protocol = (f'one pretrained auto-encoder per seed shared by all '
                    f'models (pretraining: {np.median(pre):.0f} s per seed, '
                    f'not in the times below)')
    else:
        protocol = ('every model with its own pretraining (included in its '
                    'time)')
    header = '| model | ACC | NMI | ARI | F1 | clusters used | time (s) |'
    rule = '| --- | --- | --- | --- | --- | --- | --- |'
    if published:
        header += ' published ACC / NMI / ARI |'
        rule += ' --- |'
    lines = [
        f'# {title}', '',
        f'Command: `{command}`  ',
        f'Seeds {seeds}, last epoch, {protocol}; labels only score.  ',
        _machine(device), '', header, rule,
    ]
    for name in models:
        rs = [r for r in runs if r['model'] == name]
        if not rs:
            continue
        cells = [_mean_std([r[k] for r in rs]) for k in METRICS]
        used = '/'.join(str(_clusters_used(r)) for r in rs)
        t = np.median([r['seconds'] for r in rs])
        row = f'| {name} | ' + ' | '.join(cells) + f' | {used} | {t:.0f} |'
        if published:
            row += f' {published.get(name, "")} |'
        lines.append(row)
    return '\n'.join(lines) + '\n'


def _clusters_used(run: Run):
    # Runs recorded before 'clusters_used' existed keep it in the history.
    if 'clusters_used' in run:
        return run['clusters_used']
    history = run.get('history') or [{}]
    return history[-1].get('clusters', '?')


def sweep_summary(runs: Sequence[Run]) -> List[dict]:
    r"""Mean and standard deviation over seeds of every metric, per value
    (in the order the values were given)."""
    values = list(dict.fromkeys(r['value'] for r in runs))
    rows = []
    for value in values:
        rs = [r for r in runs if r['value'] == value]
        row = {'param': rs[0]['param'], 'value': value, 'n_seeds': len(rs)}
        for k in METRICS[:3]:
            v = np.array([r[k] for r in rs], dtype=float)
            row[f'{k}_mean'], row[f'{k}_std'] = float(v.mean()), float(v.std())
        rows.append(row)
    return rows


def sweep_table(runs: Sequence[Run], model: str, command: str,
                device: str = 'auto', data_name: str = '') -> str:
    r"""The sweep as a Markdown table, one row per value."""
    param = runs[0]['param']
    seeds = sorted({int(r['seed']) for r in runs})
    lines = [
        f'# {model}: {param} sweep' + (f' on {data_name}' if data_name
                                        else ''), '',
        f'Command: `{command}`  ',
        f'Seeds {seeds}, last epoch, one pretrained auto-encoder per seed '
        f'shared by all values; mean +- std (%); labels only score.  ',
        _machine(device), '',
        f'| {param} | ACC | NMI | ARI |', '| --- | --- | --- | --- |',
    ]
    for value in dict.fromkeys(r['value'] for r in runs):
        rs = [r for r in runs if r['value'] == value]
        lines.append(f'| {value} | ' + ' | '.join(
            _mean_std([r[k] for r in rs]) for k in METRICS[:3]) + ' |')
    return '\n'.join(lines) + '\n'


def write_benchmark(runs: Sequence[Run], models: Sequence[str], md_path,
                    json_path, title: str, command: str,
                    device: str = 'auto',
                    published: Optional[Dict[str, str]] = None) -> str:
    r"""Writes the table (Markdown) and every run with its history (JSON),
    atomically; returns the table."""
    table = benchmark_table(runs, models, title, command, device, published)
    with atomic_write(md_path) as f:
        f.write(table)
    save_json(list(runs), json_path)
    return table


def write_sweep(runs: Sequence[Run], folder, model: str, command: str,
                device: str = 'auto', data_name: str = '') -> str:
    r"""Writes :obj:`sweep.md`, :obj:`sweep.csv` (per value),
    :obj:`runs.csv` (per run) and :obj:`sweep.png` (ACC and NMI against the
    value, error bars over seeds) into :obj:`folder`; returns the table."""
    summary = sweep_summary(runs)
    columns = list(summary[0])
    save_csv(os.path.join(folder, 'sweep.csv'), columns,
             ([row[c] for c in columns] for row in summary))
    save_csv(os.path.join(folder, 'runs.csv'),
             ['param', 'value', 'seed'] + list(METRICS) + ['clusters_used',
                                                          'seconds'],
             ([r['param'], r['value'], r['seed']] +
              [r[k] for k in METRICS] +
              [r['clusters_used'], round(float(r['seconds']), 2)]
              for r in runs))
    values = [row['value'] for row in summary]
    scores = {k.upper(): np.array([[r[k] for r in runs if r['value'] == v]
                                   for v in values]) * 100
              for k in ('acc', 'nmi')}
    plot_sweep(values, scores, os.path.join(folder, 'sweep.png'),
               runs[0]['param'], unit=' (%)',
               title=f'{model}: clustering quality against '
               f'{runs[0]["param"]}' + (f' ({data_name})' if data_name
                                        else ''))
    table = sweep_table(runs, model, command, device, data_name)
    with atomic_write(os.path.join(folder, 'sweep.md')) as f:
        f.write(table)
    return table
