#!/bin/bash
# The second H200 run: the 20-seed NaN scan of the default VGDCN fit
# (benchmarks/results/nan_scan_h200.md), seeds 5-9 of the shared-auto-encoder
# protocol (usps_shared_ae_seeds5-9_h200.md), full batch against mini-batch
# VGDCN (minibatch_usps_h200.md) and the eps / M sweeps over 3 seeds
# (usps_sweep_eps_h200.md, usps_sweep_m_h200.md).
# Every seed runs in its own process; the per-seed JSON files are merged with
# --from-json. Run from the repository root: OUT=dir bash benchmarks/device/run2.sh
export PYTHONPATH=. PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
W=/tmp/w; mkdir -p $W
T=${T:-400}
for i in 0 1 2 3 4 5 6 7 8 9; do
  timeout $T python3 benchmarks/nan_scan.py --device cuda --seeds $((2*i)) $((2*i+1)) --out $W/n$i > $W/n$i.log 2>&1 &
done
for s in 5 6 7 8 9; do
  timeout $T python3 benchmarks/usps_models.py --device cuda --seeds $s --models ae_kmeans vgdcn --share-pretraining --out $W/s$s > $W/s$s.log 2>&1 &
done
for s in 0 1 2 3 4; do
  timeout $T python3 benchmarks/minibatch_usps.py --device cuda --seeds $s --out $W/mb$s > $W/mb$s.log 2>&1 &
done
for s in 0 1 2; do
  timeout $T python3 benchmarks/usps_sweep.py --device cuda --seeds $s --out $W/eps$s.md --config eps0.1:eps=0.1 --config eps0.3:eps=0.3 --config eps0.5:eps=0.5 --config eps0.7:eps=0.7 --config eps0.9:eps=0.9 > $W/eps$s.log 2>&1 &
  timeout $T python3 benchmarks/usps_sweep.py --device cuda --seeds $s --out $W/m$s.md --config M3:n_neighbors=3 --config M5:n_neighbors=5 --config M10:n_neighbors=10 --config M20:n_neighbors=20 --config M30:n_neighbors=30 > $W/m$s.log 2>&1 &
done
wait
tail -n 2 $W/*.log
python3 benchmarks/nan_scan.py --from-json $W/n?.json --device cuda --out $OUT/nan_scan_h200
python3 benchmarks/usps_models.py --from-json $W/s?.json --models ae_kmeans vgdcn --share-pretraining --out $OUT/usps_shared_ae_seeds5-9_h200 --device cuda
tar czf $OUT/raw2.tgz -C $W .
