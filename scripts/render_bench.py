"""Measure the two PDF rasterisers the project has used: pypdfium2 and poppler (pdf2image).

Issue 20 asks for one renderer for training, benchmarks and the CLI, chosen by measurement. This
script renders the same pages both ways, the way each was called in the code (pypdfium2: one
open document, ``page.render(scale=dpi/72, grayscale=True)``; poppler: ``pdftoppm`` through
pdf2image with ``grayscale=True, use_cropbox=True``, one call per page or one per run of eight
pages as the shard builder did) and prints:

* speed: pages per second at ``--dpi`` on one thread (each renderer in a fresh subprocess, with
  ``OMP_NUM_THREADS=1``; pdftoppm is single-threaded);
* memory: the peak resident set of the rendering process and, for poppler, of its largest
  ``pdftoppm`` child (``getrusage``), each beside the peak of a process that imported the same
  modules and rendered nothing;
* agreement: image sizes, the mean absolute grey-level difference and the share of pixels that
  differ by more than 64 grey levels (on the common area);
* text-layer fit: for every word of the text layer (:func:`docencoder.pdf.textlayer.read_page`,
  the reading the training crops and ``--text-layer`` use), whether its pixel box holds ink in
  each render, and how far the ink's centre in the box moves between the two renders.

Pages: runs of eight consecutive pages from the middle of the first ``--pdfs`` Debian manuals under
``data/cache/real/pdfs`` (what shards are built from) and the one-page PDFs of both dev sets.

Run (nice, one thread: a training job shares the CPU)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/render_bench.py [--pdfs 6] [--dpi 150]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: pages per poppler call in the run-of-pages variant (the shard builder's former chunk)
RUN = 8
#: a pixel darker than this is ink
INK_LEVEL = 160
#: grey-level difference counted as a disagreeing pixel
BIG_DIFF = 64
RENDERERS = ("pypdfium2", "poppler/page", "poppler/run8")

Page = tuple[str, int]  # (pdf path, 0-based page index)


def pick_pages(n_pdfs: int) -> tuple[list[Page], list[Page]]:
    """(speed pages: runs of RUN pages of real manuals, dev pages: page 1 of each dev-set PDF)."""
    import pypdfium2 as pdfium

    real: list[Page] = []
    for path in sorted((ROOT / "data/cache/real/pdfs").rglob("*.pdf")):
        if len(real) >= n_pdfs * RUN:
            break
        try:
            doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError:
            continue
        n = len(doc)
        doc.close()
        if n < RUN:
            continue
        start = (n - RUN) // 2
        real += [(str(path), i) for i in range(start, start + RUN)]
    dev = [(str(p), 0) for d in ("data/devset/pages", "data/devset_wp/pages")
           for p in sorted((ROOT / d).glob("*.pdf"))]
    return real, dev


def render_pdfium(pages: list[Page], dpi: int) -> Iterator:
    """Grayscale renders by pypdfium2, one document open per file (as the CLI does)."""
    import pypdfium2 as pdfium

    docs: dict = {}
    for path, index in pages:
        doc = docs.get(path) or docs.setdefault(path, pdfium.PdfDocument(path))
        page = doc[index]
        bitmap = page.render(scale=dpi / 72.0, grayscale=True)
        yield bitmap.to_pil().convert("L")
        bitmap.close()
        page.close()
    for doc in docs.values():
        doc.close()


def render_poppler(pages: list[Page], dpi: int, run: int) -> Iterator:
    """Grayscale renders by pdftoppm via pdf2image, ``run`` consecutive pages per call."""
    import pdf2image

    i = 0
    while i < len(pages):
        path, first = pages[i]
        j = i + 1
        while j < len(pages) and j - i < run and pages[j] == (path, first + j - i):
            j += 1
        imgs = pdf2image.convert_from_path(path, dpi=dpi, first_page=first + 1,
                                           last_page=first + j - i, grayscale=True,
                                           use_cropbox=True)
        for im in imgs:
            yield im.convert("L")
        del imgs
        i = j


def worker(renderer: str, pages_file: str, dpi: int, save: Optional[str]) -> None:
    """Render in this (fresh) process; print timing and peak memory as JSON."""
    import pdf2image  # noqa: F401 - both imported in every worker: equal baselines
    import pypdfium2  # noqa: F401

    pages = [tuple(p) for p in json.loads(Path(pages_file).read_text())]
    t0 = time.perf_counter()
    if renderer == "pypdfium2":
        images = render_pdfium(pages, dpi)
    elif renderer == "none":
        images = iter(())
    else:
        images = render_poppler(pages, dpi, RUN if renderer.endswith("run8") else 1)
    kept, n = [], 0
    for im in images:  # one page at a time: the peak is one page's, unless kept for --save
        n += 1
        if save:
            kept.append(np.asarray(im))
    seconds = time.perf_counter() - t0
    if save:
        np.savez_compressed(save, *kept)
    print(json.dumps({"seconds": seconds, "pages": n,
                      "self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "child_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def run_worker(renderer: str, pages: list[Page], dpi: int, tmp: Path,
               save: Optional[Path] = None) -> dict:
    pages_file = tmp / "pages.json"
    pages_file.write_text(json.dumps(pages))
    cmd = [sys.executable, __file__, "--worker", renderer, "--pages-file", str(pages_file),
           "--dpi", str(dpi)] + (["--save", str(save)] if save else [])
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def word_boxes(page: Page) -> tuple[object, list]:
    """The page's text layer and the PDF boxes (left, bottom, right, top) of its words."""
    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.textlayer import line_words, read_page, union_box

    doc = open_pdf(page[0])
    try:
        layout = read_page(doc, page[1])
    finally:
        doc.close()
    return layout, [union_box([c.box for c in chars])
                    for line in layout.lines for chars in line_words(line) or []]


