"""Whitepaper-like PDFs with known text and known layout, for tests, the quickstart and the bundled sample.

The OCR pipeline's layout analysis and text-layer path need pages whose every line is known: where it
sits, which column and paragraph it belongs to, and what it says. reportlab draws each line at a
position we choose (the greedy word wrap of :mod:`docencoder.data.synth.linebreak`), so the ground
truth is exact rather than re-derived from the PDF. Two columns share one baseline grid on purpose:
aligned lines are the hard case for projection-profile layout (rows are blank across both columns
at once).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from docencoder.pdf.document import POINTS_PER_INCH

#: our own paragraphs of technical prose (written for this project), reused round-robin
SAMPLE_PARAGRAPHS: tuple[str, ...] = (
    "Document encoders compress a rendered page into a short sequence of vision tokens that a small "
    "language model reads back as text. The ratio between text tokens and vision tokens decides how "
    "much context a page costs.",
    "A windowed attention encoder keeps activations small at high resolution, while a convolutional "
    "compressor reduces the number of tokens sixteen times before any global attention is applied.",
    "Batch conversion of technical reports needs stable output: one record per page, written in page "
    "order, so that an interrupted job can resume without losing or duplicating any page.",
    "Scanned pages differ from digital ones in noise, blur, uneven contrast and a small rotation of the "
    "text lines. A robust layout step removes specks and straightens the page before it finds lines.",
    "Two column layouts are read column by column: first the left column from top to bottom, then the "
    "right column. Running headers and page numbers stay where they are on the page.",
    "Each text line is cut at the gaps between words into pieces that fit the input of the line model, "
    "and the pieces of many lines are decoded together in one batch to use the processor well.",
    "The text layer of a digital PDF is exact when it exists, so it is used where it can be trusted and "
    "the model reads only the pages that have no usable text of their own.",
    "Evaluation compares the predicted text with the reference using the character error rate and the "
    "word error rate, reported per page and for the whole collection of documents.",
)


@dataclass
class SampleLine:
    """One drawn line of text: its words and where it is on the page (PDF points, origin bottom-left)."""

    text: str
    x: float  # left end of the baseline
    baseline: float  # y of the baseline
    width: float  # advance width of the text
    size: float  # font size in points
    column: int  # 0 = full width (title, header, footer), 1 = left column, 2 = right column
    block: int  # running paragraph number on the page, in reading order


@dataclass
class SamplePage:
    """The lines of one page in reading order, and the page size in points."""

    width: float
    height: float
    lines: list[SampleLine] = field(default_factory=list)

    def blocks(self) -> list[list[SampleLine]]:
        """Lines grouped by paragraph, in reading order."""
        out: list[list[SampleLine]] = []
        for line in self.lines:
            if not out or out[-1][0].block != line.block:
                out.append([])
            out[-1].append(line)
        return out

    def text(self) -> str:
        """Paragraphs joined with blank lines, their lines with spaces: the page's reading-order text."""
        return "\n\n".join(" ".join(line.text for line in b) for b in self.blocks())

    def pixel_box(self, line: SampleLine, dpi: float) -> tuple[float, float, float, float]:
        """Approximate ink box ``(x0, y0, x1, y1)`` of a line on a page rendered at ``dpi`` (top-left origin)."""
        s = dpi / POINTS_PER_INCH
        top = self.height - line.baseline - 0.75 * line.size  # cap height above the baseline
        bottom = self.height - line.baseline + 0.25 * line.size  # descenders below it
        return line.x * s, top * s, (line.x + line.width) * s, bottom * s


@dataclass
class SampleDocument:
    """A generated PDF and the ground truth of every page."""

    path: Path
    pages: list[SamplePage]

    def text(self, page: int) -> str:
        """Reading-order text of a 1-based page."""
        return self.pages[page - 1].text()


@dataclass
class SampleStyle:
    """Geometry of the generated whitepaper (all in points)."""

    page_width: float = 612.0  # US letter
    page_height: float = 792.0
    margin: float = 54.0
    gutter: float = 20.0  # between the two columns
    columns: int = 2
    font: str = "Times-Roman"
    bold_font: str = "Times-Bold"
    size: float = 10.0
    leading: float = 12.5  # baseline to baseline
    paragraph_space: float = 8.0  # extra space between paragraphs
    title_size: float = 16.0
    header: bool = True
    footer: bool = True
    #: baseline offset of the right column's first line, to test misaligned columns (0 = aligned)
    right_offset: float = 0.0


def _wrap(words: Sequence[str], width: float, font: str, size: float) -> list[str]:
    """Greedy word wrap with reportlab's own metrics, so drawn lines never exceed ``width``: the
    synthetic documents' line breaking (:func:`docencoder.data.synth.linebreak.break_lines`, no
    hyphenation; a word wider than a whole line is cut)."""
    from docencoder.data.synth.faces import standard_face
    from docencoder.data.synth.linebreak import Word, break_lines

    face = standard_face(font)
    lines = break_lines([Word(text, face, size) for text in words], width)
    return [" ".join(w.text for w in line) for line in lines]


