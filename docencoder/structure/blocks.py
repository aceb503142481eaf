"""A page's lines into role-tagged blocks, and the cross-page pass that finds page furniture.

:func:`page_blocks` works on one page's :class:`~.roles.Line` s in reading order, from either
source, with rules in the spirit of rule-based PDF structure tools (pdfminer's layout analysis,
GROBID's header/footer heuristics, Nougat's markdown targets), all relative to the page itself:

1. *Body size*: the median size of the page's long lines is the body text size; the rules below
   compare to it (a font size from the text layer; a line's ink height from pixels, which needs
   a wider margin: a line without descenders is shorter).
2. *Rows*: lines of one source group that share a row (the text layer splits a line at wide gaps:
   table cells, a header's left and right parts, an equation and its number) become one row of
   cells (a block of one such row reads as one line: ``2 forecast: Automatic ...``).
3. *Groups*: rows of one source group form a block, split where the style changes (size, bold,
   fixed pitch), where a list marker starts a row, after a row that ends a sentence when it
   is short (a paragraph's last line) or the next row is indented (a first-line indent), and
   after a short numbered first row that ends no sentence (a heading: pixels know no bold).
4. *Roles*, first rule that fits: page number (a number pattern at the page's top or bottom,
   or the page's topmost or lowest block near its edge),
   running header / footer (one line there with a page number at its start or end), table (two or more rows of several cells), code (fixed-pitch rows), caption (``Figure 3.``,
   ``Table 2:``), title (page 1, the largest text near the top), heading (short, no final stop,
   and larger, bold, numbered like ``2.1``, all capitals or a usual section name), display math
   (a short formula line), footnote (smaller text in the page's lower part), list item
   (``-``, ``•``, ``1.``, ``(a)``), paragraph.

:func:`mark_running` then looks at all pages of a document: short blocks at the top or bottom
of a page whose text (digits aside) comes back at the same place on several pages are the
running header or footer. It is idempotent, so a document finished twice, or resumed, gets the
same roles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from statistics import median
from typing import Optional, Sequence

from .roles import (
    CAPTION,
    CELL_SEPARATOR,
    CODE,
    FOOTNOTE,
    HEADING,
    LIST_ITEM,
    MATH,
    MAX_LEVEL,
    PAGE_FOOTER,
    PAGE_HEADER,
    PAGE_NUMBER,
    PARAGRAPH,
    TABLE,
    TITLE,
    Block,
    Box,
    Line,
)


@dataclass
class StructureConfig:
    """Thresholds of :func:`page_blocks` and :func:`mark_running`; boxes are page fractions."""

    #: a font size at least this many times the body's marks a heading ...
    heading_size: float = 1.12
    #: ... and an ink height this many times (ink heights vary with the letters of a line)
    heading_ink: float = 1.35
    #: the title is at least this many times the body's font size ...
    title_size: float = 1.3
    #: ... or its ink height this many times
    title_ink: float = 1.4
    #: the title starts above this fraction of the page height (page 1 only)
    title_zone: float = 0.4
    #: a heading has at most this many rows, characters and words
    heading_rows: int = 3
    heading_chars: int = 120
    heading_words: int = 16
    #: two font sizes within this ratio are one style (rows are not split between them)
    same_size: float = 1.08
    #: a row whose right edge is more than this share of its group's width short of the group's
    #: right edge, ending a sentence, is a paragraph's last line
    short_row: float = 0.15
    #: a paragraph's last row at least this share of the page's usual row width is full: the
    #: paragraph may go on in the next column or page (``Block.open_end``)
    full_row: float = 0.93
    #: rows of at least this many characters set the body size and the usual row width
    body_chars: int = 30
    #: a row starting this many character widths right of its group, after a sentence's end,
    #: starts a paragraph (a first-line indent; LaTeX paragraphs have no gap between them)
    indent_chars: float = 1.5
    #: blocks in the top this share of the page may be page furniture (JSS sets its running
    #: head down to 0.103, llncs and amsart to 0.13) ...
    header_zone: float = 0.135
    #: ... and in the bottom this share (footnotes end at ~0.9 of a letter page, above it)
    footer_zone: float = 0.08
    #: a page number alone may sit this far from the page's top or bottom when no block of the
    #: page lies beyond it (the article class and Sweave vignettes print it at 0.87-0.89)
    page_number_zone: float = 0.25
    #: smaller text (this share of the body's font size) below this height may be a footnote
    footnote_size: float = 0.92
    footnote_zone: float = 0.65
    #: ... or, for ink heights, this share of the body's, when it starts with a footnote marker
    footnote_ink: float = 0.88
    #: rows of two boxes overlapping by this share of the smaller height are one row
    row_overlap: float = 0.5
    #: a display formula has at most this many rows and words of 4+ letters
    math_rows: int = 3
    math_words: int = 2
    #: repeated text of the top/bottom zone is a running header/footer when found on this many
    #: pages (documents of up to ``short_document`` pages: on every page)
    running_pages: int = 3
    short_document: int = 3
    #: ... at the same height within this share of the page
    running_drift: float = 0.03
    #: a block of at most this many characters may be running furniture
    running_chars: int = 150
    #: without boxes, this many blocks at each end of a page may be furniture
    edge_blocks: int = 2

    def __post_init__(self) -> None:
        if not (1.0 < self.heading_size <= self.title_size and 1.0 < self.heading_ink <= self.title_ink):
            raise ValueError("size ratios must be > 1, headings no larger than titles")
        for name in ("title_zone", "short_row", "full_row", "header_zone", "footer_zone",
                     "page_number_zone", "footnote_size",
                     "footnote_zone", "footnote_ink", "row_overlap", "running_drift"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if min(self.heading_rows, self.heading_chars, self.heading_words, self.math_rows,
               self.running_pages, self.edge_blocks) < 1:
            raise ValueError("counts must be positive")


#: a page number alone: ``7``, ``- 7 -``, ``Page 7``, ``7 of 12``, ``7/12``, ``vii``
PAGE_NUMBER_RE = re.compile(r"^(?:page\s+)?[-\u2013\u2014]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*"
                            r"[-\u2013\u2014]?(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
#: a caption's start: ``Figure 3.``, ``Fig. 2:``, ``Table 1 -``, ``Listing 4``, ``Algorithm 1``
CAPTION_RE = re.compile(r"^(?:figure|fig\.|table|tab\.|listing|algorithm|scheme|chart|plate)"
                        r"\s*(?:\d+|[IVX]+)[a-z]?(?:\s*[.:|\u2013\u2014-]|\s*$|\s+[A-Z(])",
                        re.IGNORECASE)
#: a bulleted row: the bullet and the space after it
BULLET_RE = re.compile(r"^([\u2022\u25e6\u25aa\u25ab\u2023\u2219\u00b7\u25cf\u25cb\u25a0\u25a1"
                       r"\u27a2\u25ba\u2013\u2014*-])\s+(?=\S)")
#: an enumerated row: ``1.``, ``2)``, ``(a)``, ``b)``, ``iv.``, a reference's ``[12]``, and the
#: space after it
NUMBERED_RE = re.compile(r"^(\((?:\d{1,2}|[a-z]|[ivx]{1,4})\)|(?:\d{1,2}|[a-z]|[ivx]{1,4})[.)]"
                         r"|\[\d{1,3}\])\s+(?=\S)")
#: a section number before a heading's words: ``2``, ``2.1``, ``2.1.3.``, ``A.``, ``IV.``
SECTION_RE = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z]\.|[IVX]{1,5}\.)\s+(?=[A-Za-z])")
#: a footnote's marker
FOOTNOTE_RE = re.compile(r"^(?:\d{1,2}|[*\u2020\u2021\u00a7\u00b6])\s?\S")
#: characters of formulas
MATH_CHARS = frozenset("=+\u2212\u00d7\u00b7/^_<>\u2264\u2265\u2248\u2260\u2211\u220f\u222b\u221a"
                       "\u221e\u2202\u2207\u2208\u2200\u2203\u03b1\u03b2\u03b3\u03b4\u03b5\u03b8"
                       "\u03bb\u03bc\u03c0\u03c3\u03c6\u03c8\u03c9\u03a3\u03a0\u0394\u03a9")
_STRONG_MATH = frozenset("=\u2264\u2265\u2248\u2260\u2211\u220f\u222b\u221a")
#: unnumbered section names of papers and reports
SECTION_NAMES = frozenset({
    "abstract", "introduction", "background", "related work", "method", "methods", "methodology",
    "approach", "experiments", "experimental setup", "evaluation", "results", "discussion",
    "conclusion", "conclusions", "future work", "limitations", "acknowledgments",
    "acknowledgements", "acknowledgment", "acknowledgement", "references", "bibliography",
    "appendix", "appendices", "contents", "table of contents", "summary", "keywords", "index",
    "preface", "overview",
})
_END_OF_SENTENCE = ".!?:"
_CLOSERS = "\"')]}\u201d\u2019"


#: a footnote mark after a sentence's end: ``package.1``, ``done.*``
_MARK_AFTER_STOP = re.compile(r"(?<=[.!?])(?:\d{1,2}|[*\u2020\u2021])$")


def ends_sentence(text: str) -> bool:
    """Whether text ends a sentence (``.``, ``!``, ``?``, ``:``, closing quotes and a footnote
    mark after the stop aside)."""
    t = _MARK_AFTER_STOP.sub("", text.rstrip()).rstrip(_CLOSERS)
    return bool(t) and t[-1] in _END_OF_SENTENCE


def union(boxes: Sequence[Optional[Box]]) -> Optional[Box]:
    """The box around every known box (None when none is known)."""
    known = [b for b in boxes if b is not None]
    if not known:
        return None
    return (min(b[0] for b in known), min(b[1] for b in known),
            max(b[2] for b in known), max(b[3] for b in known))


@dataclass
class _Row:
    """Lines of one row (cells left to right) and what the rules ask of them."""

    cells: list[Line] = field(default_factory=list)

    @property
    def first(self) -> Line:
        return self.cells[0]

    @property
    def text(self) -> str:
        return CELL_SEPARATOR.join(c.text for c in self.cells)

    @property
    def plain(self) -> str:
        """The row's text with cells joined by spaces (what a reader of the line sees)."""
        return " ".join(c.text for c in self.cells)

    @property
    def n_cells(self) -> int:
        return len(self.cells) if len(self.cells) > 1 else self.first.cells

    @property
    def box(self) -> Optional[Box]:
        return union([c.box for c in self.cells])

    @property
    def size(self) -> Optional[float]:
        sizes = [c.size for c in self.cells if c.size is not None]
        return max(sizes) if sizes else None

    @property
    def bold(self) -> Optional[bool]:
        return None if self.first.bold is None else all(bool(c.bold) for c in self.cells)

    @property
    def mono(self) -> Optional[bool]:
        return None if self.first.mono is None else all(bool(c.mono) for c in self.cells)


