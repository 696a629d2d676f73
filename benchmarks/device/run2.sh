#!/bin/bash
# The second H200 run: the 20-seed NaN scan of the default VGDCN fit
# (benchmarks/results/nan_scan_h200.md), seeds 5-9 of the shared-auto-encoder
# protocol (usps_shared_ae_seeds5-9_h200.md), and the extra runs listed below.
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
[ -f benchmarks/device/run2_extra.sh ] && source benchmarks/device/run2_extra.sh
wait
tail -n 2 $W/*.log
python3 benchmarks/nan_scan.py --from-json $W/n?.json --device cuda --out $OUT/nan_scan_h200
python3 benchmarks/usps_models.py --from-json $W/s?.json --models ae_kmeans vgdcn --share-pretraining --out $OUT/usps_shared_ae_seeds5-9_h200 --device cuda
[ -n "$(type -t extra_merge)" ] && extra_merge
tar czf $OUT/raw2.tgz -C $W .
