"""Read the text layer of a PDF page as it is displayed: characters, lines, words, page text.

Digital PDFs carry their exact text, so every page of one is a free (image, text) training pair
and, at inference, a page whose text layer is sound needs no OCR at all (:mod:`.trust` decides
which). The text layer is only usable after some care, which is what this module is about:

* pdfium reports characters in content-stream order and joins a hyphenated word across a line
  break (the hyphen comes back as ``\\x02``), so lines are rebuilt here from the geometry (baseline
  jumps, backward moves, wide gaps) instead of trusting pdfium's own line breaks;
* ligature glyphs (``ﬁ``, ``ﬂ``, ...) are decomposed with NFKC — applied to the presentation-form
  block only, because NFKC on everything would also flatten superscripts and symbols that are
  really on the page;
* glyphs without a Unicode mapping become U+FFFD, so :func:`.trust.text_layer_quality` can see them;
* pdfium hands out UTF-16 code units, so a character outside the Basic Multilingual Plane (TeX's
  mathematical italic letters, U+1D44E...) comes as a surrogate pair, joined here into one
  character and NFKC-normalised to the letter the training labels spell; a lone surrogate is
  dropped (written as UTF-8 it would crash any writer);
* a ``/Rotate`` page is read as it is displayed (:class:`ShownFrame`), so its text is upright
  and its boxes fall on the render (:func:`.render.render_page`); characters rotated on the
  displayed page (margin stamps, sideways tables) are left out: they are not part of the
  horizontal reading order, and their crops would not be line images.
* characters whose box centre lies outside the crop box are left out and counted
  (:attr:`TextLayerPage.n_off_page`): they are drawn but not shown (text running past the page
  edge, marks beyond the crop box), so the page's text must not hold them, and a training line
  partly off the page would otherwise get a clamped crop that no longer shows its label.

Box convention: PDF points, ``(left, bottom, right, top)``, y up, in the displayed frame of the
page (:attr:`TextLayerPage.crop_box`); :meth:`TextLayerPage.to_pixels` maps a box onto a
render as ``(left, top, right, bottom)`` pixels, y down.
"""

from __future__ import annotations

import ctypes
import math
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterator, Optional, Sequence

from .document import PdfBox as Box
from .document import PdfInput, open_pdf

#: pdfium's code for a hyphen it joined across a line break
_PDFIUM_HYPHEN = "\x02"
#: stand-in for glyphs that have no Unicode mapping
REPLACEMENT = "\ufffd"
#: a baseline moving by more than this fraction of the line's height starts a new line (super- and
#: subscripts move by ~0.2-0.4 em, the next line by ~1.2 em)
NEW_LINE_BASELINE_JUMP = 0.5
#: a horizontal gap wider than this many line heights splits a line (column gutters, table cells);
#: justified word gaps stay well below it
MAX_WORD_GAP = 2.0
#: a move back to the left by more than this many line heights starts a new line
BACKWARD_MOVE = 0.5
#: characters whose angle (radians) exceeds this are not horizontal text
MAX_ANGLE = 0.05
#: a vertical gap (in line heights) between consecutive lines that marks a new paragraph/block
BLOCK_GAP = 0.9
#: PDF text render mode 3 = invisible (the OCR layer of a scanned PDF)
_INVISIBLE_MODE = 3


@dataclass
class Char:
    """One character of the text layer, in PDF points (origin bottom-left of the page)."""

    text: str
    box: tuple[float, float, float, float]  # loose box (left, bottom, right, top): ascent..descent
    origin: tuple[float, float]  # pen position on the baseline
    generated: bool  # pdfium inferred it (a space from a gap); it has no glyph
    #: the glyph's own bounding box (left, bottom, right, top), None when unknown; italic and
    #: kerned glyphs reach outside their advance (the loose box), so ink extents need both
    ink: Optional[tuple[float, float, float, float]] = None
    #: the glyph's font is bold (a bold name; for a font without a name, weight >= 600 or
    #: pdfium's force-bold flag)
    bold: bool = False
    #: the glyph's font is fixed-pitch (code, typewriter text)
    mono: bool = False


def union_box(boxes: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) enclosing every box of a non-empty list."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