def _same_row(a: Line, b: Line, overlap: float) -> bool:
    """Whether ``b`` continues ``a``'s row: to its right, sharing most of its height."""
    if a.box is None or b.box is None or a.block != b.block:
        return False
    shared = min(a.box[3], b.box[3]) - max(a.box[1], b.box[1])
    smaller = min(a.box[3] - a.box[1], b.box[3] - b.box[1])
    return smaller > 0 and shared >= overlap * smaller and b.box[0] >= a.box[2]


def _rows(lines: Sequence[Line], cfg: StructureConfig) -> list[_Row]:
    rows: list[_Row] = []
    for line in lines:
        if not line.text.strip():
            continue
        if rows and _same_row(rows[-1].cells[-1], line, cfg.row_overlap):
            rows[-1].cells.append(line)
        else:
            rows.append(_Row([line]))
    return rows


@dataclass
class _Page:
    """What the rules compare a page's rows to."""

    body: Optional[float]  # the body text size (None: no sizes)
    ink: bool  # sizes are ink heights
    body_bold: bool  # the body text is bold (then bold marks nothing)
    row_width: Optional[float]  # the usual width of a body row (page fraction)
    page: int


def _page_stats(rows: Sequence[_Row], page: int, cfg: StructureConfig) -> _Page:
    long = [r for r in rows if len(r.plain) >= cfg.body_chars] or list(rows)
    sizes = [r.size for r in long if r.size is not None]
    widths = [r.box[2] - r.box[0] for r in long if r.box is not None]
    bolds = [r.bold for r in long if r.bold is not None]
    return _Page(median(sizes) if sizes else None, any(r.first.size_is_ink for r in rows),
                 bool(bolds) and 2 * sum(bolds) > len(bolds), median(widths) if widths else None,
                 page)


