"""The typesetter: pages, columns, running header and footer, paragraphs and footnotes.

It draws with reportlab's canvas into memory and records every text piece it draws, in drawing
order, per page. Everything is drawn in reading order (header, column 1 with its footnotes,
column 2 with its footnotes, page number), which is the order the text layer
(:mod:`docencoder.pdf.textlayer`) reports, so the record is the ground truth a test can hold the
text layer to. Justification is by word placement, as TeX does (no space characters between
positioned words); ragged lines are one string with real spaces, as word processors write them.

The typesetter makes no random choices: the style it is given and the calls made on it decide
the page. It raises :class:`DocumentFull` when the page budget is spent.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from typing import Iterator, Literal, Optional, Sequence

from .faces import Family, fit_text
from .linebreak import SUP_SCALE, Word, break_lines, text_width, word_width

#: a footnote mark's baseline is raised by this fraction of its word's size
SUP_RAISE = 0.38
#: small text (running header, footnotes, captions, tables, code) is never set below this size, points
MIN_SMALL_PT = 7.0

Align = Literal["left", "center", "right", "justify"]


@dataclass
class DocumentStyle:
    """The look of one document, drawn once from :class:`.config.PdfGenConfig` (points)."""

    page: tuple[float, float]  # page width, height
    margin: float  # on all four sides
    columns: int  # 1 or 2
    gutter: float  # gap between columns
    body: Family  # body text
    heading: Family  # title and section headings
    mono: Family  # code listings
    size: float  # body text size
    leading: float  # baseline distance / font size
    justified: bool  # justified, else ragged right
    hyphenate: bool  # break words at line ends (justified documents only)
    indent_paragraphs: bool  # indent first lines, else separate paragraphs by space
    header: Optional[str]  # running header text, or none
    header_rule: bool  # a rule under the running header
    page_number: Literal["footer", "header", "none"]
    table_grid: bool  # tables with a full grid, else booktabs-like rules


class DocumentFull(Exception):
    """Raised when the document has used up its page budget (or an element cannot fit a column)."""


class Typesetter:
    """Lays out and draws elements, column by column, recording every drawn text piece.

    Attributes:
        style: the document's look (``style.columns`` may be changed for a spanning block).
        canvas: the reportlab canvas, for elements that draw rules and figures themselves.
        pages: per page, the text pieces drawn, in drawing (= reading) order.
        y: the current baseline, points from the page bottom; ``col`` the current column.
    """

    def __init__(self, style: DocumentStyle, n_pages: int, title: str) -> None:
        from reportlab.pdfgen import canvas

        self.style = style
        self.n_pages = n_pages
        self._buf = io.BytesIO()
        self.canvas = canvas.Canvas(self._buf, pagesize=style.page, invariant=1)
        self.canvas.setTitle(title)
        self.pages: list[list[str]] = []
        self.page_no = 0
        self.footnotes: list[list[list[Word]]] = []  # pending for the current column, as lines
        self.open = False  # a page is being drawn
        self.col = 0
        self.y = 0.0
        self.col_top = 0.0  # where columns start on this page (below the title block on page 1)
        self._new_page()

    def finish(self) -> bytes:
        """Close the open page (if any) and return the PDF."""
        if self.open:
            self.finish_page()
        self.canvas.save()
        return self._buf.getvalue()

    # ------------------------------------------------------------- page geometry
    @property
    def col_width(self) -> float:
        w = self.style.page[0] - 2 * self.style.margin
        return (w - (self.style.columns - 1) * self.style.gutter) / self.style.columns

    @property
    def full_width(self) -> float:
        return self.style.page[0] - 2 * self.style.margin

    def col_x(self, col: int) -> float:
        """Left edge of column ``col``."""
        return self.style.margin + col * (self.col_width + self.style.gutter)

    def _top(self) -> float:
        return self.style.page[1] - self.style.margin

    def _bottom(self) -> float:
        return self.style.margin + (2.5 * self.style.size if self.style.page_number == "footer" else 0)

    @contextlib.contextmanager
    def spanning(self) -> Iterator[None]:
        """Lay out across the full width (one column) inside the block, e.g. a title block."""
        saved = self.style.columns
        self.style.columns = 1
        try:
            yield
        finally:
            self.style.columns = saved

    def record(self, text: str) -> None:
        """Note a drawn text piece as part of the current page's ground truth."""
        if text.strip():
            self.pages[-1].append(text)

    def line_height(self, size: float) -> float:
        """Baseline distance of text set at ``size``."""
        return size * self.style.leading

    # ------------------------------------------------------------- pages and columns
    def finish_page(self) -> None:
        """Draw the open page's pending footnotes and its footer, and close it."""
        self._flush_footnotes()
        self._draw_footer()
        self.canvas.showPage()
        self.open = False

    def _new_page(self) -> None:
        if self.open:
            self.finish_page()
        if len(self.pages) >= self.n_pages:
            raise DocumentFull
        self.pages.append([])
        self.open = True
        self.page_no += 1
        self.col = 0
        self.y = self._top()
        self.col_top = self.y
        self._draw_header()

    def _draw_header(self) -> None:
        s, c = self.style, self.canvas
        if s.header is None and s.page_number != "header":
            return
        size = max(MIN_SMALL_PT, s.size - 1)
        y = s.page[1] - s.margin + 1.2 * size
        face = s.body.face("italic")
        if s.header:
            text = fit_text(s.header, face)
            c.setFont(face.name, size)
            c.drawString(s.margin, y, text)
            self.record(text)
        if s.page_number == "header":
            num = str(self.page_no)
            face = s.body.face("regular")
            c.setFont(face.name, size)
            c.drawRightString(s.page[0] - s.margin, y, num)
            self.record(num)
        if s.header_rule:
            c.setLineWidth(0.4)
            c.line(s.margin, y - 0.35 * size, s.page[0] - s.margin, y - 0.35 * size)

    def _draw_footer(self) -> None:
        s = self.style
        if s.page_number != "footer":
            return
        face = s.body.face("regular")
        self.canvas.setFont(face.name, s.size)
        num = str(self.page_no)
        self.canvas.drawCentredString(s.page[0] / 2, s.margin, num)
        self.record(num)

    def next_column(self) -> None:
        """Finish the column (its footnotes) and move to the next one or the next page."""
        self._flush_footnotes()
        if self.col + 1 < self.style.columns:
            self.col += 1
            self.y = self.col_top
        else:
            self._new_page()

    def ensure(self, height: float) -> None:
        """Make room for ``height`` points in the current column (moving on if needed)."""
        if self.y - height < self._bottom() + self._footnote_height():
            self.next_column()
            if self.y - height < self._bottom() + self._footnote_height():
                raise DocumentFull  # taller than a whole column: end the document here

    def space(self, amount: float) -> None:
        """Vertical space, except at the top of a column."""
        if self.y != self.col_top:
            self.y -= amount

    # ------------------------------------------------------------- text lines
    def draw_words(self, words: Sequence[Word], x: float, width: float, align: Align,
                   last: bool) -> None:
        """Draw one line of words at the current baseline; ``last``: the paragraph's last line
        (never stretched)."""
        c = self.canvas
        space = [text_width(" ", w.face, w.size) for w in words]
        widths = [word_width(w) for w in words]
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
            c.setFont(words[0].face.name, words[0].size)
            c.drawString(x0, self.y, " ".join(w.text for w in words))
        else:
            pos = x0
            for w, wd, gap in zip(words, widths, gaps + [0.0]):
                c.setFont(w.face.name, w.size)
                c.drawString(pos, self.y, w.text)
                if w.sup:
                    c.setFont(w.face.name, w.size * SUP_SCALE)
                    c.drawString(pos + text_width(w.text, w.face, w.size),
                                 self.y + SUP_RAISE * w.size, w.sup)
                pos += wd + gap
        self.record(" ".join(w.text + w.sup for w in words))

    def break_lines(self, words: list[Word], width: float, first_indent: float = 0.0
                    ) -> list[list[Word]]:
        """:func:`.linebreak.break_lines`, hyphenating when the style does."""
        return break_lines(words, width, first_indent, hyphenate=self.style.hyphenate)

    def paragraph(self, words: list[Word], width: Optional[float] = None, x_off: float = 0.0,
                  align: Optional[Align] = None, indent: float = 0.0,
                  bullet: Optional[Word] = None, bullet_gap: float = 0.0) -> None:
        """Lay out and draw a block of words, moving to new columns/pages as it goes.

        Args:
            words: the block's words.
            width: the measure including ``x_off`` (default: the column width).
            x_off: left inset from the column edge.
            align: default justified or left, as the style says.
            indent: first-line indent.
            bullet: drawn ``bullet_gap`` left of the first line (list items).
            bullet_gap: see ``bullet``.
        """
        width = (width or self.col_width) - x_off
        align = align or ("justify" if self.style.justified else "left")
        if not words:
            return
        size = max(w.size for w in words)
        lines = self.break_lines(words, width, indent)
        for i, line in enumerate(lines):
            lh = self.line_height(size)
            notes = [w.note for w in line if w.note]
            self.ensure(lh + sum(self._lines_height(n) for n in notes))
            self.y -= lh
            x = self.col_x(self.col) + x_off
            if i == 0 and bullet is not None:
                self.canvas.setFont(bullet.face.name, bullet.size)
                self.canvas.drawString(x - bullet_gap, self.y, bullet.text)
                self.record(bullet.text)
            first = i == 0
            self.draw_words(line, x + (indent if first else 0), width - (indent if first else 0),
                            align, last=i == len(lines) - 1)
            self.footnotes.extend(notes)

    # ------------------------------------------------------------- footnotes
    def _lines_height(self, lines: list[list[Word]]) -> float:
        return sum(self.line_height(max(x.size for x in ln)) for ln in lines)

    def _footnote_height(self) -> float:
        if not self.footnotes:
            return 0.0
        return self.style.size + sum(self._lines_height(n) for n in self.footnotes)

    def _flush_footnotes(self) -> None:
        """Draw the column's pending footnotes at its foot, under a short rule."""
        if not self.footnotes:
            return
        x = self.col_x(self.col)
        y = self._bottom() + self._footnote_height()
        self.canvas.setLineWidth(0.4)
        self.canvas.line(x, y - 0.3 * self.style.size, x + 0.3 * self.col_width, y - 0.3 * self.style.size)
        self.y = y - 0.3 * self.style.size
        for note in self.footnotes:
            for line in note:
                self.y -= self.line_height(max(w.size for w in line))
                self.draw_words(line, x, self.col_width, "left", last=True)
        self.footnotes = []
