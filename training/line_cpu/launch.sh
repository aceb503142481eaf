#!/usr/bin/env bash
# Train (or resume) the shipped default line model on this CPU, in the background, niced.
#   bash training/line_cpu/launch.sh            # logs to runs/line_cpu/train.log
# Checkpoints every 4 minutes to runs/line_cpu/checkpoints/last.ckpt; a re-run resumes exactly.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p runs/line_cpu
resume=()
if [ -f runs/line_cpu/checkpoints/last.ckpt ]; then resume=(--ckpt_path runs/line_cpu/checkpoints/last.ckpt); fi
exec nice -n 10 .venv/bin/docencoder fit -c configs/line_cpu.yaml "${resume[@]}" "$@" \
  >> runs/line_cpu/train.log 2>&1