def _style_changes(a: _Row, b: _Row, cfg: StructureConfig) -> bool:
    if a.bold is not None and b.bold is not None and a.bold != b.bold:
        return True
    if a.mono is not None and b.mono is not None and a.mono != b.mono:
        return True
    if a.size and b.size and not a.first.size_is_ink:
        ratio = max(a.size, b.size) / min(a.size, b.size)
        return ratio > cfg.same_size
    return False


def _marker(text: str) -> Optional[re.Match]:
    return BULLET_RE.match(text) or NUMBERED_RE.match(text)


def _indented(row: Optional[_Row], group: Sequence[_Row], left: float,
              cfg: StructureConfig) -> bool:
    """Whether ``row`` starts with a first-line indent against ``group``'s left edge: between
    :attr:`StructureConfig.indent_chars` character widths (LaTeX's 1.5 em) and 4 times that.
    (A first-line indent is followed by a row at the left edge again; rows that all stay
    indented are a hanging indent: a reference, a list item.)"""
    if row is None:
        return False
    widths = [(r.box[2] - r.box[0]) / len(r.plain) for r in (*group, row)
              if r.box is not None and len(r.plain) >= cfg.body_chars]
    if row.box is None or not widths:
        return False
    cw = median(widths)
    return cfg.indent_chars * cw <= row.box[0] - left <= 4 * cfg.indent_chars * cw


