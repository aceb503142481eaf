"""Regenerate the structure tests of the whitepaper dev set (``structure_tests.jsonl``).

    .venv/bin/python data/devset_wp/structure_tests.py [--out FILE]

Deterministic: the cases come from the files the dev set stores (``tex/``, ``pages/``,
``manifest.jsonl``); see ``docencoder/eval/structure_cases.py`` for what each case type is
made from. ``docencoder bench structure`` scores them.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from docencoder.eval.structure_cases import generate_cases  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the cases (default data/devset_wp/structure_tests.jsonl)")
    args = parser.parse_args()
    cases = generate_cases(Path(__file__).resolve().parent, args.out)
    counts = Counter(c.check for c in cases)
    print(f"{len(cases)} cases on {len({c.page for c in cases})} pages: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