@dataclass
class TextLine:
    """One horizontal line of text: its characters, text and box (PDF points)."""

    chars: list[Char] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The line's text with runs of spaces collapsed and ends stripped."""
        return " ".join("".join(c.text for c in self.chars).split())

    @property
    def glyphs(self) -> list[Char]:
        """The characters that have glyphs (not generated, not blank)."""
        return [c for c in self.chars if not c.generated and c.text.strip()]

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) over the characters that have glyphs."""
        return union_box([c.box for c in self.glyphs] or [c.box for c in self.chars])

    @property
    def reach(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) over the loose and ink boxes of the glyphs: where the
        line's ink can be (accents and tall glyphs can rise above the font's ascent)."""
        glyphs = self.glyphs
        boxes = [c.box for c in glyphs] + [c.ink for c in glyphs if c.ink is not None]
        return union_box(boxes) if boxes else self.bbox

    @property
    def ink_bbox(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) over the glyphs' own ink boxes (loose boxes where unknown):
        tighter than :attr:`bbox`, whose descent and ascent are the font's, not the glyphs'."""
        boxes = [c.ink if c.ink is not None else c.box for c in self.glyphs]
        return union_box(boxes) if boxes else self.bbox

    @property
    def height(self) -> float:
        """Median loose-box height of the glyphs: the line's size, robust to sub/superscripts."""
        heights = sorted(c.box[3] - c.box[1] for c in self.chars if not c.generated)
        return heights[len(heights) // 2] if heights else 0.0

    @property
    def baseline(self) -> float:
        """Median baseline y of the glyphs."""
        ys = sorted(c.origin[1] for c in self.chars if not c.generated)
        return ys[len(ys) // 2] if ys else 0.0

    @property
    def bold(self) -> bool:
        """Whether most glyphs are set in a bold font (headings, run-in titles)."""
        glyphs = self.glyphs
        return bool(glyphs) and 2 * sum(c.bold for c in glyphs) > len(glyphs)

    @property
    def mono(self) -> bool:
        """Whether most glyphs are set in a fixed-pitch font (code listings)."""
        glyphs = self.glyphs
        return bool(glyphs) and 2 * sum(c.mono for c in glyphs) > len(glyphs)


@dataclass
class TextLayerPage:
    """The text layer of one page and what is needed to map it onto a rendered image."""

    index: int
    #: (left, bottom, right, top) in PDF points of the page as displayed, in the frame of the
    #: lines' geometry: the PDF's own crop box on an unrotated page, ``(0, 0, width, height)`` as
    #: shown on a ``/Rotate`` page (see :class:`ShownFrame`)
    crop_box: tuple[float, float, float, float]
    lines: list[TextLine]
    n_rotated: int = 0  # characters left out because they are not horizontal
    n_invisible: int = 0  # characters drawn invisibly (an OCR layer over a scan)
    n_chars: int = 0  # glyph characters kept in ``lines``
    #: glyph characters left out because their box's centre lies outside the crop box: drawn
    #: but not shown (clipped by the viewer and by the render), so not part of the page's text
    n_off_page: int = 0

    @cached_property
    def blocks(self) -> list[list[TextLine]]:
        """The lines grouped into paragraph blocks (:func:`group_blocks`), once: the page text
        and the structure step (``docencoder.ocr.structured``) both read them."""
        return group_blocks(self.lines)

    @property
    def text(self) -> str:
        """The page text in reading order: lines joined by newlines, blocks by blank lines."""
        return _join_blocks(self.blocks)

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) of the page as displayed (after /Rotate), in points."""
        return self.crop_box[2] - self.crop_box[0], self.crop_box[3] - self.crop_box[1]

    def to_pixels(self, box: tuple[float, float, float, float],
                  image_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """Map a box of the text layer (PDF points, y up) onto an image of the displayed page.

        The text layer is already in the displayed frame (:func:`read_page`), so this only scales
        and flips y.

        Args:
            box: (left, bottom, right, top) in PDF points.
            image_size: (width, height) of the rendered page image in pixels.

        Returns:
            (left, top, right, bottom) in pixels, origin top-left.
        """
        cl, cb, cr, ct = self.crop_box
        sx, sy = image_size[0] / (cr - cl), image_size[1] / (ct - cb)
        x0, x1 = (box[0] - cl) * sx, (box[2] - cl) * sx
        y0, y1 = (ct - box[3]) * sy, (ct - box[1]) * sy
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def group_blocks(lines: Sequence[TextLine]) -> list[list[TextLine]]:
    """Lines (with text) grouped into blocks: a wide vertical gap or a column jump starts one."""
    blocks: list[list[TextLine]] = []
    prev: Optional[TextLine] = None
    for line in lines:
        if not line.text:
            continue
        if prev is not None:
            h = max(prev.height, line.height, 1e-3)
            gap = prev.bbox[1] - line.bbox[3]  # > 0 when the new line is below the previous
            if gap > BLOCK_GAP * h or gap < -2 * h:
                blocks.append([])
        else:
            blocks.append([])
        blocks[-1].append(line)
        prev = line
    return blocks


def layout_text(lines: Sequence[TextLine]) -> str:
    """Join lines into page text: lines by newlines, blocks (:func:`group_blocks`) by blank lines."""
    return _join_blocks(group_blocks(lines))


def _join_blocks(blocks: Sequence[Sequence[TextLine]]) -> str:
    return "\n\n".join("\n".join(line.text for line in block) for block in blocks)


#: letterlike symbols that stand in the holes of the Mathematical Alphanumeric Symbols block
#: (italic h is U+210E, not U+1D455): NFKC-normalised like the block itself
_MATH_LETTERLIKE = frozenset("\u2102\u210a\u210b\u210c\u210d\u210e\u2110\u2111\u2112\u2113"
                             "\u2115\u2119\u211a\u211b\u211c\u211d\u2124\u2128\u212c\u212d"
                             "\u212f\u2130\u2131\u2133\u2134")


def _normalize_char(ch: str) -> str:
    """Decompose ligatures (the presentation-forms block only), NFKC astral-plane characters
    and the math letters among the letterlike symbols, and map pdfium's hyphen marker.

    Why NFKC for the astral plane: what a PDF puts there is mostly the Mathematical Alphanumeric
    Symbols (italic, bold, script, double-struck letters and digits: U+1D400-U+1D7FF), which the
    training labels (:func:`~docencoder.data.tokenizer.normalize_text`) and the model's own
    output spell as plain letters; NFKC leaves other astral characters (emoji, CJK extensions)
    as they are.
    """
    if ch == _PDFIUM_HYPHEN:
        return "-"
    if "\ufb00" <= ch <= "\ufb4f" or ord(ch) > 0xFFFF or ch in _MATH_LETTERLIKE:
        return unicodedata.normalize("NFKC", ch)
    if ch in ("\r", "\n"):
        return " "
    if ch == "\xa0":
        return " "
    return ch


def _plausible_ink(ink: tuple[float, float, float, float], box: tuple[float, float, float, float]) -> bool:
    """True for a real glyph ink box: not empty (spaces) and near its loose box (broken font
    bounding boxes, e.g. of some Type 3 fonts, would otherwise stretch word spans and crops)."""
    h = max(box[3] - box[1], 1e-3)
    return (ink[2] > ink[0] and ink[3] >= ink[1] and ink[0] >= box[0] - h and ink[2] <= box[2] + h
            and ink[1] >= box[1] - h and ink[3] <= box[3] + h)


#: UTF-16 surrogate ranges: pdfium reports a character outside the Basic Multilingual Plane (the
#: mathematical italic letters U+1D44E... of TeX's unicode-math fonts, for instance) as two
#: character indices, its high and its low surrogate
_HIGH_SURROGATE = (0xD800, 0xDBFF)
_LOW_SURROGATE = (0xDC00, 0xDFFF)


@dataclass(frozen=True)
class ShownFrame:
    """The displayed frame of a page: its crop box at the origin, turned by its ``/Rotate``.

    Why: pdfium reports characters in PDF user space, where the text of a page shown upright
    through ``/Rotate 90`` runs vertically; read there, all of it would be dropped as rotated
    text, and its lines would not be the lines of the (upright) render. Turned into this frame,
    such a page reads like an unrotated one, for the OCR text layer and training crops alike.
    """

    crop: Box  # (left, bottom, right, top) of the crop box in user space
    rotation: int  # the page's /Rotate: 0, 90, 180 or 270 degrees clockwise

    @property
    def box(self) -> Box:
        """The displayed page, (0, 0, width, height) in points."""
        w, h = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        return (0.0, 0.0, h, w) if self.rotation % 180 else (0.0, 0.0, w, h)

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A user-space point in the displayed frame (y up, origin bottom-left)."""
        cl, cb, cr, ct = self.crop
        u, v = x - cl, y - cb
        w, h = cr - cl, ct - cb
        if self.rotation == 90:  # turned clockwise: the left edge becomes the top
            return v, w - u
        if self.rotation == 180:
            return w - u, h - v
        if self.rotation == 270:
            return h - v, u
        return u, v

    def rect(self, box: Box) -> Box:
        """A user-space (left, bottom, right, top) box in the displayed frame."""
        (x0, y0), (x1, y1) = self.point(box[0], box[1]), self.point(box[2], box[3])
        return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))

    def angle(self, angle: float) -> float:
        """pdfium's character angle (radians in [0, 2 pi), measured clockwise on the page as
        PDF viewers show y; -1 for unknown) as seen on the displayed page."""
        return angle if angle < 0 else (angle + math.radians(self.rotation)) % (2 * math.pi)