def _first_line_indent(rows: Sequence[_Row], k: int, group: Sequence[_Row], left: float,
                       cfg: StructureConfig) -> bool:
    """Whether row ``k`` is a paragraph's indented first line in ``group``: indented, and the
    row after it (of the same source group, no list marker) back at the left edge. Rows of a
    group that starts with a list marker (a list item, a reference) hang: never split."""
    nxt = rows[k + 1] if k + 1 < len(rows) else None
    return (not _marker(group[0].plain) and nxt is not None
            and nxt.first.block == rows[k].first.block and not _marker(nxt.plain)
            and _indented(rows[k], group, left, cfg) and not _indented(nxt, group, left, cfg))


def _numbered_heading_row(row: _Row, short_of: float) -> bool:
    """A row that reads as a numbered heading (``2. Data structure: epidataCS``, ``1.3. Special
    cases``): a section number, at most 10 words, no sentence end, ending left of ``short_of``.
    Pixels know no bold, so a heading set in the body's size comes in one layout block with its
    paragraph; this splits it off."""
    m = SECTION_RE.match(row.plain)
    return (bool(m) and row.box is not None and row.box[2] < short_of
            and len(row.plain.split()) <= 10 and not ends_sentence(row.plain)
            and row.plain[m.end():m.end() + 1].isupper())


def _groups(rows: Sequence[_Row], page: _Page, cfg: StructureConfig) -> list[list[_Row]]:
    """Rows into candidate blocks (step 3 of the module docstring)."""
    groups: list[list[_Row]] = []
    for k, row in enumerate(rows):
        cur = groups[-1] if groups else None
        if cur is None or cur[-1].first.block != row.first.block or _style_changes(cur[-1], row, cfg):
            groups.append([row])
            continue
        prev = cur[-1]
        if _marker(row.plain) and not (row.mono or prev.mono):
            groups.append([row])
            continue
        right = max((r.box[2] for r in cur if r.box is not None), default=None)
        left = min((r.box[0] for r in cur if r.box is not None), default=None)
        width = max(right - left if right is not None and left is not None else 0.0,
                    page.row_width or 0.0)
        if (right is not None and left is not None and prev.box is not None and not prev.mono
                and ends_sentence(prev.plain) and row.plain[:1].isupper()
                and (prev.box[2] - left < (1 - cfg.short_row) * width
                     or _first_line_indent(rows, k, cur, left, cfg))):
            groups.append([row])  # the previous row was a paragraph's last line
            continue
        if (len(cur) == 1 and right is not None and left is not None and row.plain[:1].isupper()
                and _numbered_heading_row(prev, left + (1 - cfg.short_row) * width)):
            groups.append([row])  # a numbered heading above its paragraph, in one source group
            continue
        cur.append(row)
    return groups


