"""The vocabulary of document structure: block roles, the lines a page is made of, the blocks.

Both sources of a page's text feed the same structure step (issue 17): the text layer of a
digital PDF (:mod:`docencoder.pdf.textlayer`: boxes, font sizes, bold and fixed-pitch fonts) and
the OCR path (:mod:`docencoder.ocr.layout`: line boxes and heights, the line model's text). Each
source turns its lines into :class:`Line` s, in reading order, with what it knows; what it does
not know stays ``None`` and the rules that need it are skipped.

Box convention, for lines and blocks alike: ``(x0, y0, x1, y1)`` as *fractions of the page's
width and height*, origin at the top-left corner, y down, so boxes of a text-layer page (PDF
points) and of a rendered page (pixels at any dpi) compare directly, on one page and across
the pages of a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

#: (x0, y0, x1, y1), fractions of the page's width and height, origin top-left, y down
Box = tuple[float, float, float, float]

TITLE = "title"
HEADING = "heading"
PARAGRAPH = "paragraph"
LIST_ITEM = "list-item"
TABLE = "table"
CODE = "code"
MATH = "math"
CAPTION = "caption"
FOOTNOTE = "footnote"
PAGE_HEADER = "page-header"
PAGE_FOOTER = "page-footer"
PAGE_NUMBER = "page-number"
FIGURE = "figure"
#: every role a block can have
ROLES = (TITLE, HEADING, PARAGRAPH, LIST_ITEM, TABLE, CODE, MATH, CAPTION, FOOTNOTE,
         PAGE_HEADER, PAGE_FOOTER, PAGE_NUMBER, FIGURE)
#: the page furniture markdown leaves out: it repeats on every page and is not the text
FURNITURE = frozenset({PAGE_HEADER, PAGE_FOOTER, PAGE_NUMBER})
#: deepest heading level (``####``); the title is level 1
MAX_LEVEL = 4
#: how the cells of a table row are joined in a table block's text
CELL_SEPARATOR = " | "
#: decimals a block's box keeps (1e-4 of a page: 0.08 pt of a letter page)
BOX_DECIMALS = 4


@dataclass(frozen=True)
class Line:
    """One line of a page as a source read it, in reading order.

    Attributes:
        text: the line's text, whitespace collapsed (a table row: its cells joined by
            :data:`CELL_SEPARATOR`).
        box: where the line is (see the module docstring); None when the source does not know.
        size: the line's text height in any unit that is the same for every line of the page
            (points of font size for the text layer, ink pixels for a render); compared only to
            the page's body size. None: unknown.
        size_is_ink: ``size`` measures ink (ascenders and descenders vary with the letters), so
            it needs a wider margin to tell a heading from body text than a font size does.
        bold: set in a bold font; None: unknown (pixels).
        mono: set in a fixed-pitch font; None: unknown.
        block: the source's own paragraph group (text-layer gap groups, the layout's blocks):
            lines of different groups never share a block.
        cells: how many cells the line has (a table row read cell by cell: more than one).
    """

    text: str
    box: Optional[Box] = None
    size: Optional[float] = None
    size_is_ink: bool = False
    bold: Optional[bool] = None
    mono: Optional[bool] = None
    block: int = 0
    cells: int = 1


@dataclass
class Block:
    """A run of lines with one role: what the JSONL ``blocks`` list holds.

    Attributes:
        role: one of :data:`ROLES`.
        text: the block's lines as read, joined by newlines (a table's cells by
            :data:`CELL_SEPARATOR`; a code block's lines keep their indentation). Markdown is
            rendered from this, so a record's blocks are enough to rebuild its markdown.
        box: the union of its lines' boxes (see the module docstring); None when unknown.
        level: a heading's level, 1 (``#``) to :data:`MAX_LEVEL`; 0 for other roles.
        open_end: a paragraph whose last line runs to the block's right edge, so it may go on in
            the next column or page (markdown joins it there when the text agrees).
    """

    role: str
    text: str
    box: Optional[Box] = None
    level: int = 0
    open_end: bool = False

    def __post_init__(self) -> None:
        if self.box is not None:  # as written, so a resumed record is the record it was
            self.box = tuple(round(float(v), BOX_DECIMALS) for v in self.box)  # type: ignore[assignment]
        if self.role not in ROLES:
            raise ValueError(f"unknown block role {self.role!r}")
        if not 0 <= self.level <= MAX_LEVEL:
            raise ValueError(f"heading level must be 0..{MAX_LEVEL}, got {self.level}")

    @property
    def lines(self) -> list[str]:
        """The block's lines as read."""
        return self.text.split("\n")

    def to_dict(self) -> dict[str, Any]:
        """The JSONL form: ``role``, ``text``, ``box`` (:data:`BOX_DECIMALS` decimals, or null), and ``level`` /
        ``open_end`` only where they say something."""
        d: dict[str, Any] = {"role": self.role, "text": self.text,
                             "box": None if self.box is None else list(self.box)}
        if self.level:
            d["level"] = self.level
        if self.open_end:
            d["open_end"] = True
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Block":
        box = d.get("box")
        return cls(str(d["role"]), str(d["text"]),
                   None if box is None else tuple(float(v) for v in box),  # type: ignore[arg-type]
                   int(d.get("level", 0)), bool(d.get("open_end", False)))
