#!/usr/bin/env bash
# Train (or continue) the shipped default line model on this CPU, in the background, niced.
#   bash training/line_cpu/launch.sh [--trainer.enable_progress_bar false ...]   # log: runs/line_cpu/train.log
#
# Three ways in, in this order:
#  1. runs/line_cpu/checkpoints/last.ckpt exists (written every 3 minutes): exact resume.
#  2. the shipped model (docencoder/assets/default) records its run in training.json: a new leg
#     warm-starts from it and continues the same cosine schedule and data stream
#     (--model.schedule_offset / --data.batch_offset); only the AdamW moments are new (re-warmed
#     over 200 steps). This is how a new session continues: the work tree and its runs/ are not
#     kept between sessions, the shipped weights are.
#  3. otherwise the first leg: line v2 takes compressor, CLIP, projector and decoder from the
#     session-1 model line-v1 (git commit 521f354), SAM (now 128 wide) starts fresh.
# Missing data shards are rebuilt first (resumable, deterministic).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.venv/bin
# Idle torch threads sleep instead of spin-waiting: with the 2 cores shared (data building, tests)
# a spinning thread made batches 4-5x slower.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
RUN=runs/line_cpu
SHIPPED=docencoder/assets/default
TOTAL_STEPS=30000   # trainer.max_steps of configs/line_cpu.yaml: the whole cosine
if [ ! -f data/shards/real_v2/manifest.json ]; then
  bash data/real/fetch.sh
  nice -n 10 $BIN/docencoder data from-pdfs data/cache/real/pdfs -o data/shards/real_v2 --max-pages 100 --spread-pages --kinds line
fi
if [ ! -f data/shards/synth/manifest.json ]; then
  nice -n 10 $BIN/docencoder data synth-pdf -o data/shards/synth --docs 281 --seed 100 --kinds line
fi
mkdir -p "$RUN"
args=()
if [ -f "$RUN/checkpoints/last.ckpt" ]; then
  # the leg's own arguments (warm start, schedule and data offsets) apply again on resume:
  # the CLI takes hyperparameters from the command line, not from the checkpoint
  [ -f "$RUN/leg_args" ] && mapfile -t args < "$RUN/leg_args"
  args+=(--ckpt_path "$RUN/checkpoints/last.ckpt")
  echo "$(date -u +%FT%TZ) resuming $RUN/checkpoints/last.ckpt ${args[*]}" >> "$RUN/train.log"
elif [ -f "$SHIPPED/training.json" ]; then
  read -r step batches < <($BIN/python -c "import json; s = json.load(open('$SHIPPED/training.json')); print(s['step'], s['batches'])")
  mkdir -p runs/parent && cp "$SHIPPED"/*.json "$SHIPPED"/model.safetensors runs/parent/
  args=(--model.init_from runs/parent --model.schedule_offset "$step" --model.warmup_steps 200
        --data.batch_offset "$batches" --trainer.max_steps $((TOTAL_STEPS - step)))
  echo "$(date -u +%FT%TZ) new leg from the shipped model at step $step (batch $batches)" >> "$RUN/train.log"
else
  mkdir -p runs/init_v1
  for f in config.json model.safetensors tokenizer.json; do
    git show "521f354:docencoder/assets/default/$f" > "runs/init_v1/$f"
  done
  args=(--model.init_from runs/init_v1 --model.init_parts '[compressor, clip, projector, decoder]')
  echo "$(date -u +%FT%TZ) first leg: warm start from line-v1 parts" >> "$RUN/train.log"
fi
[ -f "$RUN/checkpoints/last.ckpt" ] || printf '%s\n' "${args[@]}" > "$RUN/leg_args"
exec nice -n 10 $BIN/docencoder fit -c configs/line_cpu.yaml "${args[@]}" "$@" >> "$RUN/train.log" 2>&1