#: a running header's page number at its start or end: ``2 forecast: Automatic ...``,
#: ``Journal of Statistical Software 3``, a page range ``Vignette | 1\u20138``, or a number set
#: close before capitals (amsart's ``2GIANFRANCO MESSTORFF, ...``)
_NUMBER_AT_END = re.compile(r"^\d{1,4}\s+\S|\S\s+\d{1,4}(?:[-\u2013]\d{1,4})?$|^\d{1,4}(?=[A-Z]{3})")


_NUMBER_CELL = re.compile(r"^\d{1,4}$")


def numbered_running(text: str, box: Optional[Box], cfg: StructureConfig) -> Optional[str]:
    """``page-header`` / ``page-footer`` for one line of the top / bottom zone that carries a
    page number at its start or end beside a running title; None otherwise (a section heading
    such as ``1 Introduction`` too, unless the number is a cell of its own, apart from the
    words: ``14 | RProtoBuf: Protocol Buffers in R``, JSS's running head). Decided from the
    text (a row's cells joined by :data:`~.roles.CELL_SEPARATOR`) and box alone, so the
    document pass (:func:`mark_running`) can decide it again."""
    zone = _in_zone(box, cfg)
    t = text.strip()
    if zone is None or "\n" in t or len(t) > cfg.running_chars or not _NUMBER_AT_END.search(t):
        return None
    cells = [c.strip() for c in t.split(CELL_SEPARATOR)]
    apart = len(cells) > 1 and bool(_NUMBER_CELL.match(cells[0]) or _NUMBER_CELL.match(cells[-1]))
    m = SECTION_RE.match(t)
    if m and not apart and t[m.end():m.end() + 1].isupper() and not re.search(r"\s\d{1,4}$", t):
        return None
    return PAGE_HEADER if zone == "top" else PAGE_FOOTER


def _in_zone(box: Optional[Box], cfg: StructureConfig) -> Optional[str]:
    """``top`` / ``bottom`` when the box lies in the page's header / footer zone."""
    if box is None:
        return None
    if box[3] <= cfg.header_zone:
        return "top"
    if box[1] >= 1.0 - cfg.footer_zone:
        return "bottom"
    return None


def _ratio(row_size: Optional[float], page: _Page) -> Optional[float]:
    if row_size is None or not page.body:
        return None
    return row_size / page.body


def _heading_level(text: str, ratio: Optional[float], big: float) -> int:
    """A heading's level: its section number's depth (``2`` -> 2, ``2.1`` -> 3, ``A.`` -> 2),
    else 2 for text at least ``big`` times the body's size and 3 for the rest."""
    m = SECTION_RE.match(text)
    if m and m.group(1)[0].isdigit():
        return min(MAX_LEVEL, m.group(1).rstrip(".").count(".") + 2)
    if m:
        return 2
    return 2 if ratio is not None and ratio >= big else 3


def _is_heading(rows: Sequence[_Row], page: _Page, cfg: StructureConfig) -> bool:
    text = " ".join(r.plain for r in rows)
    words = text.split()
    if (len(rows) > cfg.heading_rows or len(text) > cfg.heading_chars
            or len(words) > cfg.heading_words or not any(ch.isalpha() for ch in text)):
        return False
    if text.rstrip()[-1:] in ".,;" and not SECTION_RE.match(text):
        return False
    if text.count(",") >= 2 and not SECTION_RE.match(text):
        return False  # a list of names (authors), not a heading
    ratio = _ratio(max((r.size for r in rows if r.size is not None), default=None), page)
    threshold = cfg.heading_ink if page.ink else cfg.heading_size
    if ratio is not None and ratio >= threshold:
        return True
    if all(r.bold for r in rows) and not page.body_bold:
        return True
    name = SECTION_RE.sub("", text).strip().rstrip(":").lower()
    if name in SECTION_NAMES:
        return True
    m = SECTION_RE.match(text)
    if m and len(words) <= 10 and len(rows) == 1 and not ends_sentence(text):
        return text[m.end():m.end() + 1].isupper()
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 4 and all(ch.isupper() for ch in letters) and len(words) <= 8 \
        and len(rows) <= 2


