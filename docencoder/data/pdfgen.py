"""Synthetic whitepaper-like PDFs with exact ground truth, rasterised like the CLI's pages.

Why generate PDFs rather than draw text images directly: inference reads PDFs rendered by
:func:`docencoder.pdf.render.render_page`, so training pages should come out of the same renderer,
with the same hinting, anti-aliasing and layout conventions (columns, justified text with
hyphenation, footnotes, captions, ruled tables, display math, running headers, page numbers).

Ground truth is taken from the generated PDF's own text layer (:mod:`docencoder.pdf.textlayer`),
exactly as for real digital PDFs; the generator also records the text it drew, in drawing order, so a test can
prove that both agree. Everything is drawn in reading order (header, column 1 with its footnotes,
column 2 with its footnotes, page number), which is the order the text layer reports.

Layout is done here (greedy line breaking, justification by word placement as TeX does,
naive hyphenation) rather than with reportlab's platypus, because only then is it known exactly
which text went onto which page and line.
"""

from __future__ import annotations

import functools
import io
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

from PIL import Image

from .fonts import Font, available_fonts

PathLike = Union[str, Path]

#: points per inch (PDF user space)
PT_PER_INCH = 72.0
_PAGE_SIZES = {"letter": (612.0, 792.0), "a4": (595.2756, 841.8898)}

#: a few paragraphs for tests and for machines without the corpus
FALLBACK_PARAGRAPHS = (
    "The encoder compresses a rendered page into a short sequence of vision tokens, and a small "
    "language model decodes the text from them. Windowed attention keeps the activations small "
    "at high resolution, while global attention runs only on the compressed tokens.",
    "We evaluate the system on scanned and digital documents with one or two columns, tables and "
    "mathematical notation. Character error rates are reported per page and aggregated over the "
    "whole collection, together with the throughput in pages per second.",
    "Training data is produced synthetically: paragraphs of technical prose are typeset in several "
    "fonts and sizes, rasterised at resolutions between 100 and 300 dots per inch, and paired "
    "with the exact text that was drawn.",
    "Hyphenation, ligatures and justified spacing make the text layer of a digital document "
    "harder to read than it looks; the extraction therefore rebuilds every line from the "
    "positions of its characters instead of trusting the order of the content stream.",
)

_FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Leslie",
                "Radia", "Tim", "Margaret", "Ken", "Dennis", "Niklaus", "Shafi", "Yann", "Fei")
_LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
               "Lamport", "Perlman", "Berners", "Hamilton", "Thompson", "Ritchie", "Wirth",
               "Goldwasser", "LeCun", "Li", "Okafor", "Nakamura", "Schmidt", "Rossi")
_INSTITUTES = ("Department of Computer Science", "Institute for Applied Mathematics",
               "School of Engineering", "Research Laboratory for Document Analysis")
_CITIES = ("Zurich", "Toronto", "Kyoto", "Lisbon", "Nairobi", "Austin", "Helsinki", "Pune")

#: ASCII stand-ins for math symbols a font lacks (applied before dropping what still is missing)
_ASCII_MATH = {"Σ": "sum", "∑": "sum", "∫": "int", "≤": "<=", "≥": ">=", "≈": "~", "∈": "in",
               "−": "-", "‖": "||", "∇": "grad", "ε": "eps", "η": "eta", "θ": "theta",
               "λ": "lambda", "μ": "mu", "σ": "sigma", "α": "alpha", "β": "beta", "γ": "gamma",
               "π": "pi", "×": "x", "·": "*", "…": "...", "→": "->", "∞": "inf", "²": "^2",
               "•": "-", "–": "-", "—": "-", "∂": "d", "√": "sqrt", "δ": "delta", "φ": "phi",
               "ω": "omega", "Δ": "Delta", "Ω": "Omega", "ρ": "rho", "τ": "tau", "ξ": "xi"}


# ---------------------------------------------------------------------- configuration
@dataclass
class PdfGenConfig:
    """Sampling ranges of the whitepaper generator (per document unless noted)."""

    pages: tuple[int, int] = (1, 2)  # pages per document
    body_pt: tuple[float, float] = (7.0, 12.0)  # body text size; headings go up to ``max_pt``
    max_pt: float = 14.0  # largest heading size (the title may reach 1.3x this)
    two_column_prob: float = 0.5
    justified_prob: float = 0.65
    hyphenate_prob: float = 0.6  # share of justified documents that hyphenate
    page_sizes: tuple[str, ...] = ("letter", "a4")
    margin_in: tuple[float, float] = (0.6, 1.2)  # page margins, inches
    gutter_pt: tuple[float, float] = (12.0, 26.0)  # column gap
    leading: tuple[float, float] = (1.12, 1.3)  # baseline distance / font size
    dpi: tuple[int, int] = (100, 300)  # rasterisation resolution (per document)
    #: look-alike classes for the body text and how often each is drawn
    body_kinds: dict[str, float] = field(default_factory=lambda: {
        "computer-modern": 0.45, "times": 0.35, "helvetica": 0.2})
    #: element mix of the running text
    element_weights: dict[str, float] = field(default_factory=lambda: {
        "paragraph": 0.56, "heading": 0.09, "list": 0.07, "math": 0.09, "figure": 0.05,
        "table": 0.07, "code": 0.04, "footnote_paragraph": 0.03})


