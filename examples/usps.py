r"""The thesis's USPS experiments (Chapter 4), end to end, on the bundled 9298
digits.

What it shows, for every seed from one pretrained auto-encoder (labels only
score, they choose nothing; the last epoch is reported):

* ``quality.png``: ACC and NMI per epoch of VGDCN, VaDE (VAE + GMM) and
  VAE + k-means (thesis Fig. 4.2 and 4.4), mean +- std over the seeds;
* ``generated.png``: digits generated per VGDCN cluster (Fig. 4.3);
* ``eps.png`` and ``M.png``: VGDCN's ACC and NMI against the fusion weight
  eps and the number of neighbours M, error bars over the seeds (Fig. 4.4b
  and 4.5), with ``eps.md`` / ``M.md`` tables;
* ``clusters.png``: digits of each VGDCN cluster, titled with the majority
  digit; ``latent.png``: t-SNE map of VGDCN's latent space by cluster;
* a table of the three models (mean +- std of ACC, NMI, ARI).

Time here (2-core CPU): ``--quick`` (5 pretraining, 5 warm-up and 5 joint
epochs, 1 seed; a smoke test, far from converged) took 11 minutes while
three other jobs shared the cores. A full seed was not run end to end on
this CPU; from the measured parts (``benchmarks/results/epoch_time.md``:
pretraining epoch 1.65 s, VGDCN joint epoch 1.99 s, a whole default VGDCN
fit 214 s) it is one 50-epoch pretraining (about 1.5 minutes) and 15 joint
phases (3 models, the first seed's VGDCN again, 7 eps and 4 M values) of
about 2 minutes each: roughly 30 minutes a seed on the quiet machine, a few
minutes on one GPU.

    python examples/usps.py [--seeds 0 1 2] [--quick] [--device cuda]
"""
import argparse
import os

from vgdcn_pyg import VGDCN
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.experiments import (QUICK, benchmark_table,
                                   pretrain_autoencoder, run_benchmark,
                                   run_sweep, write_sweep)
from vgdcn_pyg.plotting import (plot_cluster_grid, plot_embedding,
                                plot_history, save_image_grid)

EPS = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0]  # thesis Section 4.5
M = [1, 3, 5, 10]                         # thesis Section 4.6


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='+', default=[0])
    ap.add_argument('--quick', action='store_true',
                    help='5 pretraining, warm-up and joint epochs, 1 seed')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--out', default='runs/usps-thesis')
    args = ap.parse_args()
    seeds = args.seeds[:1] if args.quick else args.seeds
    params = dict(QUICK) if args.quick else {}
    params.update(n_clusters=10, device=args.device, verbose=False)
    data = load_usps()
    os.makedirs(args.out, exist_ok=True)

    # One pretrained auto-encoder per seed, shared by every run of it.
    pretrained = {seed: pretrain_autoencoder(data, seed, params)
                  for seed in seeds}

    # Fig. 4.2 / 4.4: VGDCN against VaDE and VAE + k-means, per epoch.
    models = ['vae_kmeans', 'vade', 'vgdcn']
    runs = run_benchmark(data, models, seeds, params, pretrained=pretrained)
    print(benchmark_table(runs, models, 'USPS: VGDCN, VaDE, VAE + k-means',
                          'python examples/usps.py', args.device))
    plot_history({m: [r['history'] for r in runs if r['model'] == m]
                  for m in models}, os.path.join(args.out, 'quality.png'),
                 title='USPS: quality per epoch (thesis Fig. 4.2 / 4.4)')

    # The first seed's VGDCN once more, as an estimator (the same labels
    # as its run above), for the figures that need the fitted model.
    first = VGDCN(random_state=seeds[0], **params).fit(
        data.x, pretrained=pretrained[seeds[0]])

    # Fig. 4.3: new digits generated from each cluster's Gaussian.
    save_image_grid(first.sample(10), (16, 16),
                    os.path.join(args.out, 'generated.png'),
                    row_titles=[f'cluster {c}' for c in range(10)],
                    title='Digits generated per VGDCN cluster')
    plot_cluster_grid(data.x, data.image_shape, first.labels_,
                      os.path.join(args.out, 'clusters.png'), y=data.y)
    plot_embedding(first.embedding_, first.labels_,
                   os.path.join(args.out, 'latent.png'))

    # Fig. 4.4b and 4.5: the eps and M sweeps over the seeds.
    for param, values in (('eps', EPS), ('M', M)):
        folder = os.path.join(args.out, param)
        sweep = run_sweep(data, param, values, seeds, params,
                          pretrained=pretrained)
        print(write_sweep(sweep, folder, 'vgdcn', 'python examples/usps.py',
                          args.device, 'USPS'))
        os.replace(os.path.join(folder, 'sweep.png'),
                   os.path.join(args.out, f'{param}.png'))
        os.replace(os.path.join(folder, 'sweep.md'),
                   os.path.join(args.out, f'{param}.md'))
    print(f'figures in {args.out}/')


if __name__ == '__main__':
    main()
