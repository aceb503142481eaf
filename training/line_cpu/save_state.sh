#!/usr/bin/env bash
# Copy the run's complete metric log (rebuilt from TensorBoard events) and a log excerpt into the
# repo, and redraw the learning curves. The checkpoint itself is not kept across sessions; the
# next session continues from the shipped model (launch.sh, way 2).
#   bash training/line_cpu/save_state.sh LEG_NAME [STEP_OFFSET]     e.g.  save_state.sh v2_leg1 0
set -euo pipefail
cd "$(dirname "$0")/../.."
leg=${1:?leg name, e.g. v2_leg1}
offset=${2:-0}
RUN=runs/line_cpu
mkdir -p training/line_cpu/logs
.venv/bin/python training/tb_to_csv.py "$RUN/tb/version_0" -o "training/line_cpu/logs/$leg.csv" --step-offset "$offset"
grep -E "read:|Restor|resuming|leg" "$RUN/train.log" > "training/line_cpu/logs/$leg.train_excerpt.log" || true
.venv/bin/python training/plot_curves.py training/line_cpu/logs/v2_leg*.csv -o training/line_cpu/curves.png