# ---------------------------------------------------------------------- fonts
@dataclass(frozen=True)
class _Face:
    """One registered reportlab font and the code points it can draw."""

    name: str
    cmap: frozenset


@functools.lru_cache(maxsize=None)
def _register(font: Font) -> _Face:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"dx-{font.family.replace(' ', '')}-{font.style}"
    tt = TTFont(name, str(font.path))
    pdfmetrics.registerFont(tt)
    return _Face(name, frozenset(tt.face.charToGlyph))


@dataclass(frozen=True)
class _Family:
    """Regular/bold/italic faces of one family (missing styles fall back to regular)."""

    family: str
    kind: str
    faces: dict

    def face(self, style: str) -> _Face:
        return self.faces.get(style) or self.faces.get("bold" if "bold" in style else "regular") \
            or self.faces["regular"]


@functools.lru_cache(maxsize=1)
def truetype_families() -> tuple[_Family, ...]:
    """Every family with a TrueType regular face, registered with reportlab."""
    by_family: dict[str, dict] = {}
    kinds: dict[str, str] = {}
    for font in available_fonts():
        if font.truetype:
            by_family.setdefault(font.family, {})[font.style] = _register(font)
            kinds[font.family] = font.kind
    fams = tuple(_Family(f, kinds[f], faces) for f, faces in by_family.items() if "regular" in faces)
    if not fams:
        raise RuntimeError("no TrueType fonts found for reportlab: install fonts-cmu, "
                           "fonts-liberation, fonts-freefont-ttf or fonts-dejavu-core")
    return fams


def _fit_text(text: str, face: _Face) -> str:
    """``text`` restricted to what ``face`` can draw: ASCII stand-ins first, then dropped words."""
    if all(ord(c) in face.cmap or c == " " for c in text):
        return text
    text = "".join(c if ord(c) in face.cmap else _ASCII_MATH.get(c, c) for c in text)
    words = [w for w in text.split(" ") if all(ord(c) in face.cmap for c in w)]
    return " ".join(w for w in words if w)


# ---------------------------------------------------------------------- document result
@dataclass
class GeneratedPdf:
    """A generated document: the PDF bytes and, per page, the text pieces in drawing order."""

    pdf: bytes
    pages: list[list[str]]
    dpi: int
    seed: int
    style: dict

    def page_text(self, index: int) -> str:
        """What the generator drew on page ``index``, pieces joined by newlines."""
        return "\n".join(self.pages[index])


@dataclass
class _Style:
    page: tuple[float, float]
    margin: float
    columns: int
    gutter: float
    body: _Family
    heading: _Family
    mono: _Family
    size: float
    leading: float
    justified: bool
    hyphenate: bool
    indent_paragraphs: bool
    header: Optional[str]
    header_rule: bool
    page_number: str  # "footer", "header" or "none"
    table_grid: bool


class _Full(Exception):
    """Raised when the document has reached its page count."""


@dataclass
class _Word:
    text: str
    face: _Face
    size: float
    sup: str = ""  # a footnote mark drawn raised right after the word
    note: Optional[list] = None  # the footnote's lines (list of word lists) when ``sup`` is set