def _capital_section(rows: Sequence[_Row]) -> bool:
    """A one-row heading numbered as footnotes never are (``III.``, ``A.``, ``2.``, ``2.1``) or
    set in capitals: IEEEtran's ``III. NUMERICAL EXPERIMENTS`` and ``I. Introduction`` are set
    in small capitals smaller than the body, a heading, not a footnote (whose marks are
    ``1``, ``*``)."""
    text = rows[0].plain
    m = SECTION_RE.match(text)
    if not m or len(rows) != 1 or ends_sentence(text) or len(text.split()) > 10:
        return False
    letters = [ch for ch in text[m.end():] if ch.isalpha()]
    number = m.group(1)
    return len(letters) >= 4 and text[m.end()].isupper() and (
        all(ch.isupper() for ch in letters) or not number.isdigit())


def _is_math(rows: Sequence[_Row], cfg: StructureConfig) -> bool:
    if len(rows) > cfg.math_rows:
        return False
    text = " ".join(r.plain for r in rows)
    if not any(ch in _STRONG_MATH for ch in text):
        return False
    long_words = [w for w in re.findall(r"[A-Za-z]{4,}", text)]
    symbols = sum(ch in MATH_CHARS for ch in text)
    return len(long_words) <= cfg.math_words and symbols >= 1


def _code_text(rows: Sequence[_Row]) -> str:
    """A code block's rows with the indentation their boxes show (in character widths)."""
    boxed = [r for r in rows if r.box is not None and r.plain]
    if len(boxed) != len(rows):
        return "\n".join(r.plain for r in rows)
    widths = [(r.box[2] - r.box[0]) / len(r.plain) for r in boxed]  # type: ignore[index]
    cw = median(widths)
    left = min(r.box[0] for r in boxed)  # type: ignore[index]
    return "\n".join(" " * (round((r.box[0] - left) / cw) if cw > 0 else 0) + r.plain  # type: ignore[index]
                     for r in rows)


def _title_candidate(rows: Sequence[_Row], page: _Page, cfg: StructureConfig) -> Optional[float]:
    """The size ratio of a group that may be page 1's title (None: it may not)."""
    box = union([r.box for r in rows])
    ratio = _ratio(max((r.size for r in rows if r.size is not None), default=None), page)
    big = cfg.title_ink if page.ink else cfg.title_size
    if (page.page != 1 or ratio is None or ratio < big or len(rows) > cfg.heading_rows + 1
            or box is None or box[1] > cfg.title_zone or all(r.mono for r in rows)
            or _numbered_section(rows[0].plain)):
        return None
    return ratio


def _numbered_section(text: str) -> bool:
    """Whether text starts with an arabic section number (``3 Results``, ``2.1. Data``): a
    heading, never the title."""
    m = SECTION_RE.match(text)
    return bool(m) and m.group(1)[0].isdigit()


def _fallback_title(groups: Sequence[Sequence[_Row]], page: _Page, cfg: StructureConfig) -> Optional[int]:
    """Page 1's title when no text is :attr:`StructureConfig.title_size` times the body's:
    the largest heading-like group near the top that is larger than the body (a heading's
    margin) or bold, and neither numbered nor a usual section name (revtex's and elsarticle's
    preprint titles are 1.2 times the body, amsart's bold capitals 1.1 times)."""
    if page.page != 1:
        return None
    best, best_ratio = None, 0.0
    for i, rows in enumerate(groups):
        box = union([r.box for r in rows])
        ratio = _ratio(max((r.size for r in rows if r.size is not None), default=None), page)
        text = " ".join(r.plain for r in rows)
        if (box is None or ratio is None or box[1] > cfg.title_zone or all(r.mono for r in rows)
                or SECTION_RE.match(text) or SECTION_RE.sub("", text).strip().rstrip(":").lower()
                in SECTION_NAMES or not _is_heading(rows, page, cfg)):
            continue
        big = ratio >= (cfg.heading_ink if page.ink else cfg.heading_size)
        bold = all(r.bold for r in rows) and not page.body_bold
        if (big or bold) and ratio > best_ratio + 1e-6:
            best, best_ratio = i, ratio
    return best


