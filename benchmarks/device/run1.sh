#!/bin/bash
# The H200 run behind benchmarks/results/usps_models_h200.md,
# usps_vgdcn_bf16_h200.md and usps_shared_ae_h200.md: every seed in its own
# process (5 seeds x 3 protocols at once), merged with --from-json.
# Run from the repository root: OUT=dir bash benchmarks/device/run1.sh
export PYTHONPATH=. PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
W=/tmp/w; mkdir -p $W
python3 -c "import torch, torch_geometric, sklearn; print(torch.__version__, torch_geometric.__version__, torch.cuda.get_device_name())"
T=${T:-380}
for s in 0 1 2 3 4; do
  timeout $T python3 benchmarks/usps_models.py --device cuda --seeds $s --out $W/m$s > $W/m$s.log 2>&1 &
  timeout $T python3 benchmarks/usps_models.py --device cuda --seeds $s --models vgdcn --precision bf16 --out $W/b$s > $W/b$s.log 2>&1 &
  timeout $T python3 benchmarks/usps_models.py --device cuda --seeds $s --models ae_kmeans vgdcn --share-pretraining --out $W/s$s > $W/s$s.log 2>&1 &
done
wait
tail -n 3 $W/*.log
python3 benchmarks/usps_models.py --from-json $W/m?.json --out $OUT/usps_models_h200 --device cuda
python3 benchmarks/usps_models.py --from-json $W/b?.json --models vgdcn --precision bf16 --out $OUT/usps_vgdcn_bf16_h200 --device cuda
python3 benchmarks/usps_models.py --from-json $W/s?.json --models ae_kmeans vgdcn --share-pretraining --out $OUT/usps_shared_ae_h200 --device cuda
tar czf $OUT/raw1.tgz -C $W .
