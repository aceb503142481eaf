"""Failure-finding harness for the page layout on scan-like pages (issue 15, deliverable 3).

The shipped model reads one text line at a time, so whatever :func:`docencoder.ocr.layout.find_lines`
misses, merges or misorders is lost before the model sees a pixel. This script measures the layout
alone, without the model, on digital pages whose text layer says where every word is:

1. *Pages*: the one-page PDFs of ``data/devset/pages`` (manuals, a two-column card) and pages
   typeset here with pdfLaTeX in the publisher classes TeX Live ships (IEEEtran, two-column article,
   elsarticle 5p, revtex, one-column amsart), on corpus text, with a table, an equation and lists.
2. *Degradations* (named conditions, drawn per page with a fixed seed): the scan effects of
   :mod:`docencoder.data.scan` (fade, rotation, blur, illumination fall-off, noise, JPEG), plus
   what a scanner and a journal's print add: a solid coloured margin bar, a pale sidebar, a grey
   border / scanner shadow outside the paper, a shaded box or zebra-striped table rows.
   Each degraded page goes through the CLI's own path: JPEG in an image-only PDF, rendered at
   150 DPI by :class:`docencoder.ocr.pages.PdfDocument`.
3. *Scores*: every text-layer word is put into the layout line (of the clean and of the degraded
   page) whose box holds its centre -- the word centres turned by the rotation that the layout
   did not undo. Per page and condition: lines matched (a clean line whose words a degraded line
   holds), order errors (matched lines out of the clean order: lines off the longest increasing
   run), merged lines (words of two text rows in one line), words lost, the skew estimate, and
   the *oracle* page text (each line's words left to right, lines in reading order: what a
   perfect line reader would output) scored with the benchmark's bag-of-words F1 against the
   text layer and NED against the clean page's oracle text.

Run (nice, one thread: a training job shares the CPU)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/layout_scans.py [--limit N] [--only COND]
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import os
import random
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable, Optional

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from docencoder.data import scan  # noqa: E402
from docencoder.eval.metrics import score_page  # noqa: E402
from docencoder.ocr.layout import PageLayout, find_lines  # noqa: E402
from docencoder.ocr.pages import PdfDocument  # noqa: E402
from docencoder.pdf.document import open_pdf  # noqa: E402
from docencoder.pdf.textlayer import read_page  # noqa: E402

DPI = 150
#: the brief's scan range: rotation to ±2.5°, blur σ 0.5-1.3, ink 75-95 %, fall-off 5-15 %,
#: noise σ 6-18, JPEG 40-75
BRIEF = scan.ScanParams(max_rotation_deg=2.5, blur_sigma=(0.5, 1.3), contrast=(0.75, 0.95),
                        falloff=(0.05, 0.15), noise_sigma=(6.0, 18.0), jpeg_quality=(40, 75))


# ------------------------------------------------------------------------------------------------
# Pages typeset with pdfLaTeX
# ------------------------------------------------------------------------------------------------

_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}"}

#: (name, preamble up to \begin{document}, title block) per class; every page in an outline font
#: with a Unicode map (the default EC fonts are Type 3 bitmaps whose text layer is unreadable,
#: which left the model's reading of these pages (--read) nothing to be scored against)
_CLASSES = {
    "ieeetran": (r"\documentclass[conference]{IEEEtran}\usepackage{mathptmx}", r"\title{%s}\author{\IEEEauthorblockN{Ada Lovelace}\IEEEauthorblockA{Analytical Engine Society}}\maketitle"),
    "article2": (r"\documentclass[twocolumn,10pt]{article}\usepackage[margin=0.75in]{geometry}\usepackage{lmodern}", r"\title{%s}\author{Grace Hopper}\date{}\maketitle"),
    "elsarticle": (r"\documentclass[5p]{elsarticle}\usepackage{mathpazo}", r"\begin{frontmatter}\title{%s}\author{Edsger Dijkstra}\end{frontmatter}"),
    "revtex": (r"\documentclass[aps,prl,twocolumn,superscriptaddress]{revtex4-2}\usepackage{lmodern}", r"\title{%s}\author{Alan Turing}\affiliation{Bletchley}\maketitle"),
    "amsart": (r"\documentclass[11pt]{amsart}\usepackage{lmodern}", r"\title{%s}\author{Emmy Noether}\maketitle"),
}


def _tex_escape(text: str) -> str:
    return "".join(_TEX_SPECIAL.get(c, c) for c in text)


def _corpus_paragraphs(n: int, seed: int) -> list[str]:
    """Prose paragraphs (ASCII, 300-900 characters) from the training corpus."""
    out = []
    with gzip.open(ROOT / "data/corpus/corpus.txt.gz", "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if 300 <= len(line) <= 900 and line.isascii() and line.count(" ") > 40:
                out.append(line)
            if len(out) >= 40 * n:
                break
    random.Random(seed).shuffle(out)
    return out[:n]


def _tex_body(rng: random.Random, paras: list[str]) -> str:
    """Sections of prose with a table, an equation, a list and references."""
    parts = []
    it = iter(paras)
    for s in range(4):
        parts.append(r"\section{%s}" % _tex_escape(" ".join(next(it).split()[:4]).strip(".,:;")))
        for _ in range(3):
            parts.append(_tex_escape(next(it)) + "\n")
        if s == 1:
            rows = "\n".join(r"%s & %d & %.3f \\" % (_tex_escape(w), rng.randint(1, 999), rng.random())
                             for w in next(it).split()[:6])
            parts.append(r"\begin{table}[h]\centering\caption{Measured values}"
                         r"\begin{tabular}{lrr}\hline Name & Count & Ratio \\ \hline " + rows +
                         r"\hline\end{tabular}\end{table}")
        if s == 2:
            parts.append(r"\begin{equation} E(x) = \sum_{i=1}^{n} \frac{a_i x^i}{1 + b_i} \end{equation}")
            items = next(it).split(". ")[:3]
            parts.append(r"\begin{itemize}" + "".join(r"\item " + _tex_escape(i) for i in items)
                         + r"\end{itemize}")
    refs = "".join(r"\bibitem{r%d} %s" % (k, _tex_escape(next(it)[:160])) for k in range(4))
    parts.append(r"\begin{thebibliography}{9}" + refs + r"\end{thebibliography}")
    return "\n\n".join(parts)


def typeset_pages(work: Path, seed: int = 0) -> list[tuple[Path, int]]:
    """``(pdf, 0-based page)`` of the typeset papers (first two pages of each class), compiled
    once into ``work``; classes that do not compile here are skipped with a note."""
    work.mkdir(parents=True, exist_ok=True)
    out = []
    paras = _corpus_paragraphs(40 * len(_CLASSES), seed)
    for k, (name, (preamble, title)) in enumerate(_CLASSES.items()):
        pdf = work / f"{name}.pdf"
        if not pdf.exists():
            rng = random.Random(seed * 100 + k)
            mine = paras[k * 40:(k + 1) * 40]
            head = _tex_escape(" ".join(mine[0].split()[:8]))
            tex = (preamble + "\n\\usepackage[T1]{fontenc}\\usepackage{amsmath}\n\\begin{document}\n"
                   + title % head + "\n" + _tex_body(rng, mine[1:]) + "\n\\end{document}\n")
            (work / f"{name}.tex").write_text(tex)
            for _ in range(2):
                r = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                                    f"{name}.tex"], cwd=work, capture_output=True, timeout=120)
            if r.returncode != 0 or not pdf.exists():
                print(f"note: {name} did not compile; skipped", file=sys.stderr)
                pdf.unlink(missing_ok=True)
                continue
        with PdfDocument(pdf) as doc:
            out += [(pdf, i) for i in range(min(2, doc.n_pages))]
    return out


# ------------------------------------------------------------------------------------------------
# Ground truth: text-layer words in pixels
# ------------------------------------------------------------------------------------------------

@dataclass
class Word:
    text: str
    cx: float  # centre, pixels of the clean 150-DPI render (origin top-left)
    cy: float
    h: float  # height, pixels
    x0: float  # left and right ends, pixels
    x1: float
    row: int  # the text-layer line it belongs to


def page_words(pdf: Path, index: int, size: tuple[int, int]) -> tuple[list[Word], str]:
    """The words of a page's text layer with their pixel centres, and the page text."""
    doc = open_pdf(pdf)
    try:
        layer = read_page(doc, index)
    finally:
        doc.close()
    words: list[Word] = []
    for row, line in enumerate(layer.lines):
        glyphs: list = []  # the characters of the word being read
        for c in line.chars + [None]:
            if c is not None and c.text.strip():
                glyphs.append(c)
                continue
            if glyphs:
                boxes = [g.ink if g.ink is not None else g.box for g in glyphs]
                x0, y0, x1, y1 = layer.to_pixels((min(b[0] for b in boxes), min(b[1] for b in boxes),
                                                  max(b[2] for b in boxes), max(b[3] for b in boxes)), size)
                words.append(Word("".join(g.text for g in glyphs), (x0 + x1) / 2, (y0 + y1) / 2,
                                  y1 - y0, x0, x1, row))
            glyphs = []
    return words, layer.text