def ink_offset(a: np.ndarray, layout, box) -> Optional[tuple[float, float]]:
    """Centre of the ink in a word's pixel box on render ``a``, relative to the box's top-left
    corner (the box mapped with this render's own size); None when the box holds no ink."""
    x0, y0, x1, y1 = layout.to_pixels(box, (a.shape[1], a.shape[0]))
    left, top = max(0, int(x0)), max(0, int(y0))
    right, bottom = min(a.shape[1], int(x1) + 1), min(a.shape[0], int(y1) + 1)
    ys, xs = np.nonzero(a[top:bottom, left:right] < INK_LEVEL)
    return (float(xs.mean()) + left - x0, float(ys.mean()) + top - y0) if len(xs) else None


def agreement(pages: list[Page], a_imgs: list[np.ndarray], b_imgs: list[np.ndarray]) -> dict:
    """Pixel agreement (pages of equal size) and word-ink agreement of two renders."""
    same_size = 0
    mad, big, dw, dh = [], [], [], []
    words = ink_a = ink_b = 0
    shifts: list[float] = []
    signed: list[tuple[float, float]] = []
    for page, a, b in zip(pages, a_imgs, b_imgs):
        dw.append(b.shape[1] - a.shape[1])
        dh.append(b.shape[0] - a.shape[0])
        if a.shape == b.shape:
            same_size += 1
            d = np.abs(a.astype(np.int16) - b.astype(np.int16))
            mad.append(float(d.mean()))
            big.append(float((d > BIG_DIFF).mean()))
        layout, boxes = word_boxes(page)
        for box in boxes:
            words += 1
            ca, cb = ink_offset(a, layout, box), ink_offset(b, layout, box)
            ink_a += ca is not None
            ink_b += cb is not None
            if ca and cb:
                shifts.append(max(abs(ca[0] - cb[0]), abs(ca[1] - cb[1])))
                signed.append((cb[0] - ca[0], cb[1] - ca[1]))
    s = np.array(shifts or [0.0])
    dxy = np.array(signed or [(0.0, 0.0)]).mean(axis=0)
    return {"pages": len(pages), "same_size": same_size, "mad": float(np.mean(mad or [0])),
            "mad_max": float(np.max(mad or [0])), "big": float(np.mean(big or [0])),
            "dw": (min(dw), max(dw)), "dh": (min(dh), max(dh)), "words": words,
            "ink_a": ink_a, "ink_b": ink_b, "shift_median": float(np.median(s)),
            "shift_p99": float(np.percentile(s, 99)), "shift_max": float(s.max()),
            "dx": float(dxy[0]), "dy": float(dxy[1])}


def load(path: Path) -> list[np.ndarray]:
    with np.load(path) as z:
        return [z[f"arr_{i}"] for i in range(len(z.files))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pdfs", type=int, default=6, help="real manuals (RUN pages each) to time")
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=2, help="timing runs per renderer (best kept)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--pages-file", help=argparse.SUPPRESS)
    ap.add_argument("--save", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.pages_file, args.dpi, args.save)
        return
    import tempfile

    real, dev = pick_pages(args.pdfs)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        base = run_worker("none", [], args.dpi, tmp)
        print(f"{len(real)} pages of {len(real) // RUN} manuals at {args.dpi} dpi, one thread; "
              f"an idle worker peaks at {base['self_mib']:.0f} MiB")
        print(f"{'renderer':<14} {'pages/s':>8} {'peak MiB (process)':>19} {'peak MiB (pdftoppm)':>20}")
        for name in RENDERERS:
            runs = [run_worker(name, real, args.dpi, tmp) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            child = f"{best['child_mib']:.0f}" if name != "pypdfium2" else "-"
            print(f"{name:<14} {best['pages'] / best['seconds']:>8.1f} "
                  f"{max(r['self_mib'] for r in runs):>19.0f} {child:>20}")
        print()
        print("agreement (poppler - pypdfium2): image size, grey levels on equal-size pages, "
              "and the text layer's word boxes")
        print(f"{'pages':<13} {'n':>3} {'same size':>9} {'dw,dh px':>10} {'mean |d|':>8} "
              f"{'max page':>8} {'|d|>64':>7} {'words':>6} {'ink pdfium':>10} {'ink poppler':>11} "
              f"{'ink shift px med/p99/max':>25} {'mean dx,dy':>11}")
        for label, pages in (("real manuals", real), ("dev pages", dev)):
            run_worker("pypdfium2", pages, args.dpi, tmp, tmp / "a.npz")
            run_worker("poppler/page", pages, args.dpi, tmp, tmp / "b.npz")
            r = agreement(pages, load(tmp / "a.npz"), load(tmp / "b.npz"))
            size = f"{r['dw'][0]}..{r['dw'][1]},{r['dh'][0]}..{r['dh'][1]}"
            print(f"{label:<13} {r['pages']:>3} {r['same_size']:>9} {size:>10} {r['mad']:>8.2f} "
                  f"{r['mad_max']:>8.2f} {r['big']:>7.2%} {r['words']:>6} {r['ink_a']:>10} "
                  f"{r['ink_b']:>11} {r['shift_median']:>11.2f}/{r['shift_p99']:.2f}/{r['shift_max']:.2f} "
                  f"{r['dx']:>+5.2f},{r['dy']:+.2f}")


if __name__ == "__main__":
    main()
