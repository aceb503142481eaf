"""Both reading paths into :mod:`docencoder.structure`: its lines from a page's text layer or
from the layout of an OCR'd page, and the document pass over a document's page records.

* text layer (:func:`text_layer_lines`): every line's box, its font size (the median height of
  its glyphs' loose boxes), bold and fixed-pitch fonts, and its paragraph group
  (``TextLayerPage.blocks``, the groups the page text is made of);
* OCR (:func:`layout_geometry`, :func:`ocr_lines`): the layout's line boxes and ink heights,
  kept from :meth:`Reader.prepare` with the line pieces (:attr:`~.line_reader.PagePieces.geometry`),
  matched to the lines of the decoded text; a page model, or a page whose text has other lines
  than its layout (a line read as nothing), falls back to the text's own lines and blank lines;
* :func:`finish_document`: running headers and footers across the pages, then each page's
  markdown again.

None of this changes a page's ``text``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from docencoder.structure import (
    Block,
    Line,
    default_lexicon,
    mark_running,
    page_blocks,
    render_page,
    text_lines,
)
from docencoder.structure.markdown import document_words

from .results import clean_text

if TYPE_CHECKING:
    from docencoder.pdf.textlayer import TextLayerPage

    from .layout import PageLayout
    from .results import PageResult


def text_layer_lines(layer: "TextLayerPage") -> list[Line]:
    """The lines of a page's text layer, in the page text's order, with their geometry and fonts."""
    cl, cb, cr, ct = layer.crop_box
    w, h = max(cr - cl, 1e-6), max(ct - cb, 1e-6)
    out = []
    for i, group in enumerate(layer.blocks):
        for line in group:
            x0, y0, x1, y1 = line.bbox  # points, y up
            box = ((x0 - cl) / w, (ct - y1) / h, (x1 - cl) / w, (ct - y0) / h)
            out.append(Line(clean_text(line.text), box, line.height, False, line.bold,
                            line.mono, i))
    return out


@dataclass(frozen=True)
class PageGeometry:
    """The layout's lines of a page to OCR, ``[block][line]``, as :class:`Line` s without text
    (boxes in page fractions, sizes in ink pixels, table rows with their cell count)."""

    blocks: tuple[tuple[Line, ...], ...]

    @property
    def n_lines(self) -> int:
        return sum(len(b) for b in self.blocks)


def layout_geometry(layout: "PageLayout") -> PageGeometry:
    """What the structure step needs of a page's layout, without the image."""
    W, H = layout.image.size
    W, H = max(W, 1), max(H, 1)
    blocks = []
    for i, block in enumerate(layout.blocks):
        blocks.append(tuple(
            Line("", (line.box[0] / W, line.box[1] / H, line.box[2] / W, line.box[3] / H),
                 float(line.height), True, None, None, i, max(1, len(line.cells)))
            for line in block.lines))
    return PageGeometry(tuple(blocks))


def ocr_lines(text: str, geometry: Optional[PageGeometry]) -> list[Line]:
    """The lines of an OCR'd page: the text's lines on the layout's geometry when they match one
    to one (the reader writes one line per layout line, blocks apart by blank lines, and drops
    lines read as nothing), else the text's own lines (:func:`~docencoder.structure.text_lines`)."""
    read = text_lines(text)
    if geometry is None or geometry.n_lines != len(read):
        return read
    shaped = [line for block in geometry.blocks for line in block]
    return [Line(r.text, g.box, g.size, True, None, None, g.block, g.cells)
            for r, g in zip(read, shaped)]


def structure_page(lines: Sequence[Line], page: int) -> list[Block]:
    """A page's blocks (its own rules only; :func:`finish_document` adds the running ones)."""
    return page_blocks(lines, page)


def finish_document(pages: Sequence["PageResult"]) -> None:
    """The document pass over a document's pages (in page order), in place: running headers and
    footers tagged (:func:`~docencoder.structure.mark_running`), each page's ``markdown``
    rendered again with the words of the whole document as evidence for dehyphenation."""
    mark_running([p.blocks for p in pages])
    seen = document_words([p.blocks for p in pages])
    lexicon = default_lexicon()
    for p in pages:
        p.markdown = render_page(p.blocks, lexicon, seen)
