#!/usr/bin/env bash
# Mirror the run (checkpoint, logs) outside the work tree, and copy its small logs into the repo,
# so the next session can resume it (launch.sh restores from $DOCENCODER_STATE).
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=${DOCENCODER_STATE:-$HOME/.cache/docencoder}
mkdir -p "$STATE"
rsync -a --delete runs/line_cpu/ "$STATE/line_cpu/" 2>/dev/null || { rm -rf "$STATE/line_cpu"; cp -r runs/line_cpu "$STATE/"; }
mkdir -p training/line_cpu/logs
cp runs/line_cpu/csv/version_0/metrics.csv training/line_cpu/logs/metrics.csv
grep -E "read:|Trainer|Restor|restored" runs/line_cpu/train.log > training/line_cpu/logs/train_excerpt.log || true
echo "saved run state to $STATE/line_cpu"
