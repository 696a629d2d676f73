r"""Cluster the 9298 USPS digits with VGDCN and compare it with VaDE.

What it shows: the thesis's main experiment (Section 4.4) on the bundled
USPS copy: VGDCN against VaDE (VAE + GMM) from one pretrained auto-encoder,
with ACC/NMI/ARI per epoch (labels only score, they choose nothing).
Time here (2-core CPU): about 10 minutes.

    python examples/usps.py [--seed 0] [--device cpu]
"""
import argparse

from vgdcn_pyg import VGDCN, VaDE
from vgdcn_pyg.datasets import load_usps
from vgdcn_pyg.evaluation import evaluate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='auto')
    args = ap.parse_args()

    data = load_usps()
    vgdcn = VGDCN(n_clusters=10, random_state=args.seed, device=args.device)
    vgdcn.fit(data.x, data.y)
    vade = VaDE(n_clusters=10, random_state=args.seed, device=args.device)
    vade.fit(data.x, data.y, pretrained=vgdcn.pretrained_state_)

    print('epoch  VGDCN ACC  VaDE ACC')
    for a, b in zip(vgdcn.history_, vade.history_):
        if a['epoch'] % 5 == 4:
            print(f'{a["epoch"] + 1:5d}  {a["acc"]:9.4f}  {b["acc"]:8.4f}')
    for name, est in (('VGDCN', vgdcn), ('VaDE', vade)):
        m = evaluate(data.y, est.labels_)
        print(f'{name:>5}: ACC {m["acc"]:.4f}  NMI {m["nmi"]:.4f}  '
              f'ARI {m["ari"]:.4f}')


if __name__ == '__main__':
    main()
