"""Text lines and blocks of a page image, in reading order, from projection profiles (numpy only).

The line model reads one 32 x 512 text line at a time, so a page must first be cut into lines and
the lines put in reading order. Whitepapers are mostly Manhattan layouts (rectangular blocks
separated by white space), for which a recursive XY-cut on ink projection profiles is accurate,
fast (two cumulative-sum tables make each profile O(height + width)) and needs no trained model.

Steps (see :func:`find_lines`):

1. *Binarise*: divide out the paper level, a grey-level closing of the page at a coarse scale
   (uneven light, shaded boxes, tinted sidebars, coloured bars and a scanner's border all become
   paper; paper too dark for black text holds no ink), smooth noisy scans, then Otsu's
   threshold; isolated specks (ink pixels with almost no ink neighbours) are dropped.
2. *Scale*: the text size ("em") is estimated from vertical ink runs, so every threshold below is
   relative to the text and the same code works at any dpi.
3. *Deskew*: the angle at which the bottoms of the ink runs (the baselines) pile up on the fewest
   rows, within +-``max_skew_deg``; the page is rotated back when it is above ``min_skew_deg``.
4. *Rules*: long vertical ink runs (table rules, the sides of boxed listings; a scanned one may be
   broken and a pixel off vertical) leave the mask, so framed text can be cut into lines;
   horizontal rules stay for the cut, but line boxes are trimmed to their other ink and the crops
   have every rule painted out.
5. *XY-cut*, recursively on each region: peel a running header/footer (one line set off by a wide
   gap), else split at a column gutter (left region read before right; a narrow gutter counts in
   a tall region with text flush against both sides), else split at the widest row gaps; a region
   that is a single row band is a line, unless its row profile shows lines that touch. Column
   gutters win over row gaps because two columns on a shared baseline grid have blank rows
   across both columns between every line.
   The two sides of a gutter whose lines share rows, one side narrow, are a *table* (or code with
   aligned comments): read row by row, each row one line of cells. "Lines" that cannot be text
   (rule remnants, blobs of ink, the rest of a border at the image's edge) are dropped.
6. *Blocks*: lines of one flow are grouped into paragraphs by gap size and first-line indent.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image, ImageFilter

#: grey levels of an 8-bit image
_LEVELS = 256
#: white between the cells of a table row in its crop (:meth:`PageLayout.crops`), per em
_CELL_SPACE_EM = 1.0
#: median ink height of a text line (ascenders to descenders, some lines lack either) per em,
#: measured on Times, Helvetica and Computer Modern renders at 100-300 dpi
_BAND_TO_EM = 0.7


@dataclass
class LayoutConfig:
    """Thresholds of the layout analysis; lengths ending in ``_em`` are multiples of the text size."""

    #: cells of the background estimate across the page's shorter side (4 px at 150 dpi: finer
    #: than a shaded box's edge needs, coarser than a stroke)
    background_cells: int = 320
    #: cells of the background closing (see :func:`paper_cells`): wider than any glyph stroke and
    #: than the white between lines, so the paper is seen everywhere in text
    background_window: int = 7
    #: paper darker than this share of the page's paper level is a bar, border or dark figure
    dark_background: float = 0.55
    #: pages noisier than this (grey levels, :func:`noise_level`) are smoothed before binarising
    denoise_above: float = 3.0
    min_contrast: int = 40  # grey-level spread below which a page is treated as blank
    speck_neighbours: int = 1  # ink pixels with at most this many ink neighbours (3x3) are noise
    blank_fraction: float = 0.001  # a row with at most this share of ink counts as blank
    #: a column with at most this share of ink counts as blank: gutters are tall, so a few specks
    #: of dirt in one must not close it, while a text column has ink in a large share of its rows
    column_blank_fraction: float = 0.01
    isolated_near_em: float = 0.25  # blobs within this radius ...
    isolated_far_em: float = 1.0  # ... with no other ink within this one are dirt
    max_skew_deg: float = 3.0  # search range of the deskew step
    coarse_skew_step: float = 0.25  # degrees, first pass
    fine_skew_step: float = 0.05  # degrees, second pass around the best coarse angle
    min_skew_deg: float = 0.1  # rotate back only above this angle
    skew_samples: int = 40_000  # run bottoms sampled for the skew search
    skew_column_step: int = 2  # ... on every this many columns
    skew_long_run_em: float = 3.0  # ... none on a horizontal run this long (an edge, a rule)
    skew_strips: int = 2  # vertical strips scored separately (see estimate_skew)
    column_gap_em: float = 1.2  # narrowest column gutter in a multi-line region ...
    narrow_gutter_em: float = 0.65  # ... and in a region at least ``tall_region_em`` tall (word
    tall_region_em: float = 6.0  # spaces, even a loose line's, never align down five lines)
    flush_share: float = 0.75  # ... when text is flush on both sides (see _Cutter._flush_sides)
    flush_lines: int = 5
    #: two strips of a row cut are one column flow when their union keeps a gutter at most
    #: this many times narrower than each strip's own (see ``_Cutter._column_flows``): side-by-
    #: side author boxes or a short line beside a column leave a gap 5-8x the body's gutter
    flow_gutter_ratio: float = 2.0
    #: the two sides of a gutter are a table, read row by row, when their lines share rows (within
    #: ``row_align_em``) and the narrower side is at most ``table_cell_em`` wide (see
    #: ``_Cutter._table_rows``): read column by column, a table's cells lose their rows
    table_cell_em: float = 12.0
    row_align_em: float = 0.3
    min_table_rows: int = 3
    line_gap_em: float = 2.5  # narrowest gap that splits a single line (header left/right parts)
    header_gap_em: float = 1.0  # a top/bottom line set off by this much is a header/footer
    header_max_em: float = 2.0  # ... and is at most this tall
    min_band_em: float = 0.3  # thinner row bands (i-dots, accents) join a neighbour line
    attach_gap_em: float = 0.5  # ... when at most this far from it; else they are dropped (rules)
    paragraph_gap_em: float = 0.9  # a wider gap between lines of one flow starts a paragraph
    indent_em: float = 0.8  # a line starting this much right of its flow's left edge starts one
    max_line_em: float = 4.0  # a taller unsplittable region is a figure, not a text line
    max_line_fill: float = 0.6  # a line box fuller of ink is a blob (text: 0.1-0.4) ...
    #: ... unless it lies inside the text area (``text_area_margin`` of the page from every edge),
    #: is no taller than ``dense_text_em`` and at most this full: bold headings and table cells
    #: of scans, whose letters the blur joins (fill 0.6-0.83 on the dev scans: 76 lines --
    #: "ABSTRACT", "REFERENCES", "1. Introduction", "TABLE 1" -- were dropped as blobs)
    max_dense_text_fill: float = 0.85
    dense_text_em: float = 2.0
    #: margins where scanners' borders and printed bars lie, as a share of the page's width
    #: (bars: within 5.5 %, borders: 0.5-3 % plus skew) and height
    text_area_margin: tuple[float, float] = (0.055, 0.035)
    edge_blob_em: float = 2.0  # a narrower "line" touching the image's edge is a border's rest
    min_line_width_em: float = 0.25  # a narrower "line" is a sliver of a frame or bar
    #: a single row band taller than this may be text lines that touch (see ``_Cutter._valleys``)
    split_line_em: float = 1.5
    valley_ratio: float = 0.25  # a cut's ink at most this share of the peaks on either side
    min_split_em: float = 0.4  # each side of a cut at least this tall
    max_piece_em: float = 1.8  # ... and no piece taller (else it was no text)
    valley_smooth_em: float = 0.05  # half-window of the profile's smoothing
    #: vertical ink runs at least this tall are rules and frame sides, not text (glyph strokes are
    #: at most ~1 em); a boxed code listing's sides put ink in every row of it
    rule_v_em: float = 3.0
    #: shorter vertical runs are frame sides when they meet a horizontal rule at an end: a boxed
    #: listing of one or two lines is less than ``rule_v_em`` tall, and its sides (ink in every
    #: row) joined its lines, the rules and the gaps into one "line"
    frame_v_em: float = 1.2
    #: a vertical rule's breaks (noise, fading) up to this long are bridged ...
    rule_gap_em: float = 0.12
    #: ... when at least this share of the bridged run is ink
    rule_fill: float = 0.9
    #: horizontal runs at least this long are rules (frame tops and bottoms, table rules,
    #: underlines). They stay in the mask the XY-cut sees -- without a frame's top and bottom a
    #: false column gutter can open through short code lines and the prose line above them (line-
    #: count error vs the text layer on the dev pages: 59 keeping them, 65 dropping them) -- but
    #: a line's box is trimmed to its other ink and its crop has them painted out: a rule under or
    #: over a line made the model read garbage (0 = no horizontal rules)
    rule_h_em: float = 4.0
    rule_rim_px: int = 2  # ink this many rows above or below a horizontal rule is part of it
    #: ... and at most this thick (median over their length): on scans, blur joins the letters
    #: of a bold heading into runs longer than ``rule_h_em``, and painting those out as a rule
    #: left "5. C" of "5. Conclusions" (rules: 1-4 px thick on the dev pages; such words: 9-11 px
    #: at an em of 20-25 px)
    rule_thick_em: float = 0.3
    min_em_px: float = 6.0  # em estimate floor (tiny or empty pages)
    em_strips: int = 8  # vertical strips the em estimate measures line heights in
    min_band_px: int = 3  # shorter bands in a strip are specks or rules, not lines
    pad_px: int = 2  # white margin added around each line crop


@dataclass
class Line:
    """One text line: ink box in the (deskewed) page image, ``(x0, y0, x1, y1)``, end-exclusive.

    A table row is one line of several ``cells`` (their boxes, left to right; ``box`` is their
    union), read apart and joined on one line of text.
    """

    box: tuple[int, int, int, int]
    cells: tuple[tuple[int, int, int, int], ...] = ()

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]


@dataclass
class Block:
    """A paragraph-like group of lines; ``sealed`` blocks never merge with neighbours (columns, headers)."""

    lines: list[Line] = field(default_factory=list)
    sealed: bool = False

    @property
    def box(self) -> tuple[int, int, int, int]:
        xs0, ys0, xs1, ys1 = zip(*(line.box for line in self.lines))
        return min(xs0), min(ys0), max(xs1), max(ys1)


@dataclass
class PageLayout:
    """Result of :func:`find_lines`: blocks in reading order over the deskewed page image."""

    image: Image.Image  # the deskewed grayscale page the boxes refer to
    blocks: list[Block]
    em: float  # estimated text size in pixels
    skew_deg: float  # the rotation that was undone (0 when none)
    #: (H, W) pixels of rules and frames in ``image``, painted out of the line crops (None = none)
    rules: Optional[np.ndarray] = None

    @property
    def lines(self) -> list[Line]:
        return [line for b in self.blocks for line in b.lines]

    def crops(self, pad: int = 2) -> list[list[Image.Image]]:
        """Grayscale crops of every line, per block, each on a white margin of ``pad`` px.

        Rule pixels (and their anti-aliased one-pixel rim) inside a crop are painted white. A
        table row's cells stand an em apart in its crop (the reader uses :meth:`cell_crops`).
        """
        space = max(2, round(_CELL_SPACE_EM * self.em))
        out = []
        for block in self.cell_crops(0):
            row = []
            for cells in block:
                width = sum(c.width for c in cells) + space * (len(cells) - 1)
                canvas = Image.new("L", (width + 2 * pad, cells[0].height + 2 * pad), 255)
                x = pad
                for cell in cells:
                    canvas.paste(cell, (x, pad))
                    x += cell.width + space
                row.append(canvas)
            out.append(row)
        return out

    def cell_crops(self, pad: int = 2) -> list[list[list[Image.Image]]]:
        """Per block, per line, the crops of its cells (one for a plain line), as :meth:`crops`.

        The reader reads a table row's cells apart and joins their text on one line: read as one
        crop, the column gaps inside it (even shrunk to an em) made the model misread (the 10
        clean dev pages with tables: bag-of-words F1 0.921 as one crop, 0.927 cells apart, 0.924
        read column by column; NED 0.237 column by column, 0.204 row by row).
        """
        rules = None if self.rules is None else _dilate(self.rules)
        out = []
        for block in self.blocks:
            row = []
            for line in block.lines:
                _, y0, _, y1 = line.box
                cells = []
                for x0, _, x1, _ in line.cells or (line.box,):  # every cell over the row's height
                    canvas = Image.new("L", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), 255)
                    canvas.paste(self._crop(x0, y0, x1, y1, rules), (pad, pad))
                    cells.append(canvas)
                row.append(cells)
            out.append(row)
        return out

    def _crop(self, x0: int, y0: int, x1: int, y1: int, rules: Optional[np.ndarray]) -> Image.Image:
        """The page in the box, with rule pixels painted white."""
        crop = self.image.crop((x0, y0, x1, y1))
        if rules is not None and rules[y0:y1, x0:x1].any():
            a = np.array(crop)  # (y1-y0, x1-x0) uint8, writable copy
            a[rules[y0:y1, x0:x1]] = 255
            crop = Image.fromarray(a)
        return crop


# ------------------------------------------------------------------------------------------------
# Binarisation, scale and skew
# ------------------------------------------------------------------------------------------------

def _otsu(values: np.ndarray) -> int:
    """Otsu's threshold of uint8 values: the split maximising between-class variance."""
    if values.ndim == 2:  # PIL's histogram: ~4x faster than bincount (which widens to int64)
        hist = np.asarray(Image.fromarray(values, mode="L").histogram(), dtype=np.float64)
    else:
        hist = np.bincount(values.ravel(), minlength=_LEVELS).astype(np.float64)
    total = hist.sum()
    levels = np.arange(_LEVELS)
    w0 = np.cumsum(hist)  # pixels at or below each level
    m0 = np.cumsum(hist * levels)
    w1 = total - w0
    mean_all = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 / total - m0) ** 2 / (w0 * w1 / total)
    between[~np.isfinite(between)] = 0
    return int(np.argmax(between))