class _Writer:
    """Lays out and draws elements, column by column, recording every drawn text piece."""

    def __init__(self, style: _Style, rng: random.Random, n_pages: int, title: str) -> None:
        from reportlab.pdfgen import canvas

        self.s = style
        self.rng = rng
        self.n_pages = n_pages
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=style.page, invariant=1)
        self.c.setTitle(title)
        self.pages: list[list[str]] = []
        self.page_no = 0
        self.footnotes: list[list[_Word]] = []  # pending for the current column
        self.footnote_no = 0
        self.figure_no = 0
        self.table_no = 0
        self.eq_no = 0
        self.open = False  # a page is being drawn
        self._new_page()

    # ------------------------------------------------------------- page geometry
    @property
    def col_width(self) -> float:
        w = self.s.page[0] - 2 * self.s.margin
        return (w - (self.s.columns - 1) * self.s.gutter) / self.s.columns

    @property
    def full_width(self) -> float:
        return self.s.page[0] - 2 * self.s.margin

    def col_x(self, col: int) -> float:
        return self.s.margin + col * (self.col_width + self.s.gutter)

    def _top(self) -> float:
        return self.s.page[1] - self.s.margin

    def _bottom(self) -> float:
        return self.s.margin + (2.5 * self.s.size if self.s.page_number == "footer" else 0)

    def _record(self, text: str) -> None:
        if text.strip():
            self.pages[-1].append(text)

    def finish_page(self) -> None:
        """Draw the open page's pending footnotes and its footer, and close it."""
        self._flush_footnotes()
        self._draw_footer()
        self.c.showPage()
        self.open = False

    def _new_page(self) -> None:
        if self.open:
            self.finish_page()
        if len(self.pages) >= self.n_pages:
            raise _Full
        self.pages.append([])
        self.open = True
        self.page_no += 1
        self.col = 0
        self.y = self._top()
        self.col_top = self.y
        self._draw_header()

    def _draw_header(self) -> None:
        s = self.s
        if s.header is None and s.page_number != "header":
            return
        size = max(7.0, s.size - 1)
        y = s.page[1] - s.margin + 1.2 * size
        face = s.body.face("italic")
        if s.header:
            text = _fit_text(s.header, face)
            self.c.setFont(face.name, size)
            self.c.drawString(s.margin, y, text)
            self._record(text)
        if s.page_number == "header":
            num = str(self.page_no)
            face = s.body.face("regular")
            self.c.setFont(face.name, size)
            self.c.drawRightString(s.page[0] - s.margin, y, num)
            self._record(num)
        if s.header_rule:
            self.c.setLineWidth(0.4)
            self.c.line(s.margin, y - 0.35 * size, s.page[0] - s.margin, y - 0.35 * size)

    def _draw_footer(self) -> None:
        s = self.s
        if s.page_number != "footer":
            return
        face = s.body.face("regular")
        self.c.setFont(face.name, s.size)
        num = str(self.page_no)
        self.c.drawCentredString(s.page[0] / 2, s.margin, num)
        self._record(num)

    def next_column(self) -> None:
        """Finish the column (its footnotes) and move to the next one or the next page."""
        self._flush_footnotes()
        if self.col + 1 < self.s.columns:
            self.col += 1
            self.y = self.col_top
        else:
            self._new_page()

    def ensure(self, height: float) -> None:
        """Make room for ``height`` points in the current column (moving on if needed)."""
        if self.y - height < self._bottom() + self._footnote_height():
            self.next_column()
            if self.y - height < self._bottom() + self._footnote_height():
                raise _Full  # taller than a whole column: end the document here

    def space(self, amount: float) -> None:
        if self.y != self.col_top:
            self.y -= amount

    # ------------------------------------------------------------- text lines
    def _line_height(self, size: float) -> float:
        return size * self.s.leading

    def draw_words(self, words: Sequence[_Word], x: float, width: float, align: str,
                   last: bool) -> None:
        """Draw one line of words at the current baseline; ``align`` left/center/right/justify."""
        space = [self._width(" ", w.face, w.size) for w in words]
        widths = [self._word_width(w) for w in words]
        natural = sum(widths) + sum(space[:-1])
        gaps = space[:-1]
        if align == "justify" and not last and len(words) > 1:
            extra = (width - natural) / (len(words) - 1)
            gaps = [g + extra for g in gaps]
            x0 = x
        elif align == "center":
            x0 = x + (width - natural) / 2
        elif align == "right":
            x0 = x + width - natural
        else:
            x0 = x
        # ragged lines with one face are drawn as one string (real spaces, as word processors
        # do); justified ones word by word (positioned, no space characters, as TeX does)
        single = len({(w.face.name, w.size) for w in words}) == 1 and not any(w.sup for w in words)
        if align != "justify" and single:
            self.c.setFont(words[0].face.name, words[0].size)
            self.c.drawString(x0, self.y, " ".join(w.text for w in words))
        else:
            pos = x0
            for w, wd, gap in zip(words, widths, gaps + [0.0]):
                self.c.setFont(w.face.name, w.size)
                self.c.drawString(pos, self.y, w.text)
                if w.sup:
                    self.c.setFont(w.face.name, w.size * 0.65)
                    self.c.drawString(pos + self._width(w.text, w.face, w.size),
                                      self.y + 0.38 * w.size, w.sup)
                pos += wd + gap
        self._record(" ".join(w.text + w.sup for w in words))

    @staticmethod
    def _width(text: str, face: _Face, size: float) -> float:
        from reportlab.pdfbase.pdfmetrics import stringWidth

        return stringWidth(text, face.name, size)

    def _word_width(self, w: _Word) -> float:
        width = self._width(w.text, w.face, w.size)
        return width + (self._width(w.sup, w.face, w.size * 0.65) if w.sup else 0.0)

    def break_lines(self, words: list[_Word], width: float, first_indent: float = 0.0
                    ) -> list[list[_Word]]:
        """Greedy line breaking with optional naive hyphenation of long words."""
        lines: list[list[_Word]] = []
        cur: list[_Word] = []
        cur_w = first_indent
        queue = list(words)
        while queue:
            w = queue.pop(0)
            ww = self._word_width(w)
            sp = self._width(" ", w.face, w.size) if cur else 0.0
            if cur_w + sp + ww <= width or not cur:
                if not cur and cur_w + ww > width and len(w.text) > 1:  # a single over-long word
                    head, tail = self._split_long(w, width - cur_w)
                    cur.append(head)
                    queue.insert(0, tail)
                    lines.append(cur)
                    cur, cur_w = [], 0.0
                    continue
                cur.append(w)
                cur_w += sp + ww
                continue
            parts = self._hyphenate(w, width - cur_w - sp) if self.s.hyphenate else None
            if parts is not None:
                cur.append(parts[0])
                queue.insert(0, parts[1])
            else:
                queue.insert(0, w)  # the word starts the next line
            lines.append(cur)
            cur, cur_w = [], 0.0
        if cur:
            lines.append(cur)
        return lines

    def _hyphenate(self, w: _Word, room: float) -> Optional[tuple[_Word, _Word]]:
        """Split a long alphabetic word at a vowel-consonant boundary so the head + '-' fits."""
        m = re.fullmatch(r"([A-Za-z]+)([.,;:]?)", w.text)
        if not m or len(m.group(1)) < 7 or ord("-") not in w.face.cmap:
            return None
        core = m.group(1)
        vowels = set("aeiouyAEIOUY")
        for cut in range(len(core) - 3, 2, -1):
            if core[cut - 1] in vowels and core[cut] not in vowels:
                head = core[:cut] + "-"
                if self._width(head, w.face, w.size) <= room:
                    return (_Word(head, w.face, w.size),
                            _Word(w.text[cut:], w.face, w.size, w.sup, w.note))
        return None

    def _split_long(self, w: _Word, room: float) -> tuple[_Word, _Word]:
        """Break a word wider than the column (URLs, identifiers) at the last character that fits."""
        for cut in range(len(w.text) - 1, 0, -1):
            if self._width(w.text[:cut], w.face, w.size) <= room:
                return (_Word(w.text[:cut], w.face, w.size),
                        _Word(w.text[cut:], w.face, w.size, w.sup, w.note))
        return _Word(w.text[:1], w.face, w.size), _Word(w.text[1:], w.face, w.size, w.sup, w.note)

    def paragraph(self, words: list[_Word], width: Optional[float] = None, x_off: float = 0.0,
                  align: Optional[str] = None, indent: float = 0.0,
                  bullet: Optional[_Word] = None, bullet_gap: float = 0.0) -> None:
        """Lay out and draw a block of words, moving to new columns/pages as it goes."""
        width = (width or self.col_width) - x_off
        align = align or ("justify" if self.s.justified else "left")
        if not words:
            return
        size = max(w.size for w in words)
        lines = self.break_lines(words, width, indent)
        for i, line in enumerate(lines):
            lh = self._line_height(size)
            notes = [w.note for w in line if w.note]
            self.ensure(lh + sum(self._lines_height(n) for n in notes))
            self.y -= lh
            x = self.col_x(self.col) + x_off
            if i == 0 and bullet is not None:
                self.c.setFont(bullet.face.name, bullet.size)
                self.c.drawString(x - bullet_gap, self.y, bullet.text)
                self._record(bullet.text)
            first = i == 0
            self.draw_words(line, x + (indent if first else 0), width - (indent if first else 0),
                            align, last=i == len(lines) - 1)
            self.footnotes.extend(notes)

    # ------------------------------------------------------------- footnotes
    def _lines_height(self, lines: list[list[_Word]]) -> float:
        return sum(self._line_height(max(x.size for x in ln)) for ln in lines)

    def _footnote_height(self) -> float:
        if not self.footnotes:
            return 0.0
        return self.s.size + sum(self._lines_height(n) for n in self.footnotes)

    def _flush_footnotes(self) -> None:
        if not self.footnotes:
            return
        x = self.col_x(self.col)
        y = self._bottom() + self._footnote_height()
        self.c.setLineWidth(0.4)
        self.c.line(x, y - 0.3 * self.s.size, x + 0.3 * self.col_width, y - 0.3 * self.s.size)
        self.y = y - 0.3 * self.s.size
        for note in self.footnotes:
            for line in note:
                self.y -= self._line_height(max(w.size for w in line))
                self.draw_words(line, x, self.col_width, "left", last=True)
        self.footnotes = []


