#!/usr/bin/env bash
# Train topology GPTs of three sizes on one GPU at once, each in two stages: the whole public set (plus the
# built-in library), then the op-amp family (the specialist `eda topo generate --type opamp*` uses).
#
#   benchmarks/train_topo_gpu.sh DATA OUT [PRETRAIN_S] [FINETUNE_S] [WORKERS]
#
# DATA: a folder in the public set's layout (N/N.cir + PortN.txt + data_categorization.md); OUT: where the
# checkpoints (<size>_base.pt, <size>_opamp.pt) and the log (train.log, lines prefixed by size) go. Each stage trains for a wall-time budget
# (--time-budget, the steps it reached are recorded in the checkpoint) and keeps the weights of its lowest
# validation loss (--keep-best). Sizes: s = 3x128 (the shipped size), m = 4x192, l = 6x256.
set -u
DATA=$1
OUT=$2
PRE=${3:-180}
FT=${4:-100}
W=${5:-5}
EDA=${EDA:-eda}
mkdir -p "$OUT"

stage() {  # name n_layer n_embd n_head n_kv dropout lr_pre lr_ft
  local name=$1 nl=$2 ne=$3 nh=$4 kv=$5 dr=$6 lr1=$7 lr2=$8
  $EDA topo train --data "$DATA" --out "$OUT/${name}_base.pt" --device "${DEVICE:-cuda}" --steps 1000000 --time-budget "$PRE" \
    --tours 8 --batch-tokens 16384 --lr "$lr1" --n-layer "$nl" --n-embd "$ne" --n-head "$nh" --n-kv-head "$kv" \
    --dropout "$dr" --val-points 10 --keep-best --workers "$W" --save-every 1000 --sample-guidance 3 --seed 0 &&
  $EDA topo train --data "$DATA" --types opamp-family --init "$OUT/${name}_base.pt" --out "$OUT/${name}_opamp.pt" \
    --device "${DEVICE:-cuda}" --steps 1000000 --time-budget "$FT" --tours 16 --batch-tokens 16384 --lr "$lr2" \
    --val-points 10 --keep-best --workers "$W" --save-every 1000 --sample-guidance 3 --seed 0
}

export PYTHONUNBUFFERED=1
stage s 3 128 4 1 0.0 2e-3 1e-3 2>&1 | sed -u 's/^/[s] /' >>"$OUT/train.log" &
stage m 4 192 4 1 0.05 1.5e-3 7e-4 2>&1 | sed -u 's/^/[m] /' >>"$OUT/train.log" &
stage l 6 256 8 2 0.1 1e-3 5e-4 2>&1 | sed -u 's/^/[l] /' >>"$OUT/train.log" &
wait
grep -E "parameters|kept the weights|error" "$OUT/train.log"
