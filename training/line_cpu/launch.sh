#!/usr/bin/env bash
# Train (or continue) the shipped default line model on this CPU, in the background, niced.
#   bash training/line_cpu/launch.sh [--trainer.enable_progress_bar false ...]   # log: runs/line_cpu/train.log
#
# Three ways in, in this order:
#  1. runs/line_cpu/checkpoints/last.ckpt of an unfinished leg (written every 3 minutes): exact
#     resume with the leg's own arguments (runs/line_cpu/leg_args). A finished leg is moved
#     aside (runs/line_cpu_done_*) and a new one starts.
#  2. the shipped model (docencoder/assets/default, or $PARENT) records its run in training.json: a new leg
#     warm-starts from it, continues the data stream (--data.batch_offset) and runs its own
#     warmup (LEG_WARMUP steps, default 300) + cosine of LEG_STEPS (default 8000, one 3-hour session of this CPU) at peak LEG_LR
#     (default 5e-4), so every session ends annealed and ships its best model (warm restarts).
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
# the model a new leg warm-starts from (way 2): the shipped one unless PARENT names another export
# (e.g. an unshipped leg's, `docencoder export CKPT -o DIR` without --half)
SHIPPED=${PARENT:-docencoder/assets/default}
LEG_STEPS=${LEG_STEPS:-8000}
LEG_LR=${LEG_LR:-5e-4}
LEG_WARMUP=${LEG_WARMUP:-300}
if [ ! -f data/shards/real_v2/manifest.json ]; then
  bash data/real/fetch.sh
  nice -n 10 $BIN/docencoder data from-pdfs data/cache/real/pdfs -o data/shards/real_v2 --max-pages 100 --spread-pages --kinds line
fi
if [ ! -f data/shards/synth/manifest.json ]; then
  nice -n 10 $BIN/docencoder data synth-pdf -o data/shards/synth --docs 281 --seed 100 --kinds line
fi
if [ ! -f data/shards/latex/manifest.json ]; then
  nice -n 10 $BIN/docencoder data latex -o data/shards/latex --docs 250 --seed 7
fi
args=()
if [ -f "$RUN/checkpoints/last.ckpt" ] && $BIN/python - "$RUN" <<'PY'
import sys, torch
run = sys.argv[1]
args = open(f"{run}/leg_args").read().split() if __import__("os").path.exists(f"{run}/leg_args") else []
max_steps = int(args[args.index("--trainer.max_steps") + 1]) if "--trainer.max_steps" in args else 30000
step = torch.load(f"{run}/checkpoints/last.ckpt", map_location="cpu", weights_only=False)["global_step"]
sys.exit(0 if step >= max_steps else 1)
PY
then
  done_dir="${RUN}_done_$(date -u +%Y%m%dT%H%M%S)"
  mv "$RUN" "$done_dir"
  echo "$(date -u +%FT%TZ) the leg in $RUN had finished; moved to $done_dir" >&2
fi
mkdir -p "$RUN"
if [ -f "$RUN/checkpoints/last.ckpt" ]; then
  # the leg's own arguments (warm start, schedule and data offsets) apply again on resume:
  # the CLI takes hyperparameters from the command line, not from the checkpoint
  [ -f "$RUN/leg_args" ] && mapfile -t args < "$RUN/leg_args"
  args+=(--ckpt_path "$RUN/checkpoints/last.ckpt")
  echo "$(date -u +%FT%TZ) resuming $RUN/checkpoints/last.ckpt ${args[*]}" >> "$RUN/train.log"
elif [ -f "$SHIPPED/training.json" ]; then
  batches=$($BIN/python -c "import json; print(json.load(open('$SHIPPED/training.json'))['batches'])")
  mkdir -p runs/parent && cp "$SHIPPED"/*.json "$SHIPPED"/model.safetensors runs/parent/
  args=(--model.init_from runs/parent --model.lr "$LEG_LR" --model.warmup_steps "$LEG_WARMUP"
        --data.batch_offset "$batches" --trainer.max_steps "$LEG_STEPS")
  echo "$(date -u +%FT%TZ) new leg from the shipped model after $batches batches: $LEG_STEPS steps, peak lr $LEG_LR" >> "$RUN/train.log"
else
  mkdir -p runs/init_v1
  for f in config.json model.safetensors tokenizer.json; do
    git show "521f354:docencoder/assets/default/$f" > "runs/init_v1/$f"
  done
  args=(--model.init_from runs/init_v1 --model.init_parts '[compressor, clip, projector, decoder]')
  echo "$(date -u +%FT%TZ) first leg: warm start from line-v1 parts" >> "$RUN/train.log"
fi
# the leg's arguments, extra ones given to this script included, for its resumes
[ -f "$RUN/checkpoints/last.ckpt" ] || printf '%s\n' "${args[@]}" "$@" > "$RUN/leg_args"
exec nice -n 10 $BIN/docencoder fit -c configs/line_cpu.yaml "${args[@]}" "$@" >> "$RUN/train.log" 2>&1