def _inside(box: Box, page: Box) -> bool:
    """Whether the centre of ``box`` lies in ``page`` (both (left, bottom, right, top), edges in)."""
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    return page[0] <= cx <= page[2] and page[1] <= cy <= page[3]


#: pdfium's font flags (PDF 32000-1, table 123): fixed-pitch and force-bold
_FIXED_PITCH_FLAG = 1 << 0
_FORCE_BOLD_FLAG = 1 << 18
#: a font weight at or above this is bold (400 regular, 700 bold)
BOLD_WEIGHT = 600
#: font names of bold and of fixed-pitch faces (base names such as ``Times-Bold``,
#: ``ABCDEF+CMBX10``, ``LMMono10-Regular``), for fonts whose weight and flags say nothing
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|cmbx|cmb\d|bx\d", re.IGNORECASE)
_MONO_NAME = re.compile(r"mono|courier|typewriter|cmtt|consol|menlo|inconsolata|code",
                        re.IGNORECASE)


def _font_style(raw, obj, cache: dict[int, tuple[bool, bool]]) -> tuple[bool, bool]:
    """(bold, mono) of a text object's font, cached by the object (a line's glyphs share one)."""
    key = ctypes.cast(obj, ctypes.c_void_p).value or 0
    if key in cache:
        return cache[key]
    bold = mono = False
    font = raw.FPDFTextObj_GetFont(obj) if key else None
    if font:
        flags = raw.FPDFFont_GetFlags(font)
        n = raw.FPDFFont_GetBaseFontName(font, None, 0)
        name = ""
        if n > 0:
            buf = ctypes.create_string_buffer(n)
            raw.FPDFFont_GetBaseFontName(font, buf, n)
            name = buf.value.decode("latin-1", errors="replace")
        known = flags >= 0  # -1: pdfium cannot tell
        if name:  # the weight pdfium reports for embedded Type 1 fonts is noise (744 for
            # LMRoman10-Regular, 395 for LMRomanDemi10-Oblique): the name decides
            bold = bool(_BOLD_NAME.search(name))
        else:
            bold = (raw.FPDFFont_GetWeight(font) >= BOLD_WEIGHT
                    or (known and bool(flags & _FORCE_BOLD_FLAG)))
        mono = (known and bool(flags & _FIXED_PITCH_FLAG)) or bool(_MONO_NAME.search(name))
    cache[key] = (bold, mono)
    return bold, mono