# ---------------------------------------------------------------------- content
class _Content:
    """Draws text from the corpus as the elements of a paper."""

    def __init__(self, paragraphs: Sequence[str], rng: random.Random) -> None:
        self.paragraphs = paragraphs
        self.rng = rng

    def prose(self, n_words: tuple[int, int]) -> str:
        """A run of corpus words (continuing into following paragraphs when needed)."""
        rng = self.rng
        i = rng.randrange(len(self.paragraphs))
        words = self.paragraphs[i].split()
        want = rng.randint(*n_words)
        while len(words) < want:
            i = (i + 1) % len(self.paragraphs)
            words += self.paragraphs[i].split()
        return " ".join(w for w in words[:want] if "\ufffd" not in w)

    def sentence(self, max_words: int = 18) -> str:
        text = self.prose((6, max_words)).rstrip(",;:")
        return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")

    def title_words(self, lo: int, hi: int) -> str:
        words = [re.sub(r"[^\w-]", "", w) for w in self.prose((lo * 3, hi * 3)).split()]
        words = [w for w in words if w.isalpha() and len(w) > 2][: self.rng.randint(lo, hi)] or ["Method"]
        small = {"and", "the", "for", "with", "from", "into", "over"}
        return " ".join(w if w.lower() in small and i else w[0].upper() + w[1:]
                        for i, w in enumerate(words))

    def math(self, face: _Face) -> str:
        rng = self.rng
        v = rng.choice("xyzuvw")
        i = rng.choice("ijkn")
        g = rng.choice("αβγλμσθη")
        n = f"{rng.uniform(0, 10):.{rng.randint(1, 3)}f}"
        forms = [
            f"f({v}) = Σ_{i} a_{i} {v}^{i}",
            f"E[{v.upper()}] = ∫ {v} p({v}) d{v}",
            f"‖{v} − {v}*‖ ≤ ε",
            f"L(θ) = −Σ_n log p(y_n | {v}_n; θ)",
            f"{v}_(t+1) = {v}_t − η ∇f({v}_t)",
            f"σ² = E[({v.upper()} − μ)²]",
            "P(A | B) = P(B | A) P(A) / P(B)",
            f"{g} = {n},  {i} ∈ {{1, …, N}}",
            f"T(n) = {rng.randint(2, 8)} T(n/2) + O(n log n)",
            f"{g}_max ≈ {n} × 10^{rng.randint(-6, 6)}",
            f"h_t = tanh(W h_(t−1) + U {v}_t + b)",
            f"||{v}||_2 = sqrt(Σ_{i} {v}_{i}²)",
        ]
        return _fit_text(rng.choice(forms), face)

    def cell(self, numeric: bool) -> str:
        rng = self.rng
        if numeric:
            return rng.choice([f"{rng.uniform(0, 100):.{rng.randint(1, 2)}f}", str(rng.randint(0, 5000)),
                               f"{rng.uniform(0, 1):.3f}", f"{rng.randint(1, 99)}%"])
        words = [w.strip(".,;:()") for w in self.prose((2, 6)).split()]
        words = [w for w in words if w]
        return " ".join(words[: rng.randint(1, 2)]) or "n/a"

    def code(self) -> str:
        rng = self.rng
        names = [re.sub(r"\W", "", w).lower() for w in self.prose((6, 12)).split()]
        names = [n for n in names if n.isidentifier()] or ["value"]
        a, b = rng.choice(names), rng.choice(names)
        return rng.choice([f"{a} = {b}({rng.randint(0, 64)}, {rng.choice(names)})",
                           f"for {a} in range({rng.randint(2, 512)}):",
                           f"    {a}.{b}({rng.choice(names)}=True)",
                           f"return {a}[{rng.randint(0, 9)}] + {b}",
                           f"def {a}_{b}(x, y={rng.randint(0, 9)}):",
                           f"if {a} is None: raise ValueError(\"{b}\")"])