def _turn(words: list[Word], angle_deg: float, size: tuple[int, int]) -> np.ndarray:
    """`(n, 2)` word centres after PIL's ``rotate(angle_deg)`` (counter-clockwise on screen)
    about the image centre: where the words lie in the image the layout's boxes refer to."""
    w, h = size
    cx, cy = w / 2, h / 2
    t = math.radians(angle_deg)
    p = np.array([(wd.cx, wd.cy) for wd in words], dtype=np.float64).reshape(-1, 2)
    dx, dy = p[:, 0] - cx, p[:, 1] - cy
    return np.stack([cx + dx * math.cos(t) + dy * math.sin(t),
                     cy - dx * math.sin(t) + dy * math.cos(t)], axis=1)


@dataclass
class Reading:
    """Words of every layout line, in reading order."""

    lines: list[list[int]]  # per line, word indices left to right
    n_lines: int
    skew: float
    seconds: float
    merged: int  # lines holding words of two text rows
    across: int  # lines (not table rows) holding words of two text-layer lines of one row

    def text(self, words: list[Word]) -> str:
        return "\n".join(" ".join(words[i].text for i in line) for line in self.lines if line)

    @property
    def junk(self) -> int:
        """Lines that hold no word: rule remnants, figure pieces, noise (read as garbage)."""
        return sum(1 for line in self.lines if not line)

    def covered(self) -> set[int]:
        return {i for line in self.lines for i in line}


