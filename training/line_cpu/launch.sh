#!/usr/bin/env bash
# Train (or resume) the shipped default line model on this CPU, in the background, niced.
#   bash training/line_cpu/launch.sh [--trainer.enable_progress_bar false ...]   # logs: runs/line_cpu/train.log
#
# Resumes exactly from runs/line_cpu/checkpoints/last.ckpt (written every 4 minutes). The work tree
# may be laid anew between sessions, so `save_state.sh` mirrors the run to $DOCENCODER_STATE
# (default ~/.cache/docencoder) and this script restores it from there first. With no checkpoint
# anywhere, the run starts from scratch. Missing data shards are rebuilt (resumable, deterministic).
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${DOCENCODER_STATE:-$HOME/.cache/docencoder}
BIN=.venv/bin
if [ ! -f data/shards/real/manifest.json ]; then
  bash data/real/fetch.sh
  nice -n 10 $BIN/docencoder data from-pdfs data/cache/real/pdfs -o data/shards/real --max-pages 100
fi
if [ ! -f data/shards/synth/manifest.json ] || ! grep -q '"pdfgen-380"' data/shards/synth/manifest.json; then
  nice -n 10 $BIN/docencoder data synth-pdf -o data/shards/synth --docs 281 --seed 100 --kinds line
fi
if [ ! -f runs/line_cpu/checkpoints/last.ckpt ] && [ -f "$STATE/line_cpu/checkpoints/last.ckpt" ]; then
  mkdir -p runs && cp -r "$STATE/line_cpu" runs/
  echo "restored runs/line_cpu from $STATE/line_cpu"
fi
resume=()
if [ -f runs/line_cpu/checkpoints/last.ckpt ]; then resume=(--ckpt_path runs/line_cpu/checkpoints/last.ckpt); fi
mkdir -p runs/line_cpu
exec nice -n 10 $BIN/docencoder fit -c configs/line_cpu.yaml "${resume[@]}" "$@" >> runs/line_cpu/train.log 2>&1
