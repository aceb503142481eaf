"""The elements of a paper, each drawn by one function: title block, headings, paragraphs (with
footnotes), lists, code, display math, figures and tables with their captions.

Each element function takes the :class:`DocumentState` and draws through its
:class:`.typeset.Typesetter`; every random choice comes from the state's one ``rng`` in a fixed
order, so a document is a function of its seed. :data:`ELEMENTS` maps the kinds of
:data:`.config.ELEMENT_KINDS` to their functions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from .config import PdfGenConfig
from .content import Content
from .faces import fit_text
from .linebreak import Word, as_words, text_width
from .typeset import MIN_SMALL_PT, Typesetter


@dataclass
class Numbering:
    """Running numbers of the document's sections, footnotes, figures, tables and equations."""

    section: int = 0
    subsection: int = 0  # within the current section
    footnote: int = 0
    figure: int = 0
    table: int = 0
    equation: int = 0


@dataclass
class DocumentState:
    """What every element is drawn with: the typesetter, the content source, the document's
    ``rng`` (shared with ``content``), the config and the running numbers."""

    ts: Typesetter
    content: Content
    rng: random.Random
    cfg: PdfGenConfig
    numbers: Numbering = field(default_factory=Numbering)


def title_block(st: DocumentState, title: str) -> None:
    """Title, authors, affiliation and abstract across the full width of page 1."""
    w, s, rng = st.ts, st.ts.style, st.rng
    full = w.full_width
    tsize = min(st.cfg.max_pt * 1.3, round(s.size * rng.uniform(1.4, 1.8), 1))
    words = as_words(title, s.heading.face("bold"), tsize)
    with w.spanning():
        w.paragraph(words, width=full, align="center")
        w.y -= 0.5 * s.size
        w.paragraph(as_words(st.content.authors(), s.body.face("regular"), s.size + 1), width=full,
                    align="center")
        w.paragraph(as_words(st.content.affiliation(), s.body.face("italic"), s.size), width=full,
                    align="center")
        w.y -= s.size
        if rng.random() < 0.8:
            w.paragraph(as_words("Abstract", s.heading.face("bold"), s.size), width=full,
                        align="center")
            inset = full * rng.uniform(0.05, 0.15)
            style = "italic" if rng.random() < 0.3 else "regular"
            w.paragraph(as_words(st.content.prose((50, 110)), s.body.face(style),
                                 max(MIN_SMALL_PT, s.size - 0.5)),
                        width=full - inset, x_off=inset)
        w.y -= 1.5 * s.size
    w.col_top = w.y  # columns start below the title block


def heading(st: DocumentState) -> None:
    """A numbered (mostly) section or subsection heading, kept with the lines that follow."""
    w, s, rng, n = st.ts, st.ts.style, st.rng, st.numbers
    sub = n.section > 0 and rng.random() < 0.4
    if sub:
        n.subsection += 1
    else:
        n.section += 1
        n.subsection = 0
    number = f"{n.section}.{n.subsection}" if sub else f"{n.section}"
    hsize = min(st.cfg.max_pt, s.size + (1 if sub else rng.uniform(1.5, 3.5)))
    text = st.content.title_words(1, 5)
    if rng.random() < 0.8:
        text = f"{number} {text}"
    w.space(0.8 * s.size)
    w.ensure(3 * w.line_height(hsize))  # never strand a heading at a column end
    w.paragraph(as_words(text, s.heading.face("bold"), round(hsize, 1)), align="left")
    w.y -= 0.3 * s.size


