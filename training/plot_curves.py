"""Plot a run's learning curves (train loss, validation loss / CER / NED) from CSV metric logs.

    python training/plot_curves.py training/line_cpu/logs/v2_leg*.csv -o training/line_cpu/curves.png

(CSV files from ``training/tb_to_csv.py`` or Lightning's CSVLogger; several legs are concatenated.)
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_series(path: str) -> dict[str, list[tuple[int, float]]]:
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    with open(path, newline="") as fh:
        for row in csv.DictReader(fh):
            step = int(float(row["step"]))
            for key, value in row.items():
                if key not in ("step", "epoch") and value not in ("", None):
                    series[key].append((step, float(value)))
    return series


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("metrics", nargs="+", help="metrics.csv file(s), concatenated in order")
    ap.add_argument("-o", "--out", required=True)
    args = ap.parse_args()
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for path in args.metrics:
        for k, v in read_series(path).items():
            series[k].extend(v)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("train/loss", "train loss"), ("val/loss", "val loss")):
        if series.get(key):
            xs, ys = zip(*sorted(series[key]))
            ax1.plot(xs, ys, label=label, marker="o" if key.startswith("val") else None)
    ax1.set_xlabel("step (32 lines each)"), ax1.set_ylabel("cross-entropy"), ax1.legend(), ax1.grid(alpha=.3)
    for key in ("val/cer", "val/ned", "val_real/cer", "val_real/ned"):
        if series.get(key):
            xs, ys = zip(*sorted(series[key]))
            ax2.plot(xs, ys, label=key, marker="o", markersize=3)
    ax2.set_xlabel("step"), ax2.set_ylabel("error rate (val: held-out mix, val_real: unseen PDFs)")
    ax2.set_yscale("log"), ax2.legend(), ax2.grid(alpha=.3)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