def read_layout(layout: PageLayout, words: list[Word], net_angle: float, seconds: float,
                slack: float = 2.0) -> Reading:
    """Put each word into the first layout line whose box (grown by ``slack`` px) holds its centre."""
    pts = _turn(words, net_angle, layout.image.size)
    taken = np.zeros(len(words), dtype=bool)
    lines, merged, across = [], 0, 0
    med_h = float(np.median([w.h for w in words])) if words else 1.0
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        inside = ((pts[:, 0] >= x0 - slack) & (pts[:, 0] <= x1 + slack) & (pts[:, 1] >= y0 - slack)
                  & (pts[:, 1] <= y1 + slack) & ~taken)
        ids = np.flatnonzero(inside)
        taken[ids] = True
        ids = ids[np.argsort(pts[ids, 0], kind="stable")]
        if ids.size and np.ptp(pts[ids, 1]) > 0.8 * med_h:
            merged += 1
        elif not line.cells and len({words[i].row for i in ids}) > 1:
            across += 1  # two columns (or a table's cells) read as one line
        lines.append(ids.tolist())
    return Reading(lines, len(layout.lines), layout.skew_deg, seconds, merged, across)


def _lis_len(seq: list[int]) -> int:
    """Length of the longest strictly increasing subsequence (patience sorting)."""
    import bisect

    tails: list[int] = []
    for v in seq:
        k = bisect.bisect_left(tails, v)
        tails[k:k + 1] = [v]
    return len(tails)


def compare(clean: Reading, deg: Reading) -> tuple[int, int]:
    """(clean lines matched by a degraded line, order errors among the matched lines)."""
    owner = {}
    for k, line in enumerate(clean.lines):
        for i in line:
            owner[i] = k
    matched, order = set(), []
    for line in deg.lines:
        if not line:
            continue
        ks = [owner.get(i, -1) for i in line]
        k = max(set(ks), key=ks.count)
        if k >= 0 and k not in matched:
            ref = set(clean.lines[k])
            if len(ref & set(line)) >= 0.8 * max(len(ref), len(line)):
                matched.add(k)
                order.append(k)
    return len(matched), len(order) - _lis_len(order)


