"""Rebuild a run's complete metric log from its TensorBoard events, as one CSV.

Why: Lightning's CSVLogger rewrites metrics.csv when a resumed run logs a key it had not logged
before (e.g. ``val_real/*`` once real shards are added), dropping the earlier rows; the
TensorBoard event files keep every scalar.

    python training/tb_to_csv.py runs/line_cpu/tb/version_0 -o training/line_cpu/logs/v2_leg1.csv [--step-offset S]

``--step-offset`` shifts the steps of a warm-started leg onto its parent's axis.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def read_scalars(logdir: str) -> dict[int, dict[str, float]]:
    """``{step: {tag: value}}`` over every scalar tag of the event files in ``logdir``."""
    acc = EventAccumulator(logdir, size_guidance={"scalars": 0})
    acc.Reload()
    rows: dict[int, dict[str, float]] = defaultdict(dict)
    for tag in acc.Tags()["scalars"]:
        for ev in acc.Scalars(tag):
            rows[ev.step][tag] = ev.value  # a resumed run re-logging a step keeps the latest value
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("logdir", help="TensorBoard log directory (e.g. runs/line_cpu/tb/version_0)")
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--step-offset", type=int, default=0)
    args = ap.parse_args()
    rows = read_scalars(args.logdir)
    tags = sorted({t for r in rows.values() for t in r if t != "epoch"})
    with open(args.out, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["step", *tags])
        for step in sorted(rows):
            w.writerow([step + args.step_offset, *(rows[step].get(t, "") for t in tags)])
    print(f"wrote {args.out}: {len(rows)} steps, {len(tags)} metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