def _layout_page(page_no: int, n_pages: int, style: SampleStyle, paragraphs: list[str],
                 title: Optional[str]) -> tuple[SamplePage, list[str]]:
    """Place the lines of one page; returns the page and the paragraphs left for the next pages."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    st = style
    page = SamplePage(width=st.page_width, height=st.page_height)
    block = 0
    top = st.page_height - st.margin
    if st.header:
        left, right = "docencoder sample whitepaper", f"page {page_no} of {n_pages}"
        y = top + st.size * 1.5
        for text, x in ((left, st.margin),
                        (right, st.page_width - st.margin - stringWidth(right, st.font, st.size * 0.9))):
            page.lines.append(SampleLine(text, x, y, stringWidth(text, st.font, st.size * 0.9),
                                         st.size * 0.9, 0, block))
            block += 1
    y = top - st.size
    if title:
        for text in _wrap(title.split(), st.page_width - 2 * st.margin, st.bold_font, st.title_size):
            w = stringWidth(text, st.bold_font, st.title_size)
            page.lines.append(SampleLine(text, (st.page_width - w) / 2, y, w, st.title_size, 0, block))
            y -= st.title_size * 1.25
        block += 1
        y -= st.title_size
    body_top = y
    bottom = st.margin + (st.size * 2 if st.footer else 0)
    col_w = (st.page_width - 2 * st.margin - (st.columns - 1) * st.gutter) / st.columns
    remaining = list(paragraphs)
    for col in range(st.columns):
        x = st.margin + col * (col_w + st.gutter)
        y = body_top - (st.right_offset if col > 0 else 0.0)
        column_id = col + 1 if st.columns > 1 else 0
        while remaining:
            lines = _wrap(remaining[0].split(), col_w, st.font, st.size)
            room = int((y - bottom) // st.leading) + 1
            if room <= 1:
                break
            take, rest = lines[:room], lines[room:]
            for text in take:
                page.lines.append(SampleLine(text, x, y, stringWidth(text, st.font, st.size),
                                             st.size, column_id, block))
                y -= st.leading
            block += 1
            y -= st.paragraph_space
            if rest:  # the paragraph continues in the next column or page
                remaining[0] = " ".join(rest)
                break
            remaining.pop(0)
    if st.footer:
        text = str(page_no)
        w = stringWidth(text, st.font, st.size)
        page.lines.append(SampleLine(text, (st.page_width - w) / 2, st.margin, w, st.size, 0, block))
    return page, remaining


def make_whitepaper(path: str | Path, n_pages: int = 2, style: Optional[SampleStyle] = None,
                    paragraphs: Optional[Sequence[str]] = None, seed: int = 0,
                    title: str = "Optical Compression of Technical Documents") -> SampleDocument:
    """Write a whitepaper-like PDF with a real text layer and return its ground truth.

    Args:
        path: where to write the PDF.
        n_pages: pages to fill (paragraphs are reused round-robin in a seeded order).
        style: page geometry; two columns with running header and page-number footer by default.
        paragraphs: the prose to set (defaults to :data:`SAMPLE_PARAGRAPHS`).
        seed: shuffles the paragraph order, so different documents differ.
        title: drawn centered on the first page only ("" for none).
    """
    from reportlab.pdfgen import canvas

    st = style or SampleStyle()
    pool = list(paragraphs or SAMPLE_PARAGRAPHS)
    random.Random(seed).shuffle(pool)
    feed = [pool[i % len(pool)] for i in range(len(pool) * (n_pages + 2) * 2)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(path), pagesize=(st.page_width, st.page_height), invariant=1)
    pages = []
    for i in range(n_pages):
        page, feed = _layout_page(i + 1, n_pages, st, feed, title if i == 0 and title else None)
        for line in page.lines:
            bold = line.size == st.title_size
            c.setFont(st.bold_font if bold else st.font, line.size)
            c.drawString(line.x, line.baseline, line.text)
        c.showPage()
        pages.append(page)
    c.save()
    return SampleDocument(path=path, pages=pages)


def make_scanned_pdf(source: str | Path, path: str | Path, dpi: int = 150,
                     pages: Optional[Sequence[int]] = None) -> Path:
    """Copy a PDF as pictures of its pages: the same look, but no text layer (like a scan).

    Args:
        source: a PDF to render.
        path: where to write the image-only PDF.
        dpi: resolution of the embedded page pictures.
        pages: 1-based pages to convert to pictures; the others keep their text layer (None = all).
    """
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.render import render_page

    pdf = open_pdf(source)
    c = canvas.Canvas(str(path), invariant=1)
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            try:
                w, h = page.get_size()
                textpage = page.get_textpage()
                text = textpage.get_text_bounded()
                textpage.close()
            finally:
                page.close()
            c.setPageSize((w, h))
            if pages is None or i + 1 in pages:
                img = render_page(pdf, i, dpi)
                c.drawImage(ImageReader(img), 0, 0, width=w, height=h)
            else:
                c.setFont("Times-Roman", 10)
                y = h - 72
                for line in text.splitlines():
                    c.drawString(72, y, line)
                    y -= 12
            c.showPage()
    finally:
        pdf.close()
    c.save()
    return Path(path)