def _style(cfg: PdfGenConfig, rng: random.Random) -> _Style:
    fams = truetype_families()

    def pick(kinds: dict[str, float]) -> _Family:
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        return rng.choice([f for f in fams if f.kind == kind] or list(fams))

    body = pick(cfg.body_kinds)
    heading = body if rng.random() < 0.7 else pick({"helvetica": 1.0})
    mono = pick({"monospace": 1.0})
    columns = 2 if rng.random() < cfg.two_column_prob else 1
    # two-column papers use small type; one-column documents the whole range
    lo, hi = cfg.body_pt
    size = round(rng.triangular(lo, min(hi, 10.5) if columns == 2 else hi, 10.0), 1)
    justified = rng.random() < cfg.justified_prob
    page_number = rng.choices(["footer", "header", "none"], weights=[0.6, 0.25, 0.15])[0]
    return _Style(
        page=_PAGE_SIZES[rng.choice(cfg.page_sizes)],
        margin=rng.uniform(*cfg.margin_in) * PT_PER_INCH,
        columns=columns, gutter=rng.uniform(*cfg.gutter_pt), body=body, heading=heading, mono=mono,
        size=size, leading=rng.uniform(*cfg.leading), justified=justified,
        hyphenate=justified and rng.random() < cfg.hyphenate_prob,
        indent_paragraphs=rng.random() < 0.6,
        header=None, header_rule=rng.random() < 0.5, page_number=page_number,
        table_grid=rng.random() < 0.3)


def _words(text: str, face: _Face, size: float) -> list[_Word]:
    return [_Word(t, face, size) for t in _fit_text(text, face).split()]


def generate_pdf(paragraphs: Optional[Sequence[str]] = None, seed: int = 0,
                 cfg: Optional[PdfGenConfig] = None) -> GeneratedPdf:
    """Typeset one random whitepaper-like document.

    Args:
        paragraphs: prose to draw from (default: the project corpus, else a few fixed ones).
        seed: everything (style, content, DPI) is a function of the seed.
        cfg: sampling ranges.

    Returns:
        The PDF bytes and the drawn text per page (in drawing = reading order).
    """
    cfg = cfg or PdfGenConfig()
    paragraphs = paragraphs if paragraphs is not None else default_paragraphs()
    if not paragraphs:
        raise ValueError("no paragraphs to typeset")
    rng = random.Random(f"pdfgen-{seed}")
    s = _style(cfg, rng)
    content = _Content(paragraphs, rng)
    title = content.title_words(4, 10)
    if rng.random() < 0.7:
        s.header = " ".join(title.split()[: rng.randint(2, 5)])
    n_pages = rng.randint(*cfg.pages)
    dpi = rng.randint(*cfg.dpi)
    w = _Writer(s, rng, n_pages, title)
    try:
        _title_block(w, content, title, cfg)
        _body(w, content, cfg)
    except _Full:  # the only way out of _body: the page budget is used up
        if w.open:
            w.finish_page()
    w.c.save()
    style = {"columns": s.columns, "size": s.size, "body": s.body.family, "heading": s.heading.family,
             "justified": s.justified, "hyphenate": s.hyphenate, "page": list(s.page)}
    return GeneratedPdf(w.buf.getvalue(), w.pages, dpi, seed, style)