# ------------------------------------------------------------------------------------------------
# Degradations
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    """One way of degrading a page: scan ranges plus what print and scanner add."""

    params: scan.ScanParams
    extra: str = ""  # "", "bar", "sidebar", "border", "shaded", "zebra"
    min_angle: float = 0.0  # |rotation| drawn from [min_angle, max_rotation_deg]


CONDITIONS: dict[str, Condition] = {
    "scan": Condition(scan.SCAN),
    "brief": Condition(BRIEF, min_angle=1.5),
    "harsh": Condition(replace(scan.HARSH, bar_probability=0.0), min_angle=1.5),
    "bar": Condition(BRIEF, "bar", min_angle=1.0),
    "sidebar": Condition(BRIEF, "sidebar", min_angle=1.0),
    "border": Condition(BRIEF, "border", min_angle=1.0),
    "shaded": Condition(BRIEF, "shaded", min_angle=1.0),
    "zebra": Condition(BRIEF, "zebra", min_angle=1.0),
}


def _shade_boxes(a: np.ndarray, rng: random.Random, zebra: bool) -> np.ndarray:
    """Print a grey box under part of the text (``(H, W)`` or ``(H, W, 3)`` float page), or
    alternating shaded bands (a zebra table), multiplied in as a tint."""
    H, W = a.shape[:2]
    level = rng.uniform(0.72, 0.9)  # the tint's share of the paper's light
    if zebra:
        x0, x1 = round(W * rng.uniform(0.08, 0.15)), round(W * rng.uniform(0.5, 0.9))
        y = round(H * rng.uniform(0.3, 0.5))
        band = round(rng.uniform(0.012, 0.02) * H)
        for k in range(8):
            if k % 2 == 0:
                a[y + k * band:y + (k + 1) * band, x0:x1] *= level
        return a
    x0 = round(W * rng.uniform(0.05, 0.2))
    x1 = min(W, x0 + round(W * rng.uniform(0.3, 0.8)))
    y0 = round(H * rng.uniform(0.2, 0.6))
    y1 = min(H, y0 + round(H * rng.uniform(0.1, 0.3)))
    a[y0:y1, x0:x1] *= level
    return a


def _border(a: np.ndarray, rng: random.Random, angle: float) -> np.ndarray:
    """A scanner's grey border outside the (skewed) sheet: the lid's shadow and the glass beyond
    the paper's edge, on one to three sides, ``(H, W)`` float page."""
    H, W = a.shape[:2]
    inset = [round(rng.uniform(0.005, 0.03) * (W if k % 2 == 0 else H)) if rng.random() < 0.6 else 0
             for k in range(4)]  # left, top, right, bottom
    if not any(inset):
        inset[0] = round(0.02 * W)
    paper = Image.new("L", (W, H), 0)
    ImageDraw.Draw(paper).rectangle((inset[0], inset[1], W - 1 - inset[2], H - 1 - inset[3]), fill=255)
    paper = paper.rotate(angle * rng.uniform(-0.5, 0.5), resample=Image.Resampling.BILINEAR)
    m = np.asarray(paper.filter(ImageFilter.GaussianBlur(3)), dtype=np.float32) / 255.0  # (H, W)
    level = rng.uniform(60, 150)
    if a.ndim == 3:
        m = m[:, :, None]
    return a * m + level * (1 - m)


def margin_bar(words: list[Word], width: int, rng: random.Random) -> scan.Bar:
    """A solid coloured stripe in the page's left or right margin (found from the text layer's
    word extents), never over text: scan.py's stripes sit at fixed shares of the page width and
    cover text on narrow-margin pages (revtex), which would destroy the ground truth."""
    left = min(w.x0 for w in words) / width  # margins, shares of the page width
    right = 1 - max(w.x1 for w in words) / width
    side_left = left >= right if rng.random() < 0.5 else left > 0.04
    margin = left if side_left else right
    bar_w = min(rng.uniform(0.012, 0.035), max(0.004, margin - 0.012))
    gap = rng.uniform(0.004, max(0.005, margin - bar_w - 0.004))  # from the text
    x = (left - gap - bar_w) if side_left else (1 - right + gap)
    return scan.Bar("bar", max(0.0, x), bar_w, rng.uniform(0.0, 0.1), rng.uniform(0.85, 1.0),
                    rng.choice(scan.BAR_COLOURS))