def _classify(rows: list[_Row], index: int, n_groups: int, page: _Page, is_title: bool,
              cfg: StructureConfig, extreme: bool = False) -> Block:
    box = union([r.box for r in rows])
    plain = "\n".join(r.plain for r in rows)
    first = rows[0].plain
    zone = _in_zone(box, cfg)
    at_edge = zone is not None or extreme or (box is None and index in (0, n_groups - 1))
    if len(rows) == 1 and at_edge and PAGE_NUMBER_RE.match(first.strip()):
        return Block(PAGE_NUMBER, first, box)
    multi = sum(r.n_cells > 1 for r in rows)
    if len(rows) >= 2 and multi >= max(2, 0.6 * len(rows)):
        return Block(TABLE, "\n".join(r.text for r in rows), box)
    if all(r.mono for r in rows):
        return Block(CODE, _code_text(rows), box)
    if CAPTION_RE.match(first):
        return Block(CAPTION, plain, box)
    ratio = _ratio(max((r.size for r in rows if r.size is not None), default=None), page)
    title_ratio = cfg.title_ink if page.ink else cfg.title_size
    if is_title:
        return Block(TITLE, plain, box, level=1)
    cells = rows[0].text if len(rows) == 1 else plain  # a running head keeps its cells apart
    running = numbered_running(cells, box, cfg)
    if running is not None and not any(r.bold for r in rows) and (ratio is None or ratio < cfg.heading_size):
        return Block(running, cells, box)
    if (ratio is not None and box is not None and box[1] >= cfg.footnote_zone and zone is None
            and not NUMBERED_RE.match(first) and not BULLET_RE.match(first)
            and not _capital_section(rows)
            and (ratio <= cfg.footnote_size if not page.ink
                 else ratio <= cfg.footnote_ink and FOOTNOTE_RE.match(first))):
        return Block(FOOTNOTE, plain, box)
    if _is_heading(rows, page, cfg):
        return Block(HEADING, plain, box, level=_heading_level(first, ratio, title_ratio))
    if _is_math(rows, cfg):
        return Block(MATH, plain, box)
    if _marker(first):
        return Block(LIST_ITEM, plain, box)
    open_end = False
    last = rows[-1].box
    if last is not None and page.row_width:
        open_end = (last[2] - last[0]) >= cfg.full_row * page.row_width
    return Block(PARAGRAPH, plain, box, open_end=open_end)


def page_blocks(lines: Sequence[Line], page: int = 1,
                cfg: Optional[StructureConfig] = None) -> list[Block]:
    """The blocks of one page, in reading order (see the module docstring).

    Args:
        lines: the page's lines in reading order, from either source.
        page: the 1-based page number (the title is looked for on page 1 only).
        cfg: thresholds; None = the defaults.
    """
    cfg = cfg or StructureConfig()
    rows = _rows(lines, cfg)
    if not rows:
        return []
    stats = _page_stats(rows, page, cfg)
    groups = _groups(rows, stats, cfg)
    # the title: the largest text near the top of page 1 (a journal's masthead above it is
    # smaller; the first of equals wins)
    ratios = [_title_candidate(g, stats, cfg) for g in groups]
    best = max((r for r in ratios if r is not None), default=None)
    title = next((i for i, r in enumerate(ratios) if best is not None and r is not None
                  and r >= best - 1e-6), None)
    if title is None:
        title = _fallback_title(groups, stats, cfg)
    extremes = _extremes(groups, cfg)
    return [_classify(g, i, len(groups), stats, i == title, cfg, i in extremes)
            for i, g in enumerate(groups)]