@dataclass
class _Dropped:
    """Characters :func:`_read_chars` left out (or, for ``invisible``, kept but flagged)."""

    rotated: int = 0  # not horizontal on the displayed page
    invisible: int = 0  # drawn in render mode 3 (kept: the caller judges the page)
    off_page: int = 0  # glyphs whose box centre lies outside the crop box


def _read_chars(textpage, raw, shown: Box,
                frame: Optional[ShownFrame] = None) -> tuple[list[Char], _Dropped]:
    """Every horizontal character of a text page that is shown, plus counts of those left out.

    With ``frame``, geometry and angles are those of the displayed page (:class:`ShownFrame`),
    so "horizontal" means horizontal as shown. ``shown`` is the crop box in the same frame as the
    characters' boxes: a character whose box centre lies outside it is drawn off the page (text
    running past the edge, a slug or printer's mark beyond the crop box) and nobody sees it, so
    it is left out of the text, and of training labels whose crops could not show it.

    A surrogate pair becomes one character (with the box and origin of its first half); a lone
    surrogate, which stands for no character, is dropped.
    """
    chars: list[Char] = []
    dropped = _Dropped()
    rect = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    il, ir, ib, it = (ctypes.c_double() for _ in range(4))
    n = raw.FPDFText_CountChars(textpage)
    styles: dict[int, tuple[bool, bool]] = {}
    skip_next = False
    for i in range(n):
        if skip_next:  # the low half of a surrogate pair joined to the character before it
            skip_next = False
            continue
        code = raw.FPDFText_GetUnicode(textpage, i)
        if _HIGH_SURROGATE[0] <= code <= _HIGH_SURROGATE[1]:
            low = raw.FPDFText_GetUnicode(textpage, i + 1) if i + 1 < n else 0
            if not _LOW_SURROGATE[0] <= low <= _LOW_SURROGATE[1]:
                continue  # a lone half encodes nothing (and cannot be written as UTF-8)
            code = 0x10000 + ((code - _HIGH_SURROGATE[0]) << 10) + (low - _LOW_SURROGATE[0])
            skip_next = True
        elif _LOW_SURROGATE[0] <= code <= _LOW_SURROGATE[1]:
            continue
        generated = bool(raw.FPDFText_IsGenerated(textpage, i))
        if generated and chr(code) in "\r\n":
            chars.append(Char("\n", (0, 0, 0, 0), (0, 0), True))  # pdfium's own line break
            continue
        invisible = False
        bold = mono = False
        if not generated:
            angle = raw.FPDFText_GetCharAngle(textpage, i)  # [0, 2 pi), -1 on error
            if frame is not None:
                angle = frame.angle(angle)
            if angle >= 0 and min(angle, 2 * math.pi - angle) > MAX_ANGLE:
                dropped.rotated += 1
                continue
            obj = raw.FPDFText_GetTextObject(textpage, i)
            invisible = bool(obj) and raw.FPDFTextObj_GetTextRenderMode(obj) == _INVISIBLE_MODE
            if obj:
                bold, mono = _font_style(raw, obj, styles)
        if raw.FPDFText_HasUnicodeMapError(textpage, i) == 1 or code == 0:
            text = REPLACEMENT
        else:
            text = _normalize_char(chr(code))
        raw.FPDFText_GetLooseCharBox(textpage, i, ctypes.byref(rect))
        raw.FPDFText_GetCharOrigin(textpage, i, ctypes.byref(ox), ctypes.byref(oy))
        box = (rect.left, rect.bottom, rect.right, rect.top)
        origin = (ox.value, oy.value)
        ink = None
        if not generated and raw.FPDFText_GetCharBox(textpage, i, ctypes.byref(il), ctypes.byref(ir),
                                                     ctypes.byref(ib), ctypes.byref(it)):
            ink = (il.value, ib.value, ir.value, it.value)
        if frame is not None:
            box, origin = frame.rect(box), frame.point(*origin)
            ink = None if ink is None else frame.rect(ink)
        if not _inside(box, shown):
            dropped.off_page += not generated and bool(text.strip())
            continue
        dropped.invisible += invisible
        if ink is not None and not _plausible_ink(ink, box):
            ink = None
        chars.append(Char(text, box, origin, generated, ink, bold, mono))
    return chars, dropped


