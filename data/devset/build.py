"""Rebuild the evaluation dev set from Debian documentation packages.

    .venv/bin/python data/devset/build.py [--seed 0] [--cache data/cache/devset]

Needs ``apt-get`` (run ``apt-get update`` once), ``dpkg``, poppler (pdf2image) and network access
to Debian's archive. The choice of pages is deterministic for a seed; see
``docencoder/eval/devset.py`` for the sources and the page quality check.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docencoder.eval.devset import build  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="page-choice and degradation seed")
    parser.add_argument("--cache", default=None, help="download/unpack folder "
                        "(default data/cache/devset)")
    args = parser.parse_args()
    rows = build(Path(__file__).resolve().parent, cache=args.cache, seed=args.seed)
    print(f"{len(rows)} pages written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