def _extremes(groups: Sequence[Sequence[_Row]], cfg: StructureConfig) -> set[int]:
    """The topmost and the lowest group of the page, where each lies within
    :attr:`StructureConfig.page_number_zone` of its edge: where a page number alone may be."""
    boxes = [(i, union([r.box for r in g])) for i, g in enumerate(groups)]
    known = [(i, b) for i, b in boxes if b is not None]
    if not known:
        return set()
    top = min(known, key=lambda ib: ib[1][1])
    low = max(known, key=lambda ib: ib[1][3])
    out = set()
    if top[1][3] <= cfg.page_number_zone:
        out.add(top[0])
    if low[1][1] >= 1.0 - cfg.page_number_zone:
        out.add(low[0])
    return out


def text_lines(text: str) -> list[Line]:
    """The lines of a page known only by its text (an old record, an OCR page whose lines could
    not be matched to the layout): paragraphs at blank lines, no boxes, sizes or fonts."""
    out = []
    for i, para in enumerate(text.split("\n\n")):
        out.extend(Line(line.strip(), block=i) for line in para.split("\n") if line.strip())
    return out


# ------------------------------------------------------------------------------------------------
# Across the pages of a document
# ------------------------------------------------------------------------------------------------

#: roles a block of the top or bottom zone may have and still be running furniture
_MAY_RUN = frozenset({PARAGRAPH, HEADING, FOOTNOTE, PAGE_HEADER, PAGE_FOOTER, LIST_ITEM})


def _running_key(text: str) -> str:
    """Text compared across pages: lowercase, digits and roman page numbers as ``#``."""
    t = re.sub(r"\d+", "#", text.lower())
    t = re.sub(r"\b[ivxlc]{1,7}\b", "#", t)
    return " ".join(t.split())


def _candidates(blocks: Sequence[Block], cfg: StructureConfig) -> list[tuple[int, str]]:
    """(index, zone) of the blocks of a page that may be running furniture."""
    out = []
    n = len(blocks)
    for i, b in enumerate(blocks):
        if b.role not in _MAY_RUN or len(b.text) > cfg.running_chars:
            continue
        zone = _in_zone(b.box, cfg)
        if zone is None and b.box is None and "\n" not in b.text and n > 2 * cfg.edge_blocks:
            # without boxes: a one-line block among the first or last of a page with a body
            zone = "top" if i < cfg.edge_blocks else "bottom" if i >= n - cfg.edge_blocks else None
        if zone is not None:
            out.append((i, zone))
    return out


def mark_running(pages: Sequence[list[Block]], cfg: Optional[StructureConfig] = None) -> None:
    """Tag running headers and footers across a document's pages, in place.

    A block of a page's top (bottom) zone is a page header (footer) when blocks of the same text
    (digits aside: ``page 3``, ``Smith et al. 2024 7``) sit at the same height on at least
    :attr:`StructureConfig.running_pages` pages (every page of a short document). Blocks tagged
    so by an earlier pass that no longer repeat are paragraphs again: the pass depends only on
    the pages, not on what it decided before.
    """
    cfg = cfg or StructureConfig()
    seen: dict[tuple[str, str], list[tuple[int, int, Optional[float]]]] = {}
    for p, blocks in enumerate(pages):
        for i, zone in _candidates(blocks, cfg):
            b = blocks[i]
            y = None if b.box is None else (b.box[1] + b.box[3]) / 2
            seen.setdefault((zone, _running_key(b.text)), []).append((p, i, y))
    need = len(pages) if len(pages) <= cfg.short_document else cfg.running_pages
    running: set[tuple[int, int]] = set()
    for (zone, _), hits in seen.items():
        ys = [y for _, _, y in hits if y is not None]
        centre = median(ys) if ys else None
        near = [(p, i) for p, i, y in hits
                if centre is None or y is None or abs(y - centre) <= cfg.running_drift]
        if len({p for p, _ in near}) >= max(2, need):
            running.update(near)
    for p, blocks in enumerate(pages):
        for i, zone in _candidates(blocks, cfg):
            b = blocks[i]
            if (p, i) in running:
                b.role, b.level, b.open_end = (PAGE_HEADER if zone == "top" else PAGE_FOOTER), 0, False
            elif b.role in (PAGE_HEADER, PAGE_FOOTER):
                b.role = numbered_running(b.text, b.box, cfg) or PARAGRAPH