def _split_lines(chars: Sequence[Char]) -> list[TextLine]:
    """Group characters (stream order) into lines by their geometry; see the module docstring."""
    lines: list[TextLine] = []
    cur = TextLine()
    last: Optional[Char] = None  # last glyph of the current line
    for ch in chars:
        if ch.text == "\n":
            continue  # pdfium's break is a hint only: the geometry below decides
        if ch.generated or not ch.text.strip():
            if last is not None:
                cur.chars.append(ch)
            continue
        if last is not None:
            h = max(last.box[3] - last.box[1], ch.box[3] - ch.box[1], 1e-3)
            dy = abs(ch.origin[1] - last.origin[1])
            gap = ch.box[0] - last.box[2]
            advance = ch.origin[0] - last.origin[0]  # 0 for the pieces of a ligature
            if (dy > NEW_LINE_BASELINE_JUMP * h or gap > MAX_WORD_GAP * h
                    or advance < -BACKWARD_MOVE * h):
                lines.append(cur)
                cur = TextLine()
        if last is not None and cur.chars and _needs_space(cur.chars, ch, last):
            cur.chars.append(Char(" ", (last.box[2], last.box[1], ch.box[0], last.box[3]),
                                  last.origin, True))
        cur.chars.append(ch)
        last = ch
    if cur.chars:
        lines.append(cur)
    for line in lines:  # drop trailing spaces
        while line.chars and not line.chars[-1].text.strip():
            line.chars.pop()
    return [line for line in lines if line.chars]


