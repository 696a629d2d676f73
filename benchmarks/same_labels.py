r"""Does a change keep every fit bit for bit? Fits each model (and the
VGDCN variants: mini-batch, the thesis's options, bf16) on a fixed
800-digit USPS subset with a small network and short schedules, and records
hashes of the labels and soft assignments and the loss history; a second
run on other code compares against the first.

    python benchmarks/same_labels.py --json before.json        # old code
    python benchmarks/same_labels.py --json after.json --compare before.json

``--param name=value`` (repeatable) sets an estimator parameter in every
case, e.g. ``--param adam=for-loop`` to compare with code from before the
fused Adam default.

Run both with the same thread count (one by default): float sums may
depend on it. The full-size check is a default USPS fit of one seed, whose
labels the refactoring note compares.
"""
import argparse
import ast
import hashlib
import json
import sys
import warnings

import numpy as np
import torch

from vgdcn_pyg import DeepClustering
from vgdcn_pyg.datasets import load_usps

CASES = [(m, {}) for m in ('ae_kmeans', 'vae_kmeans', 'vade', 'dec', 'idec',
                           'sdcn', 'vgdcn')] + [
    ('vgdcn', dict(batch_size_graph=300)),
    ('vgdcn', dict(batch_size_graph=300, minibatch_update='batch')),
    ('vgdcn', dict(init='gmm', gcn_init='random', target='latent',
                   posterior='gmm')),
    ('vgdcn', dict(precision='bf16')),
]
SMALL = dict(hidden_channels=(64, 64, 128), pretrain_epochs=4, epochs=6,
             warmup_steps=4, random_state=1, verbose=False)


def _digest(a: np.ndarray) -> str:
    return hashlib.md5(np.ascontiguousarray(a).tobytes()).hexdigest()


def run(overrides: dict = None) -> dict:
    data = load_usps()
    index = np.random.RandomState(0).choice(len(data.x), 800, replace=False)
    x, y = np.asarray(data.x)[index], np.asarray(data.y)[index]
    out = {}
    for model, extra in CASES:
        params = dict(SMALL, **extra, **(overrides or {}))
        est = DeepClustering(n_clusters=10, model=model, **params)
        est.fit(x, y)
        key = model + ''.join(f'|{k}={v}' for k, v in extra.items())
        out[key] = dict(labels=_digest(est.labels_.astype(np.int64)),
                        proba=_digest(est.proba_),
                        loss=[h.get('loss') for h in est.history_])
        print(key, out[key]['labels'], flush=True)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--json', required=True, help='write the hashes here')
    ap.add_argument('--compare', help='hashes of an earlier run')
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--param', action='append', default=[],
                    metavar='NAME=VALUE', help='an estimator parameter for '
                    'every case (value read as a Python literal, else text)')
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    warnings.simplefilter('ignore')
    overrides = {}
    for text in args.param:
        name, _, value = text.partition('=')
        try:
            overrides[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[name] = value
    result = run(overrides)
    with open(args.json, 'w') as f:
        json.dump(result, f, indent=1)
    if args.compare:
        with open(args.compare) as f:
            before = json.load(f)
        same = True
        for key, new in result.items():
            old = before.get(key)
            equal = old is not None and all(old[k] == new[k] for k in new)
            same &= equal
            print(f'{key}: {"same" if equal else "DIFFERENT"}')
        sys.exit(0 if same else 1)


if __name__ == '__main__':
    main()