def _title_block(w: _Writer, content: _Content, title: str, cfg: PdfGenConfig) -> None:
    """Title, authors, affiliation and abstract across the full width of page 1."""
    s, rng = w.s, w.rng
    full = w.full_width
    tsize = min(cfg.max_pt * 1.3, round(s.size * rng.uniform(1.4, 1.8), 1))
    face = s.heading.face("bold")
    words = _words(title, face, tsize)
    saved_cols = s.columns
    s.columns = 1  # the title block spans the page
    try:
        w.paragraph(words, width=full, align="center")
        w.y -= 0.5 * s.size
        authors = ", ".join(f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
                            for _ in range(rng.randint(1, 4)))
        w.paragraph(_words(authors, s.body.face("regular"), s.size + 1), width=full, align="center")
        affil = f"{rng.choice(_INSTITUTES)}, {rng.choice(_CITIES)}"
        w.paragraph(_words(affil, s.body.face("italic"), s.size), width=full, align="center")
        w.y -= s.size
        if rng.random() < 0.8:
            w.paragraph(_words("Abstract", s.heading.face("bold"), s.size), width=full,
                        align="center")
            inset = full * rng.uniform(0.05, 0.15)
            style = "italic" if rng.random() < 0.3 else "regular"
            w.paragraph(_words(content.prose((50, 110)), s.body.face(style), max(7.0, s.size - 0.5)),
                        width=full - inset, x_off=inset)
        w.y -= 1.5 * s.size
    finally:
        s.columns = saved_cols
    w.col_top = w.y  # columns start below the title block