def degrade_page(img: Image.Image, cond: Condition, rng: random.Random,
                 words: list[Word]) -> tuple[bytes, float]:
    """The scan-like page as a JPEG file's bytes, and the rotation it was given (degrees)."""
    d = scan.draw(cond.params, rng)
    sign = 1 if d.angle_deg >= 0 else -1
    angle = sign * (cond.min_angle + abs(d.angle_deg) * (cond.params.max_rotation_deg - cond.min_angle)
                    / max(cond.params.max_rotation_deg, 1e-9))
    bar = margin_bar(words, img.width, rng) if cond.extra == "bar" else None
    while cond.extra == "sidebar" and (bar is None or bar.kind != "sidebar"):
        bar = scan.draw(replace(cond.params, bar_probability=1.0), rng).bar
    d = replace(d, angle_deg=angle, bar=bar)
    a = np.asarray(img.convert("L"), dtype=np.float32)
    a = scan.fade_ink(a, d.contrast)
    if cond.extra in ("shaded", "zebra"):
        a = _shade_boxes(a, rng, cond.extra == "zebra")
    if d.bar is not None:
        a = scan.paint_bar(a, d.bar)
    page = Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    fill = 255 if page.mode == "L" else (255,) * 3
    page = page.rotate(d.angle_deg, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    page = page.filter(ImageFilter.GaussianBlur(radius=d.blur_sigma))
    a = np.asarray(page, dtype=np.float32)
    if cond.extra == "border":
        a = _border(a, rng, d.angle_deg)
    light = scan.illumination(a.shape[:2], d.falloff, d.falloff_direction_deg)
    a = a * (light if a.ndim == 2 else light[:, :, None])
    noise = np.random.default_rng(d.noise_seed).normal(0.0, d.noise_sigma, a.shape[:2])
    a = a + (noise if a.ndim == 2 else noise[:, :, None])
    out = Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    return scan.to_jpeg(out, d.jpeg_quality, DPI), d.angle_deg


def through_cli_pdf(jpeg: bytes, work: Path) -> Image.Image:
    """The page as the CLI reads an image-only PDF of it (the JPEG inside, pypdfium2 at 150 DPI)."""
    pdf = scan.image_pdf(jpeg, work / f"scan-{os.getpid()}.pdf", DPI)  # runs may overlap
    with PdfDocument(pdf) as doc:
        return doc.render(1, DPI)[0]


# ------------------------------------------------------------------------------------------------
# The run
# ------------------------------------------------------------------------------------------------

#: the layout under test (``--layout FILE`` swaps in another version of layout.py, e.g. the old one)
FIND_LINES: Callable[[Image.Image], PageLayout] = find_lines


def _load_layout(path: Path) -> Callable[[Image.Image], PageLayout]:
    """``find_lines`` of a standalone copy of layout.py (``git show REV:docencoder/ocr/layout.py``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("layout_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.find_lines


def _timed_layout(img: Image.Image) -> tuple[PageLayout, float]:
    t = time.perf_counter()
    layout = FIND_LINES(img)
    return layout, time.perf_counter() - t


@dataclass
class Row:
    page: str
    cond: str
    angle: float
    skew: float
    clean_lines: int
    lines: int
    matched: int
    order_errors: int
    merged: int
    junk: int  # lines holding no word (the clean page's in clean_junk)
    clean_junk: int
    words: int
    lost: int
    f1: float  # oracle text vs text layer
    ned: float  # oracle text vs the clean page's oracle text
    gt_ned: float  # oracle text vs the text layer (its order: not 0 for a right layout)
    across: int
    clean_f1: float
    clean_gt_ned: float
    clean_across: int
    clean_lost: int
    seconds: float
    read_f1: float = -1.0  # the model's reading of the degraded page (--read), else -1
    read_ned: float = -1.0
    clean_read_f1: float = -1.0
    clean_read_ned: float = -1.0


def _reader(enabled: bool):
    """``read_image`` of the shipped model with the layout under test, or None.

    The line reader calls ``find_lines`` from its own module, so the layout under test is put
    there (this process only).
    """
    if not enabled:
        return None
    import docencoder.ocr.line_reader as reader_module
    from docencoder import OCR

    reader_module.find_lines = lambda img, cfg=None: FIND_LINES(img)
    return OCR(text_layer="never").read_image


def run(pages: list[tuple[Path, int]], conds: list[str], work: Path, seed: int,
        dump: Optional[Path], read: bool = False) -> list[Row]:
    rows: list[Row] = []
    read_image = _reader(read)
    clean_secs: list[float] = []
    for pdf, index in pages:
        name = pdf.stem if index == 0 and "devset" in str(pdf) else f"{pdf.stem}-p{index + 1}"
        with PdfDocument(pdf) as doc:
            img = doc.render(index + 1, DPI)[0]
        words, gt = page_words(pdf, index, img.size)
        if len(words) < 20:
            continue
        layout, secs = _timed_layout(img)
        clean_secs.append(secs)
        clean = read_layout(layout, words, -layout.skew_deg, secs)
        clean_score = score_page(clean.text(words), gt)
        clean_f1 = clean_score.bow_f1
        clean_read = score_page(read_image(img), gt) if read_image else None
        for cond in conds:
            rng = random.Random(f"{seed}:{name}:{cond}")
            jpeg, angle = degrade_page(img, CONDITIONS[cond], rng, words)
            bad = through_cli_pdf(jpeg, work)
            layout, secs = _timed_layout(bad)
            deg = read_layout(layout, words, angle - layout.skew_deg, secs)
            matched, order = compare(clean, deg)
            text = deg.text(words)
            row = Row(name, cond, angle, layout.skew_deg, len(clean.lines), deg.n_lines, matched,
                      order, deg.merged, deg.junk, clean.junk, len(words), len(words) - len(deg.covered()),
                      score_page(text, gt).bow_f1,
                      score_page(text, clean.text(words)).ned, score_page(text, gt).ned,
                      deg.across, clean_f1, clean_score.ned, clean.across,
                      len(words) - len(clean.covered()), secs)
            if read_image:
                got = score_page(read_image(bad), gt)
                row = replace(row, read_f1=got.bow_f1, read_ned=got.ned,
                              clean_read_f1=clean_read.bow_f1, clean_read_ned=clean_read.ned)
                print(f"    read: F1 {got.bow_f1:.3f} NED {got.ned:.3f} (clean page F1 "
                      f"{clean_read.bow_f1:.3f} NED {clean_read.ned:.3f})", flush=True)
            rows.append(row)
            print(f"{name[:44]:44s} {cond:8s} {angle:+5.2f} {row.skew:+5.2f} "
                  f"lines {row.matched:3d}/{row.clean_lines:3d} ({row.lines:3d}) order {order:3d} "
                  f"merged {deg.merged:2d} junk {deg.junk:3d}/{clean.junk:3d} lost {row.lost:4d}/{row.words:4d} F1 {row.f1:.3f} "
                  f"(clean {clean_f1:.3f}) NED {row.ned:.3f} gtNED {row.gt_ned:.3f} "
                  f"(clean {row.clean_gt_ned:.3f}) across {deg.across}/{clean.across} {secs:.2f}s", flush=True)
            if dump is not None and (row.f1 < clean_f1 - 0.05 or row.ned > 0.1):
                dump.mkdir(parents=True, exist_ok=True)
                bad.save(dump / f"{name}--{cond}.png")
    print(f"\nclean pages: {len(clean_secs)}, layout {np.mean(clean_secs):.3f} s/page")
    return rows


def summarize(rows: list[Row]) -> None:
    print(f"{'cond':8s} {'pages':>5s} {'matched':>8s} {'order':>6s} {'merged':>6s} {'junk':>5s} "
          f"{'clean':>5s} {'lost%':>6s} "
          f"{'clean%':>6s} {'F1':>6s} {'cleanF1':>7s} {'NED':>6s} {'gtNED':>6s} {'clean':>6s} "
          f"{'across':>6s} {'clean':>5s} {'worstF1':>7s} {'s/page':>6s}")
    for cond in dict.fromkeys(r.cond for r in rows):
        rs = [r for r in rows if r.cond == cond]
        print(f"{cond:8s} {len(rs):5d} {sum(r.matched for r in rs) / sum(r.clean_lines for r in rs):8.3f} "
              f"{sum(r.order_errors for r in rs):6d} {sum(r.merged for r in rs):6d} "
              f"{sum(r.junk for r in rs):5d} {sum(r.clean_junk for r in rs):5d} "
              f"{100 * sum(r.lost for r in rs) / sum(r.words for r in rs):6.2f} "
              f"{100 * sum(r.clean_lost for r in rs) / sum(r.words for r in rs):6.2f} "
              f"{np.mean([r.f1 for r in rs]):6.3f} {np.mean([r.clean_f1 for r in rs]):7.3f} "
              f"{np.mean([r.ned for r in rs]):6.3f} {np.mean([r.gt_ned for r in rs]):6.3f} "
              f"{np.mean([r.clean_gt_ned for r in rs]):6.3f} {sum(r.across for r in rs):6d} "
              f"{sum(r.clean_across for r in rs):5d} {min(r.f1 for r in rs):7.3f} "
              f"{np.mean([r.seconds for r in rs]):6.3f}")
        if rs[0].read_f1 >= 0:
            print(f"{'':8s} read by the model: F1 {np.mean([r.read_f1 for r in rs]):.3f} NED "
                  f"{np.mean([r.read_ned for r in rs]):.3f}; clean pages F1 "
                  f"{np.mean([r.clean_read_f1 for r in rs]):.3f} NED "
                  f"{np.mean([r.clean_read_ned for r in rs]):.3f}")


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path("/tmp/docencoder-layout-scans"),
                    help="where typeset papers and scratch files go")
    ap.add_argument("--only", default=",".join(CONDITIONS), help="conditions, comma-separated")
    ap.add_argument("--limit", type=int, default=0, help="at most this many dev pages (0 = all)")
    ap.add_argument("--no-devset", action="store_true", help="typeset papers only")
    ap.add_argument("--no-typeset", action="store_true", help="dev pages only")
    ap.add_argument("--match", default="", help="only pages whose name contains this")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dump", type=Path, default=None, help="save degraded pages that failed here")
    ap.add_argument("--json", type=Path, default=None, help="write every row as JSON lines")
    ap.add_argument("--read", action="store_true",
                    help="also read every page with the shipped model (slow) and score the text")
    ap.add_argument("--cfg", action="append", default=[],
                    help="a LayoutConfig field, NAME=VALUE (repeatable): for ablations")
    ap.add_argument("--layout", type=Path, default=None,
                    help="a copy of layout.py to measure instead of the package's")
    args = ap.parse_args(argv)
    global FIND_LINES
    if args.layout:
        FIND_LINES = _load_layout(args.layout)
    if args.cfg:
        fields = {k: float(v) for k, v in (kv.split("=", 1) for kv in args.cfg)}
        module = sys.modules[FIND_LINES.__module__]
        cfg = module.LayoutConfig(**{k: type(getattr(module.LayoutConfig(), k))(v)
                                     for k, v in fields.items()})
        plain = FIND_LINES
        FIND_LINES = lambda img: plain(img, cfg)  # noqa: E731
    pages: list[tuple[Path, int]] = []
    if not args.no_typeset:
        pages += typeset_pages(args.work / "tex-outline", args.seed)
    if not args.no_devset:
        dev = sorted((ROOT / "data/devset/pages").glob("*.pdf"))
        pages += [(p, 0) for p in (dev[::max(1, len(dev) // args.limit)] if args.limit else dev)]
    pages = [(p, i) for p, i in pages if args.match in p.stem]
    rows = run(pages, args.only.split(","), args.work, args.seed, args.dump, args.read)
    print()
    summarize(rows)
    if args.json:
        args.json.write_text("".join(json.dumps(asdict(r)) + "\n" for r in rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
