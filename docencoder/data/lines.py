"""Text-line images: the one normalisation shared by training and inference, and a fast generator.

The shipped model reads one text line at a time, 32 px high and up to 512 px wide. Whatever makes
a line crop — the synthetic renderer below, PDF-derived labels, the OCR pipeline's layout step —
passes it through :func:`normalize_line` (or :func:`split_line` for long lines), so the model sees
text at the same scale and margins in training and at inference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from .degrade import degrade, scan_like
from .fonts import Font, available_fonts
from .tokenizer import normalize_text
from .vocab import RandomText

LINE_HEIGHT = 32
LINE_WIDTH = 512
#: white margin above/below (and left/right of) the ink box, as a fraction of the ink height
MARGIN = 0.15
#: a pixel is ink when darker than this fraction between the crop's lightest and darkest value
_INK_LEVEL = 0.5
#: grey levels of :attr:`LineGeneratorConfig.grey_prob`'s ink: dark grey to pale link colours.
#: A grey run of words beside black ones stays darker than 150, which :func:`ink_mask` still
#: finds (paler words would be cropped off while the label keeps them)
GREY_INK = (60, 170)
GREY_WORD_INK = (60, 150)
#: a pale word's darkest 3 x 3 mean lies below this level (grey-130 strokes on white: 0.69-0.73;
#: clusters of scan noise: 0.82 and lighter)
_PALE_CORE_LEVEL = 0.78
#: a word whose darkest pixel is lighter than this is grey ink, even where a few of its pixels
#: pass the halfway mark (grey links on a faded scan: 0.49; black words: near 0)
_PALE_DARKEST = 0.35
#: pale ink (grey links beside black text): darker than this fraction from darkest ink to paper
_PALE_LEVEL = 0.75
#: the level at which pale words are found in the crop's 3 x 3 mean (thin strokes lighten there)
_PALE_FIND_LEVEL = 0.85
#: pale pixels a column run needs to count as letters rather than noise
_PALE_MIN_PIXELS = 6
#: share of a pale word's box its found pixels fill at least
_PALE_MIN_DENSITY = 0.15


def _gray(img: Image.Image) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.uint8)


def _percentile_90(a: np.ndarray) -> float:
    """``np.percentile(a, 90)`` (linear interpolation, same arithmetic) from a partial sort.

    ``np.percentile`` spends ~4x the time of the partition itself on argument handling, and
    every line piece, at training and inference, takes one.
    """
    v = a.ravel()
    q = 0.9 * (v.size - 1)
    i = int(q)
    j = min(i + 1, v.size - 1)
    part = np.partition(v, [i, j]) if j > i else np.partition(v, i)
    lo, hi, t = float(part[i]), float(part[j]), q - i
    # numpy's _lerp: from the nearer end, so that t = 0 and t = 1 give the ends exactly
    return hi - (hi - lo) * (1 - t) if t >= 0.5 else lo + (hi - lo) * t


def ink_mask(a: np.ndarray) -> np.ndarray:
    """Boolean ink mask of a grayscale array: adaptive threshold between paper and darkest ink.

    A pixel is ink when darker than halfway from the paper to the darkest ink. That alone drops
    *pale words* beside black ones -- grey-blue hyperlinks (grey ~130 on white) next to black
    body text sit just above the halfway mark -- so the ink box cropped them away and the line
    read ``URL .`` while its label kept the link. Words that hold no ink at the halfway
    mark but solid ink at a looser level (:data:`_PALE_LEVEL`), as tall as letters, are added
    (:func:`_pale_words`). A line of dark ink only gets exactly the halfway mask.
    """
    lo, hi = int(a.min()), int(_percentile_90(a))
    if hi - lo < 40:  # no contrast: blank (or a solid block)
        return np.zeros_like(a, dtype=bool)
    strict = a < lo + _INK_LEVEL * (hi - lo)
    pale = _pale_words(a, strict, lo, hi)
    return strict if pale is None else strict | pale


def _pale_words(a: np.ndarray, strict: np.ndarray, lo: int, hi: int) -> np.ndarray | None:
    """The pale-ink pixels of words without strict ink, or None.

    Pale pixels are those darker than :data:`_PALE_LEVEL` of the way from the darkest ink
    ``lo`` to the paper ``hi``. Where they form words is found in a 3 x 3 mean of the crop,
    darker than :data:`_PALE_FIND_LEVEL`: the mean divides scan noise by three, so speckled paper
    never forms "words", and the looser level keeps thin grey strokes that the mean lightens.
    Columns of such ink are grouped into words (gaps under a fifth of the strict ink's height,
    less than :func:`word_segments`' word space, join). A word counts when none of its columns
    holds strict ink (so the halo of dark letters never counts), it spans at least 0.4 x the
    strict ink's height (letters, not a hairline rule), has at least :data:`_PALE_MIN_PIXELS`
    pixels filling :data:`_PALE_MIN_DENSITY` of its box (letters: 0.24-1; noise: under 0.12)
    and a core darker than :data:`_PALE_CORE_LEVEL` in the mean (strokes: noise clusters
    and a paper shade are lighter there). Its pale pixels within those columns and rows are ink.
    """
    pale = a < lo + _PALE_LEVEL * (hi - lo)
    col_strict = strict.any(0)  # (W,)
    if not (pale.any(0) & ~col_strict).any():
        return None
    smooth = np.asarray(Image.fromarray(a).filter(ImageFilter.BoxBlur(1)))  # (H, W) 3 x 3 mean
    found = smooth < lo + _PALE_FIND_LEVEL * (hi - lo)
    col_found = found.any(0)  # (W,)
    if not (col_found & ~col_strict).any():
        return None
    rows = np.flatnonzero(strict.any(1))
    ink_h = int(rows[-1] - rows[0] + 1) if rows.size else a.shape[0]
    join_gap, min_rows = max(2, round(0.2 * ink_h)), max(3, round(0.4 * ink_h))
    cols = np.flatnonzero(col_found)
    # words: runs of found columns split where the gap is join_gap or wider
    starts = np.concatenate(([0], np.flatnonzero(np.diff(cols) > join_gap) + 1))  # (n_words,)
    ends = np.concatenate((starts[1:], [cols.size]))  # (n_words,) exclusive, into cols
    # a word's columns in cols hold any strict ink: a mean darker than the loose level
    # surrounds every strict pixel
    has_strict = np.add.reduceat(col_strict[cols].astype(np.int32), starts) > 0  # (n_words,)
    # per word: its box, and whether it is pale ink on its own (strong) or only beside such
    # a word (weak: thin grey strokes that a scan faded and blurred to little more than noise)
    boxes: list[tuple[int, int, int, int] | None] = []
    strong: list[bool] = []
    for i in range(len(starts)):
        x0, x1 = int(cols[starts[i]]), int(cols[ends[i] - 1]) + 1
        run_rows = np.flatnonzero(found[:, x0:x1].any(1))
        y0, y1 = int(run_rows[0]), int(run_rows[-1]) + 1
        n = int(found[y0:y1, x0:x1].sum())
        # a grey word on a scan can dip below the halfway mark in a few pixels; a black word
        # reaches near the darkest ink
        grey = not has_strict[i] or int(a[y0:y1, x0:x1].min()) > lo + _PALE_DARKEST * (hi - lo)
        if not grey or y1 - y0 < min_rows or n < _PALE_MIN_PIXELS:
            boxes.append(None)
            strong.append(False)
            continue
        boxes.append((x0, x1, y0, y1))
        solid = n >= _PALE_MIN_DENSITY * (y1 - y0) * (x1 - x0)
        strong.append(solid and int(smooth[y0:y1, x0:x1].min()) <= lo + _PALE_CORE_LEVEL * (hi - lo))
    keep = _beside_strong(boxes, strong, link_gap=max(3, ink_h))
    out = np.zeros_like(pale)
    for box, is_strong, kept in zip(boxes, strong, keep):
        if box is not None and kept:
            x0, x1, y0, y1 = box
            out[y0:y1, x0:x1] = pale[y0:y1, x0:x1] if is_strong else (pale | found)[y0:y1, x0:x1]
    return out if out.any() else None


def _beside_strong(boxes: Sequence[tuple[int, int, int, int] | None], strong: Sequence[bool],
                   link_gap: int) -> list[bool]:
    """Which words to keep: the strong ones and, spreading left and right, every candidate word
    (a box) within ``link_gap`` columns of a kept one. A non-candidate (strict ink, a speck)
    stops the spread, so a line without a strong pale word keeps nothing."""
    keep = list(strong)
    for order in (range(len(boxes)), range(len(boxes) - 1, -1, -1)):
        prev: int | None = None  # the last word visited in this direction, if kept
        for i in order:
            box = boxes[i]
            if box is None:
                prev = None
                continue
            if not keep[i] and prev is not None:
                near = boxes[prev]
                gap = box[0] - near[1] if near[1] <= box[0] else near[0] - box[1]
                keep[i] = gap <= link_gap
            prev = i if keep[i] else None
    return keep


def ink_box(a: np.ndarray, mask: np.ndarray | None = None) -> tuple[int, int, int, int] | None:
    """`(y0, y1, x0, x1)` (inclusive) of the ink, ignoring isolated specks; None if blank.

    ``mask``: ``ink_mask(a)`` when the caller has it (it also wants :func:`word_segments`).
    """
    mask = ink_mask(a) if mask is None else mask
    rows = np.flatnonzero(np.count_nonzero(mask, axis=1) >= 2)
    cols = np.flatnonzero(mask.any(0))
    if rows.size == 0 or cols.size == 0:
        return None
    return int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])


def _crop_padded(a: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Crop rows y0..y1-1, cols x0..x1-1, padding with white where the box leaves the image."""
    H, W = a.shape
    out = np.full((y1 - y0, x1 - x0), 255, dtype=np.uint8)
    sy0, sy1, sx0, sx1 = max(0, y0), min(H, y1), max(0, x0), min(W, x1)
    out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = a[sy0:sy1, sx0:sx1]
    return out


def normalize_line(img: Image.Image, height: int = LINE_HEIGHT, width: int = LINE_WIDTH) -> Image.Image:
    """A loose crop of one text line -> `height x width` grayscale, text left-aligned on white.

    The ink box plus a margin of ``MARGIN`` x its height is scaled to ``height``; the rest of the
    width is white. Blank crops give a white image (the model reads them as empty).

    Raises:
        ValueError: if the scaled line is wider than ``width`` (use :func:`split_line`).
    """
    a = _gray(img)
    box = ink_box(a)
    canvas = Image.new("L", (width, height), 255)
    if box is None:
        return canvas
    y0, y1, x0, x1 = box
    m = max(1, round(MARGIN * (y1 - y0 + 1)))
    crop = _crop_padded(a, y0 - m, y1 + 1 + m, x0 - m, x1 + 1 + m)
    new_w = max(1, round(crop.shape[1] * height / crop.shape[0]))
    if new_w > width:
        raise ValueError(f"line is {new_w} px wide at height {height}, more than {width}: split it")
    canvas.paste(Image.fromarray(crop).resize((new_w, height), Image.Resampling.BICUBIC), (0, 0))
    return canvas


def word_segments(a: np.ndarray, box: tuple[int, int, int, int],
                  min_gap_ratio: float = 0.25, mask: np.ndarray | None = None) -> list[tuple[int, int]]:
    """Column spans `(x0, x1)` (x1 exclusive) of the ink runs separated by word-sized gaps.

    A gap is a run of ink-free columns at least ``min_gap_ratio`` x the ink height wide (a word
    space is about a third of the type size; letter gaps are far smaller). ``mask``:
    ``ink_mask(a)`` when the caller has it.
    """
    y0, y1, x0, x1 = box
    col_ink = (ink_mask(a) if mask is None else mask)[y0:y1 + 1].any(0)
    min_gap = max(2, round((y1 - y0 + 1) * min_gap_ratio))
    spans, start, run = [], x0, 0
    for x in range(x0, x1 + 1):
        if not col_ink[x]:
            run += 1
            continue
        if run >= min_gap and x - run > start:
            spans.append((start, x - run))
            start = x
        run = 0
    spans.append((start, x1 + 1))
    return spans


def _box_scale(box: tuple[int, int, int, int], height: int) -> tuple[int, float]:
    """Margin (px) and scale factor that :func:`normalize_line` applies to an ink box."""
    ink_h = box[1] - box[0] + 1
    m = max(1, round(MARGIN * ink_h))
    return m, height / (ink_h + 2 * m)


def max_piece_ink(box: tuple[int, int, int, int], height: int, width: int) -> int:
    """Widest ink run, in source pixels, that fits a ``height x width`` piece with its margins."""
    m, scale = _box_scale(box, height)
    return int(width / scale) - 2 * m - 2


def crop_span(a: np.ndarray, box: tuple[int, int, int, int], x0: int, x1: int) -> Image.Image:
    """The columns ``x0:x1`` of a line, over the whole line's ink rows plus margins."""
    y0, y1 = box[0], box[1]
    m, _ = _box_scale(box, LINE_HEIGHT)
    return Image.fromarray(_crop_padded(a, y0 - m, y1 + 1 + m, x0 - m, x1 + m))


def piece_spans(segments: Sequence[tuple[int, int]], max_src: int) -> list[tuple[int, int]]:
    """Column spans of the pieces a line's ink ``segments`` are packed into, each <= ``max_src``.

    A piece ends at the widest gap of its second half (the furthest of those nearly as wide),
    not merely at the last gap that fits; a segment wider than ``max_src`` is cut hard.
    """
    segs: list[tuple[int, int]] = []
    for s, e in segments:
        while e - s > max_src:  # an over-long "word": hard cuts
            segs.append((s, s + max_src))
            s += max_src
        segs.append((s, e))
    pieces, i = [], 0
    while i < len(segs):
        start, j = segs[i][0], i
        while j + 1 < len(segs) and segs[j + 1][1] - start <= max_src:
            j += 1
        if j + 1 < len(segs):  # the line goes on: end at a wide gap, not merely the last one
            ends = [k for k in range(i, j + 1) if segs[k][1] - start >= max_src // 2] or [j]
            gap = {k: segs[k + 1][0] - segs[k][1] for k in ends}
            widest = max(gap.values())
            j = max(k for k in ends if gap[k] >= 0.8 * widest)
        pieces.append((start, segs[j][1]))
        i = j + 1
    return pieces


def split_line(img: Image.Image, height: int = LINE_HEIGHT, width: int = LINE_WIDTH) -> list[Image.Image]:
    """Cut a line crop at word gaps into pieces that each fit ``width``; normalised, left to right.

    A piece ends at the widest gap of its second half (:func:`piece_spans`): in typewriter type
    the gap beside a narrow letter (``l``, ``i``) is as wide as a small word space, and ending at
    the last gap that fits cut words like ``(Hilbert`` in two. A "word" wider than a whole piece
    is cut hard at the limit.
    """
    a = _gray(img)
    mask = ink_mask(a)
    box = ink_box(a, mask)
    if box is None:
        return [Image.new("L", (width, height), 255)]
    max_src = max_piece_ink(box, height, width)
    x0, x1 = box[2], box[3]
    if x1 - x0 + 1 <= max_src:
        return [normalize_line(img, height, width)]
    pieces = piece_spans(word_segments(a, box, mask=mask), max_src)
    out = []
    for s, e in pieces:
        piece = crop_span(a, box, s, e)
        try:
            out.append(normalize_line(piece, height, width))
        except ValueError:  # the piece's own ink box is flatter than the line's: shrink to fit
            out.append(squeeze_line(piece, height, width))
    return out


def squeeze_line(img: Image.Image, height: int, width: int) -> Image.Image:
    """The whole crop scaled to ``height``, squeezed horizontally to at most ``width``.

    The last resort for a crop whose ink box is so flat (a rule, a dash) that
    :func:`normalize_line` would scale it wider than ``width``.
    """
    canvas = Image.new("L", (width, height), 255)
    w = min(width, max(1, round(img.width * height / img.height)))
    canvas.paste(img.convert("L").resize((w, height), Image.Resampling.BICUBIC), (0, 0))
    return canvas


def sample_words(img: Image.Image, text: str, rng: random.Random, height: int = LINE_HEIGHT,
                 width: int = LINE_WIDTH) -> tuple[Image.Image, str] | None:
    """A random run of whole words from a labelled line crop, normalised, with its exact text.

    Long real lines do not fit one 512-px piece; when the word gaps found in the pixels match the
    words of the label one to one, any run of consecutive words has a known image and text.
    Returns None when they do not match (the label cannot be aligned safely).
    """
    a = _gray(img)
    mask = ink_mask(a)
    box = ink_box(a, mask)
    words = text.split()
    if box is None or not words:
        return None
    spans = word_segments(a, box, min_gap_ratio=0.2, mask=mask)
    if len(spans) != len(words):
        return None
    max_src = max_piece_ink(box, height, width)
    i = rng.randrange(len(words))
    j = i + 1
    if spans[i][1] - spans[i][0] > max_src:
        return None
    while j < len(words) and spans[j][1] - spans[i][0] <= max_src:
        j += 1
    if j - i > 1 and rng.random() < 0.25:  # sometimes shorter pieces, as line ends are
        j = rng.randint(i + 1, j)
    piece = crop_span(a, box, spans[i][0], spans[j - 1][1])
    try:
        return normalize_line(piece, height, width), " ".join(words[i:j])
    except ValueError:
        return None


def to_tensor(images: Sequence[Image.Image]) -> torch.Tensor:
    """Grayscale line images -> `(B, 3, H, W)` float in [-1, 1] (white = 1)."""
    arr = np.stack([_gray(im) for im in images]).astype(np.float32)  # (B, H, W)
    t = torch.from_numpy(arr).div_(127.5).sub_(1.0)  # (B, H, W)
    return t.unsqueeze(1).expand(-1, 3, -1, -1).contiguous()  # (B, 3, H, W)


# ------------------------------------------------------------------------------------------------
# Synthetic line generator
# ------------------------------------------------------------------------------------------------

_GREEK = "αβγδεθλμπσφψωΔΣΩ"
_OPS = ["=", "+", "-", "×", "≤", "≥", "≈", "/", "·"]


def synthetic_snippet(rng: random.Random) -> str:
    """Non-prose content whitepapers are full of: numbers, equations, references, headings."""
    kind = rng.randrange(7)

    def num() -> str:
        return rng.choice([str(rng.randint(0, 2025)), f"{rng.uniform(0, 100):.{rng.randint(1, 3)}f}",
                           f"{rng.uniform(0, 1):.2f}", f"{rng.randint(1, 999)}%"])

    if kind == 0:  # table row
        return "  ".join(num() for _ in range(rng.randint(2, 6)))
    if kind == 1:  # equation-like
        def v() -> str:
            return rng.choice(["x", "y", "z", "n", "k", "f(x)", "L", "W", "h_t", "p(y|x)",
                               rng.choice(_GREEK)])

        terms = [v() for _ in range(rng.randint(2, 5))]
        eq = f" {rng.choice(_OPS)} ".join(terms)
        return f"{v()} = {eq}" + (f"    ({rng.randint(1, 40)})" if rng.random() < 0.5 else "")
    if kind == 2:  # reference
        name = rng.choice(["A. Smith", "J. Chen", "M. Garcia", "K. Müller", "Y. Tanaka", "R. Kumar"])
        return f"[{rng.randint(1, 60)}] {name}, et al. Proc. {rng.choice(['ICML', 'NeurIPS', 'CVPR', 'ACL'])} {rng.randint(1995, 2025)}, pp. {rng.randint(1, 900)}-{rng.randint(900, 999)}."
    if kind == 3:  # numbered heading
        return f"{rng.randint(1, 9)}.{rng.randint(1, 9)} " + rng.choice(
            ["Introduction", "Related Work", "Method", "Experiments", "Results", "Discussion",
             "Conclusion", "Training Details", "Ablation Study", "Evaluation Protocol"])
    if kind == 4:  # caption
        return f"{rng.choice(['Figure', 'Table', 'Fig.'])} {rng.randint(1, 12)}: " + rng.choice(
            ["Accuracy against model size.", "Results on the test set.", "Overview of the system.",
             "Ablation of the compression ratio.", "Comparison with prior work."])
    if kind == 5:  # url / identifier
        return rng.choice(["https://", "doi:10.", "arXiv:"]) + "".join(
            rng.choice("abcdefghijklmnopqrstuvwxyz0123456789./-") for _ in range(rng.randint(8, 30)))
    return str(rng.randint(1, 400))  # page number


_IDENT_PARTS = ["x", "y", "n", "i", "k", "df", "fit", "data", "model", "value", "size", "buf", "len",
                "tmp", "res", "opts", "path", "node", "list", "matrix", "count", "name", "key", "err"]


def _ident(rng: random.Random) -> str:
    parts = [rng.choice(_IDENT_PARTS) for _ in range(rng.randint(1, 3))]
    return rng.choice(["_", "", "."]).join(parts) if len(parts) > 1 else parts[0]


#: code-line forms of C, Python, R, shell and plotting languages: (rng, ident, ident, ident, number)
_CODE_FORMS: tuple[Callable[[random.Random, str, str, str, str], str], ...] = (
    lambda r, a, b, c, n: f"{a} = {b}({c}, {n});",
    lambda r, a, b, c, n: f"for (int {a} = 0; {a} < {b}; {a}++) {{",
    lambda r, a, b, c, n: f"def {a}({b}, {c}={n}):",
    lambda r, a, b, c, n: f"{a} <- {r.choice(['lm', 'glm', 'fit', 'c', 'list'])}({b} ~ {c}, data = {_ident(r)})",
    lambda r, a, b, c, n: (f"$ {r.choice(['make', 'gcc', 'R CMD', 'mpiexec', 'gnuplot', 'octave'])} "
                           f"-{r.choice('cnoOvI')} {a} --{b.replace('.', '-')}={n}"),
    lambda r, a, b, c, n: f"#include <{a.replace('.', '_')}.h>",
    lambda r, a, b, c, n: f"draw(({n},{r.randint(0, 9)})--({b},{c}), {r.choice(['red', 'blue', 'dashed'])});",
    lambda r, a, b, c, n: f"if ({a} != NULL && {b}[{n}] >= {c}) return -1;",
    lambda r, a, b, c, n: f">>> {a}.{r.choice(['append', 'get', 'split', 'format'])}('{b}')",
    lambda r, a, b, c, n: f"{a}[{n}] = {b} * {c} + {r.uniform(0, 10):.{r.randint(1, 4)}f}; // {b}",
)


def output_snippet(rng: random.Random, max_chars: int) -> str:
    """One line of program output as manuals print it in typewriter type: rules drawn with
    characters, dot/star patterns, vectors and matrices of small integers, key = value lines,
    columns of floats.

    Why: on such lines (normaliz, MrBayes and gri manuals) the model, knowing only prose, code and
    a few equations, read a row of asterisks as "x × y ≤ y" and a typewriter 0 as θ.
    """
    def small() -> str:
        return str(rng.choice([0, 0, 0, 1, 1, -1, 2, 3, 4, rng.randint(-20, 99)]))

    kind = rng.randrange(6)
    if kind == 0:  # a rule of one character
        return rng.choice("*=-_#~+.") * rng.randint(3, max(3, max_chars))
    if kind == 1:  # a numbered dot/star pattern (e.g. bipartitions)
        n = rng.randint(6, 24)
        return f"{rng.randint(1, 99)} {rng.choice(['-- ', '| ', ': ', ''])}" + "".join(
            rng.choice(".*") if rng.random() < 0.7 else rng.choice(".*-o#") for _ in range(n))
    if kind == 2:  # a vector of vectors
        vecs = [", ".join(small() for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(1, 5))]
        return "[" + ", ".join(f"[{v}]" for v in vecs) + "]"
    if kind == 3:  # a matrix row
        return " ".join(small() for _ in range(rng.randint(2, 12)))
    if kind == 4:  # key = value
        key = " ".join(rng.choice(_IDENT_PARTS + ["dimension", "rank", "index", "sum", "size",
                                                  "rays", "basis", "elements", "degree"])
                       for _ in range(rng.randint(1, 4)))
        return f"{key} {rng.choice(['=', ':', '->'])} {small()}"
    return " ".join(f"{rng.uniform(-100, 1000):.{rng.randint(1, 6)}f}" for _ in range(rng.randint(2, 6)))


def code_snippet(rng: random.Random) -> str:
    """One line of code as manuals print it (see ``_CODE_FORMS``).

    Manuals and papers set code in typewriter type; measured on real lines, code (with its
    brackets, operators and underscores) was the model's most common failure.
    """
    a, b, c = _ident(rng), _ident(rng), _ident(rng)
    num = str(rng.choice([0, 1, 2, 10, 100, rng.randint(0, 999)]))
    return rng.choice(_CODE_FORMS)(rng, a, b, c, num)


#: how often each look-alike class is drawn: whitepapers are mostly Computer Modern and Times
KIND_WEIGHTS = {"computer-modern": 0.3, "times": 0.25, "helvetica": 0.12, "palatino": 0.1,
                "libertine": 0.1, "bookman": 0.03, "monospace": 0.1}


def kind_weights(monospace: float | None = None) -> dict[str, float]:
    """Face-class sampling weights: KIND_WEIGHTS with the typewriter share set to ``monospace``."""
    if monospace is None:
        return dict(KIND_WEIGHTS)
    if not 0.0 <= monospace <= 1.0:
        raise ValueError(f"monospace_weight must be in [0, 1], got {monospace}")
    others = {k: w for k, w in KIND_WEIGHTS.items() if k != "monospace"}
    total = sum(others.values())
    return {**{k: w / total * (1.0 - monospace) for k, w in others.items()}, "monospace": monospace}


@dataclass
class LineGeneratorConfig:
    """Sampling ranges of the synthetic line renderer."""

    height: int = LINE_HEIGHT
    width: int = LINE_WIDTH
    min_pt: float = 7.0  # font size range, points
    max_pt: float = 14.0
    min_dpi: int = 100  # render resolution range (the line is drawn at native resolution,
    max_dpi: int = 300  #   then scaled like a line cut from a page rendered at that DPI)
    degrade_prob: float = 0.35  # fraction of lines with scan degradations
    synthetic_prob: float = 0.15  # fraction of non-prose snippets (numbers, equations, ...)
    code_prob: float = 0.5  # fraction of typewriter-font lines that are code
    output_prob: float = 0.35  # fraction of those "code" lines that are program output instead
    mixed_prob: float = 0.3  # fraction of prose lines with some words in typewriter/italic/bold
    #: fraction of non-code lines of unpredictable text (random rare words, names, identifiers,
    #: addresses, letter strings: :class:`~docencoder.data.vocab.RandomText`), which the decoder
    #: can only read, not guess from context
    random_prob: float = 0.0
    #: share of lines in a typewriter face (None = its weight in KIND_WEIGHTS); the other faces
    #: keep their relative weights. Code and program output are where reading errs most
    monospace_weight: float | None = None
    #: share of the degraded lines that get the whole page-scan chain at once
    #: (:func:`~docencoder.data.degrade.scan_like`) instead of a random subset of effects
    scan_share: float = 0.0
    #: fraction of lines with grey ink: the whole line, or a run of words beside black ones (grey
    #: hyperlinks, tinted terms); drawn at a grey level in :data:`GREY_INK`
    grey_prob: float = 0.0
    styles: tuple[str, ...] = field(default=("regular", "regular", "regular", "bold", "italic"))


class LineGenerator:
    """Renders random corpus snippets as normalised line images with their exact text.

    Text is drawn with PIL/FreeType at the pixel size of ``pt`` at ``dpi`` and then normalised,
    so small text at low DPI reaches the model as blurry as it does from a rendered page.
    """

    def __init__(self, corpus: Sequence[str], cfg: LineGeneratorConfig | None = None,
                 fonts: Sequence[Font] | None = None) -> None:
        self.corpus = corpus
        self.cfg = cfg or LineGeneratorConfig()
        self.kind_weights = kind_weights(self.cfg.monospace_weight)
        self.fonts = list(fonts or available_fonts())
        self._font_cache: dict[tuple[str, int], ImageFont.FreeTypeFont] = {}
        self._random: RandomText | None = RandomText() if self.cfg.random_prob > 0 else None

    def _font(self, font: Font, px: int) -> ImageFont.FreeTypeFont:
        key = (str(font.path), px)
        if key not in self._font_cache:
            self._font_cache[key] = ImageFont.truetype(str(font.path), px)
        return self._font_cache[key]

    def _text(self, rng: random.Random, max_chars: int, code: bool = False) -> str:
        # labels are single-spaced, as real text-layer labels and the reader's output are
        if code:
            if rng.random() < self.cfg.output_prob:
                return " ".join(output_snippet(rng, max_chars)[:max_chars].split())
            return " ".join(code_snippet(rng) for _ in range(3))[:max_chars].rstrip()
        if self._random is not None and rng.random() < self.cfg.random_prob:
            return self._random.line(rng, max_chars)
        if rng.random() < self.cfg.synthetic_prob:
            return " ".join(synthetic_snippet(rng)[:max_chars].split())
        i = rng.randrange(len(self.corpus))
        words = self.corpus[i].split(" ")
        words = words[rng.randrange(len(words)):]
        while len(words) < 40:  # continue into the next paragraph, as running text does
            i = (i + 1) % len(self.corpus)
            words += self.corpus[i].split(" ")
        target = max_chars if rng.random() < 0.75 else rng.randint(1, max_chars)
        out, n = [], 0
        for w in words:
            if n + len(w) + 1 > target and out:
                break
            out.append(w)
            n += len(w) + 1
        return " ".join(out)[:max(max_chars, 1)]

    def _word_fonts(self, rng: random.Random, font: Font, n_words: int) -> list[Font]:
        """Per-word fonts of a mixed line: runs of typewriter (inline code) or emphasis words."""
        fonts = [font] * n_words
        mono = [f for f in self.fonts if f.kind == "monospace" and f.style == "regular"]
        same = {f.style: f for f in self.fonts if f.family == font.family}
        alternates = [f for f in (mono[0] if mono else None, same.get("italic"), same.get("bold"))
                      if f is not None]
        if not alternates:
            return fonts
        for _ in range(rng.randint(1, 3)):
            start = rng.randrange(n_words)
            alt = rng.choice(alternates)
            for j in range(start, min(n_words, start + rng.randint(1, 3))):
                fonts[j] = alt
        return fonts

    def sample(self, rng: random.Random, width: int | None = None) -> tuple[Image.Image, str]:
        """One `(normalised line image, text)` pair, ``height x width`` (default: the config's).

        The text is drawn to fill about ``width`` (a quarter of lines are shorter, as line ends
        are), so narrow batches of the dynamic-width model hold narrow lines, not clipped ones.
        Typewriter lines are code half the time; some prose lines set a few words in typewriter,
        italic or bold type, as inline code and emphasis are in manuals and papers.
        """
        c = self.cfg
        width = width or c.width
        kind = rng.choices(list(self.kind_weights), weights=list(self.kind_weights.values()))[0]
        style = rng.choice(c.styles)
        font = rng.choice([f for f in self.fonts if f.kind == kind and f.style == style]
                          or [f for f in self.fonts if f.kind == kind] or self.fonts)
        px = max(6, round(rng.uniform(c.min_pt, c.max_pt) * rng.randint(c.min_dpi, c.max_dpi) / 72))
        pil_font = self._font(font, px)
        # How many characters fit: the ink box is about 1.1 em high plus margins -> scale.
        scale = c.height / (1.1 * px * (1 + 2 * MARGIN))
        avg_char = pil_font.getlength("the quick brown fox jumps over a lazy dog") / 41
        max_chars = max(1, int((width / scale - 2 * MARGIN * px) / avg_char * 1.05))
        code = font.kind == "monospace" and rng.random() < c.code_prob
        text = normalize_text(self._text(rng, max_chars, code)).strip()
        if not font.covers(text):  # e.g. Greek in a Latin-only face: a face of the class that has it
            font = next((f for f in self.fonts if f.kind == font.kind and f.covers(text)),
                        next((f for f in self.fonts if f.covers(text)), font))
            text = "".join(ch for ch in text if ch.isspace() or font.covers(ch)).strip() or "."
            pil_font = self._font(font, px)
        mixed = not code and font.kind != "monospace" and rng.random() < c.mixed_prob
        word_fonts = self._word_fonts(rng, font, len(text.split())) if mixed else None
        if word_fonts is not None:  # a word its alternate face cannot draw keeps the line's face
            text = " ".join(text.split())  # drawn word by word: single spaces
            word_fonts = [f if f.covers(w) else font for w, f in zip(text.split(), word_fonts)]
        line_ink, word_inks = 0, None
        if c.grey_prob > 0 and rng.random() < c.grey_prob:
            if code or rng.random() < 0.5:  # the whole line
                line_ink = rng.randint(*GREY_INK)
            else:  # a run of words, as a hyperlink or a coloured term
                text = " ".join(text.split())
                n = len(text.split())
                start = rng.randrange(n)
                word_inks = [0] * n
                for j in range(start, min(n, start + rng.randint(1, 4))):
                    word_inks[j] = rng.randint(*GREY_WORD_INK)
                word_fonts = word_fonts or [font] * n
        degrade_it = rng.random() < c.degrade_prob
        scan_it = degrade_it and c.scan_share > 0 and rng.random() < c.scan_share
        strength = rng.uniform(0.3, 1.0)
        while True:
            if word_fonts is None:
                img = self._render(text, pil_font, px, line_ink)
            else:
                words = text.split()
                inks = word_inks[:len(words)] if word_inks is not None else [0] * len(words)
                img = self._render_words([(w, self._font(f, px), k)
                                          for w, f, k in zip(words, word_fonts, inks)], pil_font, px)
            if scan_it:
                img = scan_like(img, rng)
            elif degrade_it:
                img = degrade(img, rng, strength=strength)
            try:
                return normalize_line(img, c.height, width), text
            except ValueError:  # wider than estimated: drop the last word
                if len(text) <= 1:  # one flat glyph (a dash, dots) wider than a narrow piece
                    return squeeze_line(img, c.height, width), text
                cut = text.rfind(" ")
                text = text[:cut] if cut > 0 else text[: max(1, len(text) // 2)]

    @staticmethod
    def _render(text: str, font: ImageFont.FreeTypeFont, px: int, ink: int = 0) -> Image.Image:
        w = int(font.getlength(text)) + 2 * px
        img = Image.new("L", (max(w, 4), int(px * 2.2)), 255)
        ImageDraw.Draw(img).text((px, int(px * 0.5)), text, font=font, fill=ink)
        return img

    @staticmethod
    def _render_words(words: Sequence[tuple[str, ImageFont.FreeTypeFont, int]],
                      base: ImageFont.FreeTypeFont, px: int) -> Image.Image:
        """Words ``(text, font, grey level)`` on one baseline, separated by the base font's space."""
        space = base.getlength(" ")
        w = int(sum(f.getlength(t) for t, f, _ in words) + space * (len(words) - 1)) + 2 * px
        img = Image.new("L", (max(w, 4), int(px * 2.2)), 255)
        draw, x = ImageDraw.Draw(img), float(px)
        for t, f, ink in words:
            draw.text((x, int(px * 1.6)), t, font=f, fill=ink, anchor="ls")  # left, baseline
            x += f.getlength(t) + space
        return img
