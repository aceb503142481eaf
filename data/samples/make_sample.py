"""Write the bundled sample: a 2-page, two-column whitepaper-like PDF with known text.

Usage: ``python data/samples/make_sample.py`` (rewrites ``sample.pdf`` and
``sample.txt`` beside this script). The PDF is deterministic (reportlab's invariant mode), so
re-running it changes nothing in git. ``sample.txt`` holds the reading-order text of each page
after a ``<!-- page N -->`` line, the reference the quickstart and tests compare against.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from a checkout without installing

from docencoder.ocr.samples import make_whitepaper  # noqa: E402

PDF_NAME = "sample.pdf"
TEXT_NAME = "sample.txt"
N_PAGES = 2


def main() -> None:
    doc = make_whitepaper(HERE / PDF_NAME, n_pages=N_PAGES)
    parts = [f"<!-- page {i} -->\n\n{doc.text(i)}\n" for i in range(1, N_PAGES + 1)]
    (HERE / TEXT_NAME).write_text("\n".join(parts), encoding="utf-8")
    print(f"wrote {HERE / PDF_NAME} and {HERE / TEXT_NAME}")


if __name__ == "__main__":
    main()