def _median_level(gray: Image.Image) -> int:
    """``int(np.median(gray))`` of an 8-bit image, from its histogram (a page in ~1 ms, not ~13)."""
    cum = np.cumsum(gray.histogram()[:_LEVELS])
    n = int(cum[-1])
    lo = int(np.searchsorted(cum, (n - 1) // 2 + 1))  # the sorted values at (n-1)//2 and n//2
    hi = int(np.searchsorted(cum, n // 2 + 1))
    return (lo + hi) // 2


def paper_cells(gray: Image.Image, cfg: LayoutConfig = LayoutConfig()) -> Image.Image:
    """The paper level of a page per cell (an ``L`` image of ``W / cell x H / cell``): a grey-level
    *closing* of the page averaged into cells.

    Cells are ``1 / background_cells`` of the page's shorter side (4 px at 150 dpi: the estimate
    scales with the page, not the dpi). A max filter of ``background_window`` cells takes the paper
    between glyphs (no stroke is that wide, and every window reaches the white between lines), and
    a min filter one cell wider gives dark regions larger than the window their extent back and
    a cell more, so that the rim of a dark region is measured against it. Unlike a plain max filter (the paper of a wide neighbourhood, which this replaced), the closing
    follows the sharp edges of a shaded box, a tinted sidebar, a coloured bar or a scanner's
    border: text on a shaded box is measured against the box's own level (harness, shaded boxes
    on 49 pages: 21 % of words lost before), and a bar or border comes out as paper.
    """
    w, h = gray.size
    cell = max(1, round(min(w, h) / cfg.background_cells))
    small = np.asarray(gray.resize((max(1, w // cell), max(1, h // cell)), Image.Resampling.BOX))
    k = cfg.background_window
    # at the sharp edge of a dark region the cell means lag: measured against the paper, the
    # pixels of the edge's cell made its rim a long ink line, which misled the deskew
    return Image.fromarray(_window_extreme(_window_extreme(small, k, np.maximum), k + 2, np.minimum))


def _window_extreme(a: np.ndarray, k: int, op: np.ufunc) -> np.ndarray:
    """`(H, W)` max (``op=np.maximum``) or min filter over a ``k x k`` window, edges replicated.

    Separable, ``k`` shifted ``op`` calls per axis: on a page's cell image ~100x faster than
    PIL's rank filter (which sorts every window).
    """
    r = k // 2
    out = a
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (r, r)
        p = np.pad(out, pad, mode="edge")
        n = out.shape[axis]
        acc = np.take(p, range(0, n), axis=axis)
        for d in range(1, 2 * r + 1):
            acc = op(acc, np.take(p, range(d, d + n), axis=axis))
        out = acc
    return out


def noise_level(gray: Image.Image, row_step: int = 4) -> float:
    """Standard deviation of the pixel noise of a page, in grey levels (0 for a rendered page).

    From the median absolute difference of horizontal neighbours on every ``row_step``-th row:
    most pixels are paper, so the median sees the paper's noise, not the edges of glyphs
    (``median |a - b| = 0.954 sigma`` for two independent Gaussian values).
    """
    a = np.asarray(gray, dtype=np.int16)[::row_step]  # (H / row_step, W)
    if a.shape[1] < 2:
        return 0.0
    d = np.abs(np.diff(a, axis=1)).astype(np.uint8)
    return _median_level(Image.fromarray(d)) / 0.954


def binarize(gray: Image.Image, cfg: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Ink mask `(H, W)` bool of a grayscale page, robust to uneven lighting, shading and specks.

    Each pixel is divided by its paper level (:func:`paper_cells`: fall-off across the page, a
    shaded box, a tinted sidebar all become white paper), Otsu's threshold splits ink from paper,
    regions whose paper is dark hold no ink, and isolated specks (ink pixels with at most
    ``speck_neighbours`` ink neighbours) are dropped.
    """
    if gray.width * gray.height == 0:
        return np.zeros((gray.height, gray.width), dtype=bool)
    if noise_level(gray) > cfg.denoise_above:
        # sensor noise (sigma 6-18 grey levels on the scans of issue 15) made Otsu's split cut
        # into the paper's own spread: clumps of noise (JPEG and blur make them blobs that
        # survive the speck filter) became "lines" (harsh harness pages: 260 lines without a
        # word); a 3x3 mean divides the noise by 3 and leaves strokes, already blurred, dark
        gray = gray.filter(ImageFilter.BoxBlur(1))
    g = np.array(gray, dtype=np.float32)  # (H, W), a copy we may change
    if float(g.max() - g.min()) < cfg.min_contrast:
        return np.zeros(g.shape, dtype=bool)
    w, h = gray.size
    closed = paper_cells(gray, cfg)
    level = np.asarray(closed, dtype=np.float32)  # (H / cell, W / cell) paper level per cell
    bg = np.asarray(closed.resize(gray.size, Image.Resampling.BILINEAR), dtype=np.float32)
    np.maximum(bg, 1.0, out=bg)
    np.divide(g, bg, out=g)  # in place: g is our own float copy of the page
    g *= _LEVELS - 1
    flat = np.clip(g, 0, _LEVELS - 1, out=g).astype(np.uint8)
    ink = flat < _otsu(flat)
    # Black text cannot be read on paper darker than ``dark_background`` of the page's, and the
    # division turns such a region's noise into a sea of specks: it holds no ink. Two cells of
    # margin keep the blurred rim of a bar or border, where the coarse estimate lags (and the
    # slanted edge of a rotated one), out too.
    dark = level < cfg.dark_background * float(np.percentile(level, 90))
    if dark.any():
        grown = _window_extreme(dark.astype(np.uint8) * 255, 5, np.maximum)  # (H / cell, W / cell)
        ink &= np.asarray(Image.fromarray(grown).resize(gray.size, Image.Resampling.NEAREST)) == 0
    # 3x3 neighbour count via shifted sums on a padded copy: isolated specks have few neighbours.
    p = np.pad(ink, 1).astype(np.uint8)
    rows3 = p[:, :w] + p[:, 1:w + 1] + p[:, 2:]  # (H+2, W) horizontal 3-sums
    neighbours = rows3[:h] + rows3[1:h + 1] + rows3[2:] - ink  # (H, W) 3x3 sums less the pixel
    return ink & (neighbours > cfg.speck_neighbours)


def estimate_em(ink: np.ndarray, cfg: LayoutConfig = LayoutConfig()) -> float:
    """Text size in pixels: the median height of row bands of ink within narrow vertical strips.

    A strip narrower than a column sees single text lines (no mixing of two columns' interleaved
    lines), whose ink spans ascender to descender, about ``_BAND_TO_EM`` of the em, at any dpi.
    """
    h, w = ink.shape
    if not ink.any():
        return cfg.min_em_px
    heights: list[int] = []
    step = max(1, w // cfg.em_strips)
    for x in range(0, w, step):
        profile = ink[:, x:x + step].sum(axis=1)  # (H,) ink per row within the strip
        heights.extend(b - a for a, b in _runs(profile > 0) if b - a >= cfg.min_band_px)
    if not heights:
        return cfg.min_em_px
    return max(cfg.min_em_px, float(np.median(heights)) / _BAND_TO_EM)


def _cumsum_down(a: np.ndarray) -> np.ndarray:
    """In-place cumulative sum down the rows of a 2-D array (``np.cumsum(a, axis=0)``).

    numpy's axis-0 cumsum walks the array column by column; adding row to row is ~3x faster on a
    page (12 ms -> 4 ms at 150 dpi), and the layout takes several of them per page.
    """
    for i in range(1, a.shape[0]):
        np.add(a[i - 1], a[i], out=a[i])
    return a


def remove_isolated(ink: np.ndarray, em: float, cfg: LayoutConfig = LayoutConfig()) -> np.ndarray:
    """Drop small blobs with no other ink nearby: scan dirt in margins and gaps, not punctuation.

    A pixel is isolated when every ink pixel of its ``2 * isolated_far_em`` square also lies in
    its ``2 * isolated_near_em`` square: the blob it belongs to is small and alone. A period
    survives because letters stand within an em of it.
    """
    ys, xs = np.nonzero(ink)
    if ys.size == 0:
        return ink
    h, w = ink.shape
    table = np.zeros((h + 1, w + 1), dtype=np.int32)  # (H+1, W+1) summed-area table
    np.cumsum(ink, axis=1, dtype=np.int32, out=table[1:, 1:])
    _cumsum_down(table[1:, 1:])

    def box(radius: int) -> np.ndarray:
        y0, y1 = np.clip(ys - radius, 0, h), np.clip(ys + radius + 1, 0, h)
        x0, x1 = np.clip(xs - radius, 0, w), np.clip(xs + radius + 1, 0, w)
        return table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]  # (n_ink,)

    near = box(max(1, round(cfg.isolated_near_em * em)))
    far = box(max(2, round(cfg.isolated_far_em * em)))
    out = ink.copy()
    lone = far == near
    out[ys[lone], xs[lone]] = False
    return out


def _long_runs(ink: np.ndarray, min_len: int, max_thick: Optional[float] = None) -> np.ndarray:
    """`(H, W)` bool: the pixels of horizontal ink runs at least ``min_len`` long.

    With ``max_thick``, only runs whose ink is at most that many pixels thick (the median over
    the run's columns of the vertical ink run through it, :func:`_thickness`): a rule, not a
    word whose letters a scan's blur has joined along the x-height.
    """
    out = np.zeros(ink.shape, dtype=bool)
    for r, a, b in zip(*(v.tolist() for v in _run_list(ink, min_len))):
        if max_thick is not None and _thickness(ink, r, a, b, reach=2 * math.ceil(max_thick)) > max_thick:
            continue
        out[r, a:b] = True  # rules are few: filling them beats a cumulative sum over the page
    return out


def _thickness(ink: np.ndarray, row: int, x0: int, x1: int, reach: int) -> float:
    """Median over columns ``x0:x1`` of the vertical ink run through ``row`` (up to ``reach``
    pixels either way): 1-4 px for a rule on the dev pages, clean or scanned; 9-11 px for a
    bold word in a scan, whose letters the blur joined into one long horizontal run."""
    top = max(0, row - reach)
    window = ink[top:row + reach + 1, x0:x1]  # (rows, x1 - x0)
    c = row - top
    up = np.cumprod(window[c::-1], axis=0).sum(0)  # (x1 - x0,) ink rows from ``row`` upwards
    down = np.cumprod(window[c:], axis=0).sum(0)
    return float(np.median(up + down - 1))


def _run_list(ink: np.ndarray, min_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, starts and ends (exclusive) of the horizontal ink runs at least ``min_len`` long."""
    h, w = ink.shape
    p = np.zeros((h, w + 2), dtype=np.int8)
    p[:, 1:-1] = ink
    d = np.diff(p, axis=1)  # (H, W+1): +1 where a run starts, -1 one past where it ends
    rs, cs = np.nonzero(d)  # row-major: each run's start, then its end, run after run
    rs, starts, ends = rs[0::2], cs[0::2], cs[1::2]
    long = (ends - starts) >= min_len
    return rs[long], starts[long], ends[long]


def _dilate(mask: np.ndarray) -> np.ndarray:
    """`mask` grown by one pixel in the 8 directions."""
    out = mask.copy()
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    grown = out.copy()
    out[:, 1:] |= grown[:, :-1]
    out[:, :-1] |= grown[:, 1:]
    return out


def find_rules(ink: np.ndarray, em: float, cfg: LayoutConfig = LayoutConfig()) -> tuple[np.ndarray, np.ndarray]:
    """`(vertical, horizontal)` (H, W) masks of the rules and frames in an ink mask.

    Vertical ones leave the mask the XY-cut sees: a frame's sides put ink in every row of the
    text inside, so the cut could not split it (a boxed code listing was one tall region, dropped
    as a figure). Horizontal ones stay for the cut (see ``LayoutConfig.rule_h_em``). Both are
    painted out of the line crops (:meth:`PageLayout.crops`).

    Vertical: runs at least ``rule_v_em`` tall, and runs at least ``frame_v_em`` tall with a
    horizontal rule at their top or bottom end (the sides of a short frame). Horizontal: runs at
    least ``rule_h_em`` long (none when it is 0).
    """
    horizontal = np.zeros_like(ink)
    if cfg.rule_h_em > 0:
        horizontal = _long_runs(ink, max(2, round(cfg.rule_h_em * em)), cfg.rule_thick_em * em)
    if horizontal.any():
        # a scanned rule is blurred over a few rows, of which only the darkest holds one long
        # run: the ink of the rows beside it is the same rule (left as ink, a broken rule was
        # cut out as a "line" of its own)
        grown = horizontal.copy()
        for _ in range(cfg.rule_rim_px):
            grown[1:] |= grown[:-1].copy()
            grown[:-1] |= grown[1:].copy()
        horizontal = grown & ink
    rule_len = max(2, round(cfg.rule_v_em * em))
    frame_len = max(2, round(cfg.frame_v_em * em)) if horizontal.any() else rule_len
    # a frame's corner may sit a pixel or two off the end of its side
    near = _dilate(_dilate(horizontal)) if frame_len < rule_len else None
    # A scanned rule is neither straight nor whole: after deskewing to within ~0.05 degrees it
    # still drifts a pixel across its length, and blur, fading and noise break a 1-px rule into
    # dashes. Runs are measured on the ink grown one column either way, across gaps of up to
    # ``rule_gap_em`` (short of the white between two lines of text), and must be mostly ink.
    across = ink.copy()  # (H, W)
    across[:, 1:] |= ink[:, :-1]
    across[:, :-1] |= ink[:, 1:]
    gap = max(1, round(cfg.rule_gap_em * em))
    cols, tops, bottoms = _gapped_runs(across.T, min(rule_len, frame_len), gap, cfg.rule_fill)
    vertical = np.zeros_like(ink)
    for c, a, b in zip(cols.tolist(), tops.tolist(), bottoms.tolist()):
        if b - a >= rule_len or (near is not None and (near[a, c] or near[b - 1, c])):
            vertical[a:b, max(0, c - 1):c + 2] = True
    vertical &= ink
    return vertical, horizontal


def _gapped_runs(mask: np.ndarray, min_len: int, gap: int, fill: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows, starts and ends of the horizontal runs of ``mask`` at least ``min_len`` long when
    gaps of at most ``gap`` pixels are bridged, and at least ``fill`` of them set."""
    rs, starts, ends = _run_list(mask, 1)  # every run, row by row, left to right
    if rs.size == 0:
        return rs, starts, ends
    first = np.ones(rs.size, dtype=bool)  # a run that does not continue the one before it
    first[1:] = (rs[1:] != rs[:-1]) | (starts[1:] - ends[:-1] > gap)
    at = np.flatnonzero(first)
    m_ends = np.maximum.reduceat(ends, at)
    m_set = np.add.reduceat(ends - starts, at)  # pixels set in each bridged run
    m_rs, m_starts = rs[at], starts[at]
    length = m_ends - m_starts
    keep = (length >= min_len) & (m_set >= fill * length)
    return m_rs[keep], m_starts[keep], m_ends[keep]


def _trim_lines(blocks: list[Block], ink: np.ndarray) -> list[Block]:
    """Each line's box shrunk to its ink (``ink`` has no rules); lines of rules alone go.

    A rule within ``attach_gap_em`` of a line joins its row band, and a frame's top reaches far
    past the line's text: trimming keeps both out of the line's crop.
    """
    out = []
    for block in blocks:
        lines = []
        for line in block.lines:
            cells = [t for t in (_trim_box(c, ink) for c in (line.cells or (line.box,))) if t]
            if cells:
                lines.append(_row(cells))
        if lines:
            out.append(Block(lines, block.sealed))
    return out


def _drop_non_text(blocks: list[Block], ink: np.ndarray, em: float, cfg: LayoutConfig) -> list[Block]:
    """Lines that cannot be text leave: thinner than ``min_band_em`` (a rule or its broken
    remnant, a row of dots), narrower than ``min_line_width_em`` and four times as tall (a piece
    of a faint frame side too broken to be found as a rule; of characters only "l" and "|"), an em wide or more, fuller than ``max_line_fill`` of ink (the
    corner of a coloured bar, a blob of a scanner's border; ``max_dense_text_fill`` for a line
    of text size inside the text area: a scan's bold heading) or, narrower than ``edge_blob_em``,
    touching the image's edge (the rest of a border where it meets the corner that deskewing
    filled with paper; text keeps a margin). Read by the model, such crops came back as garbage.
    """
    h, w = ink.shape
    mx, my = cfg.text_area_margin[0] * w, cfg.text_area_margin[1] * h
    out = []
    for block in blocks:
        lines = []
        for line in block.lines:
            x0, y0, x1, y1 = line.box
            fill = float(ink[y0:y1, x0:x1].mean()) if x1 > x0 and y1 > y0 else 0.0
            inside = (mx <= x0 and x1 <= w - mx and my <= y0 and y1 <= h - my
                      and y1 - y0 <= cfg.dense_text_em * em)
            limit = cfg.max_dense_text_fill if inside else cfg.max_line_fill
            blob = fill > limit and x1 - x0 >= em  # a lone "1" is full too
            edge = (x0 <= 1 or y0 <= 1 or x1 >= w - 1 or y1 >= h - 1) and x1 - x0 < cfg.edge_blob_em * em
            # a piece of a frame's side: narrow, and tall for its width (a lone "1" is not)
            sliver = x1 - x0 < cfg.min_line_width_em * em and y1 - y0 > 4 * (x1 - x0)
            if y1 - y0 >= cfg.min_band_em * em and not blob and not edge and not sliver:
                lines.append(line)
        if lines:
            out.append(Block(lines, block.sealed))
    return out


def _trim_box(box: tuple[int, int, int, int], ink: np.ndarray) -> Optional[tuple[int, int, int, int]]:
    """``box`` shrunk to the ink inside it; None when it holds none."""
    x0, y0, x1, y1 = box
    region = ink[y0:y1, x0:x1]  # (h, w)
    rows, cols = np.flatnonzero(region.any(1)), np.flatnonzero(region.any(0))
    if rows.size == 0:
        return None
    return x0 + int(cols[0]), y0 + int(rows[0]), x0 + int(cols[-1]) + 1, y0 + int(rows[-1]) + 1


def estimate_skew(ink: np.ndarray, cfg: LayoutConfig = LayoutConfig(),
                  em: Optional[float] = None) -> float:
    """Angle in degrees (counter-clockwise text rotation) that best aligns the text's baselines.

    The points are the lowest pixel of every vertical ink run: glyph strokes end on the
    baseline, so at the true angle these points pile onto one row per text line, where all ink
    spreads over the x-height and blurs the optimum. A long straight edge (a scanner border's
    rim, a bar, a table rule at another angle, which outweighed the text when every ink pixel
    counted: the harness's border pages were deskewed to the +-3.25 limit, 9 of 23) gives one
    point a column, as much as one text line. For a candidate angle the points are sheared onto
    rows; the sum of squared row counts is maximal at the true angle, found on a coarse grid,
    then a fine one, then to a fraction of the fine step by a parabola through the best three.
    Rows run past the page by the largest shear, so no count piles up at an edge. Every
    ``skew_column_step``-th column and at most ``skew_samples`` points are enough (the coarse
    grid uses a quarter of them): 0.005 degrees median error on the harness's scans. Given the
    text size ``em``, points on horizontal runs over ``skew_long_run_em`` are left out.
    """
    step = cfg.skew_column_step
    cols = np.ascontiguousarray(ink[:, ::step])  # (H, W / step)
    ends = cols.copy()
    ends[:-1] &= ~cols[1:]  # the bottom pixel of each vertical run
    if em is not None:
        # an edge or rule with long horizontal runs lies within a degree of the image's axes,
        # not necessarily the text's: a scanner's border is bounded by the glass, not the sheet
        # (one along the top outweighed 20 sparse text lines); the text has no such runs
        ends &= ~_long_runs(cols, max(2, round(cfg.skew_long_run_em * em / step)))
    ys, xs = np.nonzero(ends)
    if ys.size < 100:
        return 0.0
    xs = xs * cfg.skew_column_step
    if ys.size > cfg.skew_samples:  # an even spread (a random choice costs more than the search)
        pick = np.linspace(0, ys.size - 1, cfg.skew_samples).astype(np.int64)
        ys, xs = ys[pick], xs[pick]
    h, w = ink.shape
    reach = cfg.max_skew_deg + cfg.coarse_skew_step
    pad = int(np.ceil(w * np.tan(np.deg2rad(reach)))) + 1  # rows a shear can move a point
    n_rows = h + 2 * pad
    # Separate histograms per vertical strip: one histogram over the whole width would reward
    # angles that line up the baselines of two columns set at different heights.
    strip = np.minimum(xs * cfg.skew_strips // w, cfg.skew_strips - 1).astype(np.int64)
    base = (strip * n_rows + ys + pad).astype(np.float64)  # (n,) row index at angle 0
    xs = xs.astype(np.float64) - xs.mean()
    size = cfg.skew_strips * n_rows + 1

    def coarse_score(angle: float) -> float:  # every 4th point, each on its nearest row
        rows = np.rint(base[::4] + xs[::4] * np.tan(np.deg2rad(angle))).astype(np.int64)
        counts = np.bincount(rows, minlength=size).astype(np.float64)
        return float(np.dot(counts, counts))

    def score(angle: float) -> float:
        # each point split between its two nearest rows: rounding to one row made the score a
        # step function of the angle, whose plateaus biased the optimum by up to 0.09 degrees
        rows = base + xs * np.tan(np.deg2rad(angle))
        low = rows.astype(np.int64)  # rows are positive: truncation is floor
        frac = rows - low
        counts = np.bincount(low, 1 - frac, minlength=size) + np.bincount(low + 1, frac, minlength=size)
        return float(np.dot(counts, counts))

    coarse = np.arange(-cfg.max_skew_deg, cfg.max_skew_deg + 1e-9, cfg.coarse_skew_step)
    best = float(coarse[int(np.argmax([coarse_score(a) for a in coarse]))])
    fine = np.arange(best - cfg.coarse_skew_step, best + cfg.coarse_skew_step + 1e-9,
                     cfg.fine_skew_step)
    scores = np.array([score(a) for a in fine])
    i = int(np.argmax(scores))
    if 0 < i < len(fine) - 1:  # the vertex of the parabola through the best and its neighbours
        lo, mid, hi = scores[i - 1:i + 2]
        curve = lo - 2 * mid + hi
        if curve < 0:
            return float(fine[i] + 0.5 * cfg.fine_skew_step * (lo - hi) / curve)
    return float(fine[i])


# ------------------------------------------------------------------------------------------------
# XY-cut
# ------------------------------------------------------------------------------------------------

def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of True in a 1-D bool array, end-exclusive."""
    p = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(p)
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


class _Cutter:
    """Recursive XY-cut over one ink mask, with O(h + w) profiles from cumulative sums."""

    def __init__(self, ink: np.ndarray, em: float, cfg: LayoutConfig) -> None:
        self.cfg, self.em = cfg, em
        h, w = ink.shape
        self.row_cs = np.zeros((h, w + 1), dtype=np.int32)  # (H, W+1) prefix sums along x
        np.cumsum(ink, axis=1, dtype=np.int32, out=self.row_cs[:, 1:])
        self.col_cs = np.zeros((h + 1, w), dtype=np.int32)  # (H+1, W) prefix sums along y
        self.col_cs[1:] = ink
        _cumsum_down(self.col_cs[1:])

    def rows(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        return self.row_cs[y0:y1, x1] - self.row_cs[y0:y1, x0]  # (y1-y0,) ink per row

    def cols(self, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
        return self.col_cs[y1, x0:x1] - self.col_cs[y0, x0:x1]  # (x1-x0,) ink per column

    def _tol(self, length: int, fraction: Optional[float] = None) -> int:
        return int(length * (self.cfg.blank_fraction if fraction is None else fraction))

    def _bands(self, profile: np.ndarray, width: int) -> list[tuple[int, int]]:
        """Row bands of ink; thin bands (i-dots, accents) join a close neighbour, lone ones go."""
        bands = _runs(profile > self._tol(width))
        thin = self.cfg.min_band_em * self.em
        reach = self.cfg.attach_gap_em * self.em
        changed = True
        while changed and len(bands) > 1:
            changed = False
            for i, (a, b) in enumerate(bands):
                if b - a >= thin:
                    continue
                gap_up = a - bands[i - 1][1] if i > 0 else np.inf
                gap_down = bands[i + 1][0] - b if i + 1 < len(bands) else np.inf
                if min(gap_up, gap_down) > reach:
                    continue
                j = i - 1 if gap_up <= gap_down else i + 1
                lo, hi = min(i, j), max(i, j)
                bands[lo:hi + 1] = [(bands[lo][0], bands[hi][1])]
                changed = True
                break
        return [(a, b) for a, b in bands if b - a >= thin or len(bands) == 1]

    def segment(self, y0: int, y1: int, x0: int, x1: int) -> list[Block]:
        """Blocks of the region ``[y0, y1) x [x0, x1)`` in reading order."""
        cfg, em = self.cfg, self.em
        trimmed = self._trim(y0, y1, x0, x1)
        if trimmed is None:
            return []
        y0, y1, x0, x1 = trimmed
        bands = self._bands(self.rows(y0, y1, x0, x1), x1 - x0)
        if not bands:
            return []
        bands = [(y0 + a, y0 + b) for a, b in bands]
        gaps = [bands[i + 1][0] - bands[i][1] for i in range(len(bands) - 1)]

        # 1. a running header/footer: one short band set off by a gap wider than the others
        if len(bands) >= 3:
            median_gap = float(np.median(gaps))
            for idx, gap in ((0, gaps[0]), (len(bands) - 1, gaps[-1])):
                a, b = bands[idx]
                if (b - a <= cfg.header_max_em * em and gap >= cfg.header_gap_em * em
                        and gap > 2 * median_gap):
                    if idx == 0:
                        head = self._sealed(self.segment(a, b, x0, x1))
                        return head + self.segment(bands[1][0], y1, x0, x1)
                    tail = self._sealed(self.segment(a, b, x0, x1))
                    return self.segment(y0, bands[-2][1], x0, x1) + tail

        # 2. a column gutter (or the wide gap inside a single line). A single band taller than a
        # line is no line: two columns whose lines interleave (a heading in one shifts its
        # baseline grid) leave no row blank across both, and demanding a line's inner gap of
        # 2.5 em there missed a 1.3 em gutter and dropped both columns as a "figure"
        multi_line = len(bands) > 1 or y1 - y0 > cfg.split_line_em * em
        gutter = self._gutter(y0, y1, x0, x1, multi_line)
        if gutter is not None:
            left = self._sealed(self.segment(y0, y1, x0, gutter[0]))
            right = self._sealed(self.segment(y0, y1, gutter[1], x1))
            return self._table_rows(left, right) or left + right

        # 3. a single band is one line (or a figure, which the line model cannot read), unless it
        # is lines that touch: split at the valleys of its row profile
        if len(bands) == 1:
            cuts = self._valleys(y0, y1, x0, x1) if y1 - y0 > cfg.split_line_em * em else []
            if cuts:
                blocks = []
                for a, b in zip([y0] + cuts, cuts + [y1]):
                    blocks = self._join(blocks, self.segment(a, b, x0, x1))
                return blocks
            if y1 - y0 > cfg.max_line_em * em or y1 - y0 < cfg.min_band_em * em:
                return []  # a figure, or a rule or speck too small to be text
            return [Block([Line((x0, y0, x1, y1))])]

        # 4. split at the widest row gaps (all nearly as wide as the widest, to keep recursion shallow)
        widest = max(gaps)
        cuts = [i for i, g in enumerate(gaps) if g >= 0.8 * widest]
        strips = []  # (first band, last band) of each strip between the cuts
        first = 0
        for i in cuts + [len(bands) - 1]:
            strips.append((first, i))
            first = i + 1
        blocks: list[Block] = []
        for a, b in self._column_flows(strips, bands, x0, x1):
            # the first strip starts at the region's top: a lone thin band (a rule) that
            # _bands dropped above the first line stays in it, as it always has
            top = y0 if a == 0 else bands[a][0]
            blocks = self._join(blocks, self.segment(top, bands[b][1], x0, x1))
        return blocks

    def _trim(self, y0: int, y1: int, x0: int, x1: int) -> Optional[tuple[int, int, int, int]]:
        """The region shrunk to its ink, ``(y0, y1, x0, x1)`` (rows under the blank tolerance
        left out); None when it holds none."""
        ink_rows = np.nonzero(self.rows(y0, y1, x0, x1) > self._tol(x1 - x0))[0]
        if ink_rows.size == 0:
            return None
        y0, y1 = y0 + int(ink_rows[0]), y0 + int(ink_rows[-1]) + 1
        ink_cols = np.nonzero(self.cols(y0, y1, x0, x1) > 0)[0]
        return y0, y1, x0 + int(ink_cols[0]), x0 + int(ink_cols[-1]) + 1

    def _gutter(self, y0: int, y1: int, x0: int, x1: int, multi_line: bool
                ) -> Optional[tuple[int, int]]:
        """The widest column gutter (or, in a single line, wide inner gap) of a trimmed region:
        its blank columns ``[a, b)`` in page x; None when there is none."""
        cfg, em = self.cfg, self.em
        cp = self.cols(y0, y1, x0, x1)  # (x1-x0,) ink per column of the region
        min_gap = (cfg.column_gap_em if multi_line else cfg.line_gap_em) * em
        if y1 - y0 >= cfg.tall_region_em * em:
            # a gutter that stays blank down a tall region is one even when narrow, if text is
            # set flush against both of its sides (_flush_sides): LaTeX's two-column article
            # sets 10 pt (0.85 em here); at 1.2 em every row of its two columns was one line
            min_gap = min(min_gap, cfg.narrow_gutter_em * em)
        col_gaps = [(a, b) for a, b in _runs(cp <= self._tol(y1 - y0, cfg.column_blank_fraction)) if a > 0 and b < len(cp)]
        col_gaps = [(a, b) for a, b in col_gaps if b - a >= min_gap and (
            b - a >= cfg.column_gap_em * em or self._flush_sides(y0, y1, x0 + a, x0 + b))]
        if not col_gaps:
            return None
        a, b = max(col_gaps, key=lambda g: g[1] - g[0])
        return x0 + a, x0 + b

    def _column_flows(self, strips: list[tuple[int, int]], bands: list[tuple[int, int]],
                      x0: int, x1: int) -> list[tuple[int, int]]:
        """Neighbouring strips of the row cut merged where they are one pair of columns.

        Two columns leave a row blank across the page wherever both have a gap at the same
        height (a section heading's space in one, the end of a paragraph or a display in the
        other). Cut there first, each strip was then split at the gutter on its own, and the
        page read left-top, right-top, left-bottom, right-bottom: the two dev pages that did so
        had NED 0.42 and 0.29 (Tesseract 0.01 and 0.03) with every word read. Strips of several
        lines whose union still has a gutter are one column flow and are cut at the gutter
        first. A strip of one line (a table row, a header) is left alone.
        """
        out: list[tuple[int, int]] = []
        for a, b in strips:
            if out and self._one_flow(out[-1], (a, b), bands, x0, x1):
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
        return out

    def _one_flow(self, upper: tuple[int, int], lower: tuple[int, int],
                  bands: list[tuple[int, int]], x0: int, x1: int) -> bool:
        """Whether two strips of bands (both of several lines) share one column gutter, about
        as wide as each strip's own."""
        if upper[1] == upper[0] or lower[1] == lower[0]:
            return False
        widths = []
        for a, b in (upper, lower, (upper[0], lower[1])):
            region = self._trim(bands[a][0], bands[b][1], x0, x1)
            gutter = None if region is None else self._gutter(*region, multi_line=True)
            if gutter is None:
                return False
            widths.append(gutter[1] - gutter[0])
        return max(widths[:2]) <= self.cfg.flow_gutter_ratio * widths[2]

    def _flush_sides(self, y0: int, y1: int, a: int, b: int) -> bool:
        """Whether the text on both sides of the blank columns ``[a, b)`` is set flush against
        them, as two justified columns are against their gutter: of the lines within 4 em of the
        gap on either side, at least ``flush_share`` and ``flush_lines`` reach to within an em
        of it. The aligned
        spaces of a code listing leave a narrow blank column too, but its lines end (and start)
        anywhere.
        """
        reach = max(1, round(self.em))
        right_end = self.row_cs.shape[1] - 1
        for near, wide in (((max(0, a - reach), a), (max(0, a - 4 * reach), a)),
                           ((b, min(right_end, b + reach)), (b, min(right_end, b + 4 * reach)))):
            lines = _runs(self.rows(y0, y1, *wide) > 0)  # row bands of the strip beside the gap
            if not lines:
                return False
            close = self.rows(y0, y1, *near) > 0  # (y1-y0,) rows with ink right at the gap
            flush = sum(1 for s, e in lines if close[s:e].any())
            if flush < max(self.cfg.flush_share * len(lines), self.cfg.flush_lines):
                return False
        return True

    def _valleys(self, y0: int, y1: int, x0: int, x1: int) -> list[int]:
        """Rows at which a band of touching text lines splits into its lines; [] when it is not.

        Lines touch when no row between them is blank: a parenthesis reaches from above the
        ascenders to below the descenders, so two lines with parentheses one above the other
        touch even on a clean 150-dpi page (the IEEEtran harness page lost 343 of 722 words as
        "figures"), and blur makes descenders meet the ascenders below. A single line's row
        profile has one hump (ascenders, the heavy x-height, descenders); between two lines it
        falls to a valley. A row is a cut when the (lightly smoothed) profile there is at most
        ``valley_ratio`` of the lower of the highest rows on either side, each side at least
        ``min_split_em`` tall; cuts are taken deepest first, recursively. The split stands only if
        every piece is at most ``max_piece_em`` tall: a figure's profile has valleys too, and
        pieces of a figure are no lines.
        """
        cfg, em = self.cfg, self.em
        p = self.rows(y0, y1, x0, x1).astype(np.float32)  # (y1-y0,) ink per row
        r = max(1, round(cfg.valley_smooth_em * em))
        p = np.convolve(p, np.ones(2 * r + 1, dtype=np.float32) / (2 * r + 1), mode="same")
        side = max(1, round(cfg.min_split_em * em))
        cuts: list[int] = []

        def split(a: int, b: int) -> None:
            if b - a < 2 * side:
                return
            seg = p[a:b]
            left = np.maximum.accumulate(seg)  # highest row at or above each row
            right = np.maximum.accumulate(seg[::-1])[::-1]  # ... at or below
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = seg / np.minimum(left, right)
            ratio[:side] = np.inf
            ratio[len(seg) - side:] = np.inf
            v = int(np.argmin(ratio))
            if not ratio[v] <= cfg.valley_ratio:
                return
            split(a, a + v)
            cuts.append(y0 + a + v)
            split(a + v, b)

        split(0, y1 - y0)
        edges = [y0] + cuts + [y1]
        if not cuts or max(b - a for a, b in zip(edges, edges[1:])) > cfg.max_piece_em * em:
            return []
        return cuts

    def _table_rows(self, left: list[Block], right: list[Block]) -> Optional[list[Block]]:
        """The two sides of a gutter read row by row, one line a row, when they are a table.

        A table (or code with aligned comments): every line of the side with fewer lines has a
        line of the other side on its row (centres within ``row_align_em``), there are at least
        ``min_table_rows`` of them, and the narrower side is at most ``table_cell_em`` wide. Two
        prose columns share a baseline grid too, but both are wide. None when not a table.
        """
        cfg, em = self.cfg, self.em
        sides = [[line for b in side for line in b.lines] for side in (left, right)]
        few, many = sorted(sides, key=len)
        if len(few) < cfg.min_table_rows:
            return None
        if min(max(line.box[2] for line in s) - min(line.box[0] for line in s) for s in sides) > cfg.table_cell_em * em:
            return None
        tol = cfg.row_align_em * em

        def centre(line: Line) -> float:
            return (line.box[1] + line.box[3]) / 2

        others = np.array(sorted(centre(line) for line in many))
        for line in few:  # its nearest partner on the other side
            i = int(np.searchsorted(others, centre(line)))
            near = min(abs(others[j] - centre(line)) for j in (i - 1, i) if 0 <= j < len(others))
            if near > tol:
                return None
        rows: list[list[Line]] = []
        for line in sorted(few + many, key=centre):
            if rows and centre(line) - centre(rows[-1][0]) <= tol:
                rows[-1].append(line)
            else:
                rows.append([line])
        cells = [[c for line in r for c in (line.cells or (line.box,))] for r in rows]  # rows merged before
        return [Block([_row(c) for c in cells], sealed=True)]

    @staticmethod
    def _sealed(blocks: list[Block]) -> list[Block]:
        for b in blocks:
            b.sealed = True
        return blocks

    def _join(self, upper: list[Block], lower: list[Block]) -> list[Block]:
        """Concatenate; the touching blocks of one flow merge when the gap is a line gap."""
        if not upper or not lower:
            return upper + lower
        a, b = upper[-1], lower[0]
        if not a.sealed and not b.sealed:
            ax0, _, ax1, ay1 = a.box
            bx0, by0, bx1, _ = b.box
            overlap = min(ax1, bx1) - max(ax0, bx0)
            if by0 - ay1 <= self.cfg.paragraph_gap_em * self.em and overlap > 0:
                return upper[:-1] + [Block(a.lines + b.lines)] + lower[1:]
        return upper + lower


def _row(boxes: list[tuple[int, int, int, int]]) -> Line:
    """One line of the cell boxes of a row (a plain line when there is one box), left to right."""
    cells = sorted(boxes, key=lambda c: c[0])
    box = (cells[0][0], min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
    return Line(box, tuple(cells) if len(cells) > 1 else ())


def _split_indents(block: Block, em: float, cfg: LayoutConfig) -> list[Block]:
    """Start a new paragraph at a line indented from the block's left edge (first-line indent)."""
    if len(block.lines) < 3:
        return [block]
    left = float(np.median([line.box[0] for line in block.lines]))
    out = [Block([block.lines[0]], block.sealed)]
    for line in block.lines[1:]:
        if line.box[0] - left >= cfg.indent_em * em:
            out.append(Block([line], block.sealed))
        else:
            out[-1].lines.append(line)
    return out


def find_lines(page: Image.Image, cfg: LayoutConfig = LayoutConfig()) -> PageLayout:
    """Text lines of a page image grouped into blocks, in reading order (see the module docstring).

    Args:
        page: the page as rendered or scanned (any mode; converted to grayscale).
        cfg: thresholds.

    Returns:
        The layout over the deskewed grayscale page; an empty layout for a blank page.
    """
    gray = page.convert("L")
    ink = binarize(gray, cfg)
    em = estimate_em(ink, cfg)
    ink = remove_isolated(ink, em, cfg)
    skew = estimate_skew(ink, cfg, em)
    if abs(skew) >= cfg.min_skew_deg:
        # estimate_skew's angle is the text's shear; PIL's rotate(+a) turns counter-clockwise
        # fill the corners with the paper's own level, so they do not read as a lighting edge
        paper = _median_level(gray)
        gray = gray.rotate(-skew, resample=Image.Resampling.BICUBIC, fillcolor=paper)
        ink = binarize(gray, cfg)
        em = estimate_em(ink, cfg)
        ink = remove_isolated(ink, em, cfg)
    else:
        skew = 0.0
    # after deskewing: a skewed rule is a staircase of short runs
    vertical, horizontal = find_rules(ink, em, cfg)
    ink &= ~vertical
    cutter = _Cutter(ink, em, cfg)
    blocks = cutter.segment(0, ink.shape[0], 0, ink.shape[1])
    rules = vertical | horizontal
    text_ink = ink & ~horizontal if horizontal.any() else ink
    if horizontal.any():
        blocks = _trim_lines(blocks, text_ink)
    blocks = _drop_non_text(blocks, text_ink, em, cfg)
    blocks = [p for b in blocks for p in _split_indents(b, em, cfg)]
    return PageLayout(image=gray, blocks=blocks, em=em, skew_deg=skew,
                      rules=rules if rules.any() else None)