#: a gap wider than this fraction of the line height between two glyphs is a word space
SPACE_GAP = 0.15


def _needs_space(line_chars: Sequence[Char], ch: Char, last: Char) -> bool:
    """True when a gap separates ``last`` and ``ch`` but no space character is between them."""
    if line_chars[-1] is not last:  # a space (real or pdfium's) is already there
        return False
    h = max(last.box[3] - last.box[1], 1e-3)
    return ch.box[0] - last.box[2] > SPACE_GAP * h and last.text != "-"


def read_page(pdf, index: int) -> TextLayerPage:
    """The text layer of page ``index`` of an open ``pypdfium2.PdfDocument``, as displayed.

    A ``/Rotate`` page is read in its displayed frame (:class:`ShownFrame`): its lines come out
    upright, in reading order, with boxes that :meth:`TextLayerPage.to_pixels` maps onto the
    render (:func:`.render.render_page` draws the page turned); an unrotated page keeps
    user space.
    """
    import pypdfium2.raw as raw

    page = pdf[index]
    try:
        crop = tuple(float(v) for v in page.get_cropbox())
        rotation = int(page.get_rotation()) % 360
        frame = ShownFrame(crop, rotation) if rotation else None
        shown = frame.box if frame else crop
        textpage = page.get_textpage()
        try:
            chars, dropped = _read_chars(textpage, raw, shown, frame)
        finally:
            textpage.close()
    finally:
        page.close()
    lines = _split_lines(chars)
    n_chars = sum(1 for line in lines for c in line.chars if not c.generated)
    return TextLayerPage(index, shown, lines, dropped.rotated, dropped.invisible, n_chars,
                      dropped.off_page)


def read_pages(pdf_path: PdfInput, pages: Optional[Sequence[int]] = None) -> Iterator[TextLayerPage]:
    """Yield the text layer of each page (all pages, or the given indices)."""
    pdf = open_pdf(pdf_path)
    try:
        for index in (range(len(pdf)) if pages is None else pages):
            yield read_page(pdf, index)
    finally:
        pdf.close()


def page_text(pdf_path: PdfInput, page_index: int) -> str:
    """The text of one page in reading order (lines joined by ``\\n``, blocks by ``\\n\\n``).

    Hyphens at line ends are kept as they are printed; ligatures are decomposed; unmapped glyphs
    come back as U+FFFD. Pass the result to :func:`.trust.text_layer_quality` before trusting it.

    Raises:
        ValueError: the file cannot be opened (corrupt, encrypted) or the page does not exist.
    """
    pdf = open_pdf(pdf_path)
    try:
        if not 0 <= page_index < len(pdf):
            raise ValueError(f"{pdf_path} has {len(pdf)} pages, no page index {page_index}")
        return read_page(pdf, page_index).text
    finally:
        pdf.close()


def line_words(line: TextLine) -> Optional[list[list[Char]]]:
    """The glyph characters of each word of ``line.text.split()``, in order; None if unalignable.

    Words are the runs between whitespace characters (real spaces and the gaps pdfium or
    :func:`_split_lines` turned into generated spaces), which is exactly how ``line.text``
    is made; a character whose text mixes whitespace and letters would break that, so such a
    line gets no words.
    """
    words: list[list[Char]] = []
    cur: list[Char] = []
    for ch in line.chars:
        if not ch.text.strip():
            if cur:
                words.append(cur)
                cur = []
            continue
        if any(c.isspace() for c in ch.text):
            return None
        cur.append(ch)
    if cur:
        words.append(cur)
    texts = ["".join(c.text for c in w) for w in words]
    return words if texts == line.text.split() else None