def _paragraph(st: DocumentState, footnote: bool) -> None:
    w, s, rng = st.ts, st.ts.style, st.rng
    face = s.body.face("regular")
    words = as_words(st.content.prose((25, 140)), face, s.size)
    for _ in range(rng.randint(0, 3)):  # emphasis
        if words:
            j = rng.randrange(len(words))
            words[j] = Word(fit_text(words[j].text, s.body.face("italic")) or words[j].text,
                            s.body.face(rng.choice(["italic", "bold"])), s.size)
    if footnote and len(words) > 3:
        st.numbers.footnote += 1
        j = rng.randrange(len(words) // 2, len(words))
        words[j].sup = str(st.numbers.footnote)
        fsize = max(MIN_SMALL_PT, s.size - 2)
        note = [Word(str(st.numbers.footnote), face, fsize)] + as_words(st.content.sentence(25), face, fsize)
        words[j].note = w.break_lines(note, w.col_width)
    indent = 1.5 * s.size if s.indent_paragraphs else 0.0
    if not s.indent_paragraphs:
        w.space(0.5 * s.size)
    w.paragraph(words, indent=indent)


def paragraph(st: DocumentState) -> None:
    """A paragraph of prose with a few emphasised words."""
    _paragraph(st, footnote=False)


def footnote_paragraph(st: DocumentState) -> None:
    """A paragraph with a footnote mark; the note is set at the foot of the column it ends in."""
    _paragraph(st, footnote=True)


def bullet_list(st: DocumentState) -> None:
    """Two to five numbered or bulleted items."""
    w, s, rng = st.ts, st.ts.style, st.rng
    w.space(0.3 * s.size)
    numbered = rng.random() < 0.5
    face = s.body.face("regular")
    for k in range(rng.randint(2, 5)):
        mark = f"{k + 1}." if numbered else fit_text("•", face) or "-"
        indent = 2.2 * s.size
        w.paragraph(as_words(st.content.sentence(30), face, s.size), x_off=indent, align="left",
                    bullet=Word(mark, face, s.size), bullet_gap=1.2 * s.size)
    w.space(0.3 * s.size)


def code(st: DocumentState) -> None:
    """Two to five lines of monospaced code, indented; a line too wide for the column is left out."""
    w, s, rng = st.ts, st.ts.style, st.rng
    w.space(0.4 * s.size)
    face = s.mono.face("regular")
    csize = max(MIN_SMALL_PT, s.size - 1)
    for _ in range(rng.randint(2, 5)):
        line = fit_text(st.content.code(), face)
        if not line:
            continue
        lh = w.line_height(csize)
        w.ensure(lh)
        w.y -= lh
        w.canvas.setFont(face.name, csize)
        lead = len(line) - len(line.lstrip(" "))
        x = w.col_x(w.col) + s.size + text_width(" " * lead, face, csize)
        text = line.strip()
        if text_width(text, face, csize) > w.col_width - s.size:
            continue
        w.canvas.drawString(x, w.y, text)
        w.record(text)
    w.space(0.4 * s.size)


def math(st: DocumentState) -> None:
    """A centred display formula, often with an equation number at the right."""
    w, s = st.ts, st.ts.style
    face = s.body.face("italic" if st.rng.random() < 0.5 else "regular")
    text = st.content.math(face)
    if not text:
        return
    w.space(0.5 * s.size)
    lh = w.line_height(s.size) * 1.3
    w.ensure(lh)
    w.y -= lh
    width = text_width(text, face, s.size)
    if width > w.col_width * 0.8:
        return
    x0 = w.col_x(w.col)
    w.canvas.setFont(face.name, s.size)
    w.canvas.drawString(x0 + (w.col_width - width) / 2, w.y, text)
    w.record(text)
    if st.rng.random() < 0.6:
        st.numbers.equation += 1
        num = f"({st.numbers.equation})"
        reg = s.body.face("regular")
        w.canvas.setFont(reg.name, s.size)
        w.canvas.drawRightString(x0 + w.col_width, w.y, num)
        w.record(num)
    w.y -= 0.3 * s.size


def caption(st: DocumentState, label: str) -> None:
    """``label`` in bold, then a sentence: the caption of a figure or a table."""
    w, s = st.ts, st.ts.style
    size = max(MIN_SMALL_PT, s.size - st.rng.choice([0, 0.5, 1]))
    bold = s.body.face("bold")
    words = [Word(label, bold, size)] + as_words(st.content.sentence(28), s.body.face("regular"), size)
    w.paragraph(words, align="justify" if s.justified else "left")


def figure(st: DocumentState) -> None:
    """A text-free plot (axes, curves or bars) and its caption below."""
    w, s, rng = st.ts, st.ts.style, st.rng
    height = rng.uniform(0.15, 0.3) * (s.page[1] - 2 * s.margin)
    w.space(0.6 * s.size)
    w.ensure(height + 4 * w.line_height(s.size))
    width = w.col_width * rng.uniform(0.6, 0.95)
    x0 = w.col_x(w.col) + (w.col_width - width) / 2
    y0 = w.y - height
    c = w.canvas
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
    st.numbers.figure += 1
    caption(st, f"Figure {st.numbers.figure}:")
    w.y -= 0.5 * s.size


def table(st: DocumentState) -> None:
    """Caption above, then a ruled table (booktabs rules or a full grid); columns that do not
    fit are dropped from the right."""
    w, s, rng = st.ts, st.ts.style, st.rng
    size = max(MIN_SMALL_PT, s.size - rng.choice([0, 0.5, 1]))
    reg, bold = s.body.face("regular"), s.body.face("bold")
    n_cols, n_rows = rng.randint(2, 5), rng.randint(2, 7)
    pad = 0.6 * size
    header = [fit_text(st.content.title_words(1, 2), bold) or "Value" for _ in range(n_cols)]
    rows = [[fit_text(st.content.cell(numeric=j > 0 and rng.random() < 0.8), reg) or "0"
             for j in range(n_cols)] for _ in range(n_rows)]
    widths = [max(text_width(header[j], bold, size), *(text_width(r[j], reg, size) for r in rows)) + 2 * pad
              for j in range(n_cols)]
    while sum(widths) > w.col_width and len(widths) > 2:  # drop columns until it fits
        widths.pop()
        header.pop()
        for r in rows:
            r.pop()
    if sum(widths) > w.col_width:
        return
    lh = w.line_height(size) * 1.15
    w.space(0.6 * s.size)
    w.ensure(3 * w.line_height(s.size) + (n_rows + 1) * lh + size)
    st.numbers.table += 1
    caption(st, f"Table {st.numbers.table}:")
    w.y -= 0.4 * size
    total = sum(widths)
    x0 = w.col_x(w.col) + (w.col_width - total) / 2
    c = w.canvas
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
        w.record(" ".join(cells))
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


#: the element kinds of :data:`.config.ELEMENT_KINDS` and the functions that draw them
ELEMENTS: dict[str, Callable[[DocumentState], None]] = {
    "paragraph": paragraph, "heading": heading, "list": bullet_list, "math": math,
    "figure": figure, "table": table, "code": code, "footnote_paragraph": footnote_paragraph}