def _body(w: _Writer, content: _Content, cfg: PdfGenConfig) -> None:
    s, rng = w.s, w.rng
    kinds = list(cfg.element_weights)
    weights = list(cfg.element_weights.values())
    section = [0, 0]
    last = "heading"
    while True:
        kind = rng.choices(kinds, weights=weights)[0]
        if kind == "heading" and last == "heading":
            kind = "paragraph"
        if kind == "heading":
            sub = section[0] > 0 and rng.random() < 0.4
            if sub:
                section[1] += 1
            else:
                section[0] += 1
                section[1] = 0
            number = f"{section[0]}.{section[1]}" if sub else f"{section[0]}"
            hsize = min(cfg.max_pt, s.size + (1 if sub else rng.uniform(1.5, 3.5)))
            text = content.title_words(1, 5)
            if rng.random() < 0.8:
                text = f"{number} {text}"
            w.space(0.8 * s.size)
            w.ensure(3 * w._line_height(hsize))  # never strand a heading at a column end
            w.paragraph(_words(text, s.heading.face("bold"), round(hsize, 1)), align="left")
            w.y -= 0.3 * s.size
        elif kind in ("paragraph", "footnote_paragraph"):
            face = s.body.face("regular")
            words = _words(content.prose((25, 140)), face, s.size)
            for _ in range(rng.randint(0, 3)):  # emphasis
                if words:
                    j = rng.randrange(len(words))
                    words[j] = _Word(_fit_text(words[j].text, s.body.face("italic")) or words[j].text,
                                     s.body.face(rng.choice(["italic", "bold"])), s.size)
            if kind == "footnote_paragraph" and len(words) > 3:
                w.footnote_no += 1
                j = rng.randrange(len(words) // 2, len(words))
                words[j].sup = str(w.footnote_no)
                fsize = max(7.0, s.size - 2)
                note = [_Word(str(w.footnote_no), face, fsize)] + _words(content.sentence(25), face, fsize)
                words[j].note = w.break_lines(note, w.col_width)
            indent = 1.5 * s.size if s.indent_paragraphs else 0.0
            if not s.indent_paragraphs:
                w.space(0.5 * s.size)
            w.paragraph(words, indent=indent)
        elif kind == "list":
            w.space(0.3 * s.size)
            numbered = rng.random() < 0.5
            face = s.body.face("regular")
            for k in range(rng.randint(2, 5)):
                mark = f"{k + 1}." if numbered else _fit_text("•", face) or "-"
                indent = 2.2 * s.size
                w.paragraph(_words(content.sentence(30), face, s.size), x_off=indent, align="left",
                            bullet=_Word(mark, face, s.size), bullet_gap=1.2 * s.size)
            w.space(0.3 * s.size)
        elif kind == "math":
            _math(w, content)
        elif kind == "figure":
            _figure(w, content)
        elif kind == "table":
            _table(w, content)
        elif kind == "code":
            w.space(0.4 * s.size)
            face = s.mono.face("regular")
            csize = max(7.0, s.size - 1)
            for _ in range(rng.randint(2, 5)):
                line = _fit_text(content.code(), face)
                if not line:
                    continue
                lh = w._line_height(csize)
                w.ensure(lh)
                w.y -= lh
                w.c.setFont(face.name, csize)
                lead = len(line) - len(line.lstrip(" "))
                x = w.col_x(w.col) + s.size + w._width(" " * lead, face, csize)
                text = line.strip()
                if w._width(text, face, csize) > w.col_width - s.size:
                    continue
                w.c.drawString(x, w.y, text)
                w._record(text)
            w.space(0.4 * s.size)
        last = kind


def _math(w: _Writer, content: _Content) -> None:
    s = w.s
    face = s.body.face("italic" if w.rng.random() < 0.5 else "regular")
    text = content.math(face)
    if not text:
        return
    w.space(0.5 * s.size)
    lh = w._line_height(s.size) * 1.3
    w.ensure(lh)
    w.y -= lh
    width = w._width(text, face, s.size)
    if width > w.col_width * 0.8:
        return
    x0 = w.col_x(w.col)
    w.c.setFont(face.name, s.size)
    w.c.drawString(x0 + (w.col_width - width) / 2, w.y, text)
    w._record(text)
    if w.rng.random() < 0.6:
        w.eq_no += 1
        num = f"({w.eq_no})"
        reg = s.body.face("regular")
        w.c.setFont(reg.name, s.size)
        w.c.drawRightString(x0 + w.col_width, w.y, num)
        w._record(num)
    w.y -= 0.3 * s.size


def _caption(w: _Writer, content: _Content, label: str) -> None:
    s = w.s
    size = max(7.0, s.size - w.rng.choice([0, 0.5, 1]))
    bold = s.body.face("bold")
    words = [_Word(label, bold, size)] + _words(content.sentence(28), s.body.face("regular"), size)
    w.paragraph(words, align="justify" if s.justified else "left")


def _figure(w: _Writer, content: _Content) -> None:
    """A text-free plot (axes, curves or bars) and its caption below."""
    s, rng = w.s, w.rng
    height = rng.uniform(0.15, 0.3) * (s.page[1] - 2 * s.margin)
    w.space(0.6 * s.size)
    w.ensure(height + 4 * w._line_height(s.size))
    width = w.col_width * rng.uniform(0.6, 0.95)
    x0 = w.col_x(w.col) + (w.col_width - width) / 2
    y0 = w.y - height
    c = w.c
    c.setLineWidth(0.6)
    c.line(x0, y0, x0 + width, y0)
    c.line(x0, y0, x0, y0 + height)
    for k in range(1, 5):  # ticks
        c.line(x0 + k * width / 5, y0, x0 + k * width / 5, y0 - 3)
        c.line(x0, y0 + k * height / 5, x0 - 3, y0 + k * height / 5)
    if rng.random() < 0.5:
        for _ in range(rng.randint(1, 3)):
            c.setStrokeGray(rng.uniform(0, 0.6))
            pts = []
            a, b = rng.uniform(0.1, 0.9), rng.uniform(-0.8, 0.8)
            for k in range(21):
                t = k / 20
                val = min(0.95, max(0.05, a + b * (t - 0.5) + rng.uniform(-0.05, 0.05)))
                pts.append((x0 + t * width, y0 + val * height))
            for p, q in zip(pts, pts[1:]):
                c.line(p[0], p[1], q[0], q[1])
        c.setStrokeGray(0)
    else:
        n = rng.randint(3, 10)
        bw = width / (n * 1.5)
        for k in range(n):
            c.setFillGray(rng.uniform(0.2, 0.8))
            c.rect(x0 + (k + 0.5) * 1.5 * bw, y0, bw, rng.uniform(0.1, 0.95) * height, stroke=1, fill=1)
        c.setFillGray(0)
    w.y = y0 - 0.8 * s.size
    w.figure_no += 1
    _caption(w, content, f"Figure {w.figure_no}:")
    w.y -= 0.5 * s.size


def _table(w: _Writer, content: _Content) -> None:
    """Caption above, then a ruled table (booktabs rules or a full grid)."""
    s, rng = w.s, w.rng
    size = max(7.0, s.size - rng.choice([0, 0.5, 1]))
    reg, bold = s.body.face("regular"), s.body.face("bold")
    n_cols, n_rows = rng.randint(2, 5), rng.randint(2, 7)
    pad = 0.6 * size
    header = [_fit_text(content.title_words(1, 2), bold) or "Value" for _ in range(n_cols)]
    rows = [[_fit_text(content.cell(numeric=j > 0 and rng.random() < 0.8), reg) or "0"
             for j in range(n_cols)] for _ in range(n_rows)]
    widths = [max(w._width(header[j], bold, size), *(w._width(r[j], reg, size) for r in rows)) + 2 * pad
              for j in range(n_cols)]
    while sum(widths) > w.col_width and len(widths) > 2:  # drop columns until it fits
        widths.pop()
        header.pop()
        for r in rows:
            r.pop()
    if sum(widths) > w.col_width:
        return
    lh = w._line_height(size) * 1.15
    w.space(0.6 * s.size)
    w.ensure(3 * w._line_height(s.size) + (n_rows + 1) * lh + size)
    w.table_no += 1
    _caption(w, content, f"Table {w.table_no}:")
    w.y -= 0.4 * size
    total = sum(widths)
    x0 = w.col_x(w.col) + (w.col_width - total) / 2
    c = w.c
    top = w.y

    def rule(y: float, width: float) -> None:
        c.setLineWidth(width)
        c.line(x0, y, x0 + total, y)

    rule(top, 0.8)
    for r, (cells, face) in enumerate([(header, bold)] + [(row, reg) for row in rows]):
        w.y -= lh
        x = x0
        for j, cell in enumerate(cells):
            c.setFont(face.name, size)
            if j == 0:
                c.drawString(x + pad, w.y + 0.3 * size, cell)
            else:
                c.drawRightString(x + widths[j] - pad, w.y + 0.3 * size, cell)
            x += widths[j]
        w._record(" ".join(cells))
        if r == 0 or s.table_grid:
            rule(w.y, 0.5)
    rule(w.y, 0.8)
    if s.table_grid:
        x = x0
        for wd in [0.0] + widths:
            x += wd
            c.setLineWidth(0.5)
            c.line(x, top, x, w.y)
    w.y -= 0.8 * s.size


@functools.lru_cache(maxsize=1)
def default_paragraphs() -> tuple[str, ...]:
    """The project corpus when it is built, else :data:`FALLBACK_PARAGRAPHS`."""
    try:
        from .corpus import load_corpus

        corpus = load_corpus()
    except (ImportError, FileNotFoundError, OSError):
        return FALLBACK_PARAGRAPHS
    return tuple(corpus) if corpus else FALLBACK_PARAGRAPHS


# ---------------------------------------------------------------------- samples
@dataclass
class PdfSample:
    """One (image, text) pair cut from a rendered PDF."""

    kind: str  # "page" or "line"
    image: Image.Image  # grayscale
    text: str
    meta: dict


def document_samples(doc: GeneratedPdf, kinds: Sequence[str] = ("page", "line"),
                     source: str = "synthetic") -> list[PdfSample]:
    """Render a generated document (:func:`docencoder.pdf.render.render_page`) and cut its
    (page|line image, text) pairs."""
    from .pdf_shards import pdf_samples

    out = []
    for page in pdf_samples(doc.pdf, dpi=doc.dpi, kinds=kinds):
        for kind, image, text, meta in page.samples:
            meta.update(source=source, seed=doc.seed, generator="pdfgen")
            out.append(PdfSample(kind, image, text, meta))
    return out


class PdfGenerator:
    """An endless, deterministic stream of synthetic PDF samples (document ``i`` = seed + i)."""

    def __init__(self, paragraphs: Optional[Sequence[str]] = None, cfg: Optional[PdfGenConfig] = None,
                 seed: int = 0, kinds: Sequence[str] = ("page", "line")) -> None:
        self.paragraphs = paragraphs if paragraphs is not None else default_paragraphs()
        self.cfg = cfg or PdfGenConfig()
        self.seed = seed
        self.kinds = tuple(kinds)

    def document(self, index: int) -> list[PdfSample]:
        doc = generate_pdf(self.paragraphs, seed=self.seed + index, cfg=self.cfg)
        return document_samples(doc, self.kinds, source=f"pdfgen-{self.seed + index}")

    def __iter__(self) -> Iterator[PdfSample]:
        index = 0
        while True:
            yield from self.document(index)
            index += 1


def synth_to_shards(out_dir: PathLike, n_docs: int, seed: int = 0,
                    paragraphs: Optional[Sequence[str]] = None, cfg: Optional[PdfGenConfig] = None,
                    kinds: Sequence[str] = ("page", "line"), progress: bool = False) -> dict:
    """Write ``n_docs`` generated documents' samples as shards; resumable per document."""
    from .shards import ShardWriter, safe_key

    gen = PdfGenerator(paragraphs, cfg, seed, kinds)
    counts = {"documents": 0, "page": 0, "line": 0, "skipped_documents": 0}
    t0 = time.perf_counter()
    with ShardWriter(out_dir, prefix=f"pdfgen-{seed}") as writer:
        for i in range(n_docs):
            source = f"pdfgen-{seed + i}"
            if source in writer.manifest["completed"]:
                counts["skipped_documents"] += 1
                continue
            for k, sample in enumerate(gen.document(i)):
                key = safe_key(f"{source}-{sample.meta.get('page', 0):03d}-{k:04d}")
                writer.write(key, sample.image, sample.text, {**sample.meta, "kind": sample.kind})
                counts[sample.kind] = counts.get(sample.kind, 0) + 1
            writer.mark_done(source)
            counts["documents"] += 1
            if progress:
                rate = counts["documents"] / (time.perf_counter() - t0)
                print(f"\r{counts['documents']}/{n_docs} documents ({rate:.2f}/s)", end="", flush=True)
    if progress:
        print()
    return counts
