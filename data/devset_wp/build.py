"""Rebuild the whitepaper dev set (data/devset_wp) deterministically.

    .venv/bin/python data/devset_wp/build.py [--seed 0] [--cache data/cache/devset_wp] [--refresh-text]

Needs pdfLaTeX with the TeX Live packages listed in README.md, ``apt-get`` and ``dpkg`` (the
journal pages come from Debian packages, downloaded into the cache) and network access to Debian.
The typeset papers' text comes from ``text/pool.json.gz``; ``--refresh-text`` re-reads it from
apt's lists (``apt-get update -o Acquire::Languages=en`` first). See
``docencoder/eval/devset_wp.py`` for what is built and why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docencoder.eval.devset_wp import build, summary  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="text, page and degradation seed")
    parser.add_argument("--cache", type=Path, default=None,
                        help="downloads and LaTeX runs (default data/cache/devset_wp)")
    parser.add_argument("--refresh-text", action="store_true",
                        help="re-read text/pool.json.gz from apt's package lists")
    args = parser.parse_args()
    rows = build(Path(__file__).resolve().parent, cache=args.cache, seed=args.seed,
                 refresh_text=args.refresh_text)
    print(f"{len(rows)} pages written: {summary(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
