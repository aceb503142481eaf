"""Read the text layer of digital PDFs: lines with boxes, page text, and a quality verdict.

Digital PDFs carry their exact text, so every page of one is a free (image, text) training pair
and, at inference, a page whose text layer is sound needs no OCR at all. The text layer is only
trustworthy after some care, which is what this module is about:

* pdfium reports characters in content-stream order and joins a hyphenated word across a line
  break (the hyphen comes back as ``\\x02``), so lines are rebuilt here from the geometry (baseline
  jumps, backward moves, wide gaps) instead of trusting pdfium's own line breaks;
* ligature glyphs (``ﬁ``, ``ﬂ``, ...) are decomposed with NFKC — applied to the presentation-form
  block only, because NFKC on everything would also flatten superscripts and symbols that are
  really on the page;
* glyphs without a Unicode mapping become U+FFFD, so :func:`text_layer_quality` can see them;
* pdfium hands out UTF-16 code units, so a character outside the Basic Multilingual Plane (TeX's
  mathematical italic letters, U+1D44E...) comes as a surrogate pair, joined here into one
  character and NFKC-normalised to the letter the training labels spell; a lone surrogate is
  dropped (written as UTF-8 it would crash any writer);
* a ``/Rotate`` page is read as it is displayed (:class:`ShownFrame`), so its text is upright
  and its boxes fall on the render; characters rotated on the displayed page (margin stamps,
  sideways tables) are left out: they are not part of the horizontal reading order, and their
  crops would not be line images.

Public API used elsewhere (keep stable): :func:`page_text`, :func:`text_layer_quality`,
:func:`read_page`/:func:`read_pages` and :func:`from_pdfs` (digital PDFs -> shards).
"""

from __future__ import annotations

import ctypes
import hashlib
import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

PathLike = Union[str, Path]
#: a PDF given as a file path or as the bytes of the file
PdfInput = Union[str, Path, bytes]

#: pdfium's code for a hyphen it joined across a line break
_PDFIUM_HYPHEN = "\x02"
#: stand-in for glyphs that have no Unicode mapping
REPLACEMENT = "\ufffd"
_UNMAPPED = "unmapped glyphs (U+FFFD)"
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

# text_layer_quality thresholds
#: fewer non-space characters than this counts as an empty text layer
MIN_CHARS = 16
#: largest tolerated share of control / private-use / unmapped characters
MAX_BAD_FRACTION = 0.01
#: the share of unmapped and private-use glyphs up to which a text layer still reads at least as
#: well as OCR of its pixels (``max_unmapped`` of :func:`text_layer_quality` for reading pages).
#: Measured on 1,588 sampled pages of 162 Debian PDFs: 113 fail the 1 % rule (not for being
#: empty); scored against Tesseract's reading of the 150-dpi render, the 46 of them with at most
#: 5 % unmapped or private-use glyphs (24 math pages: symbols of fonts without a ToUnicode
#: entry) read as well from the text layer as from the shipped model (median bag-of-words F1
#: 0.73 both; the text layer at least as good on 28), while above 5 % unmapped glyphs the model
#: read better on 38 of 44. Training labels must be exact and keep the 1 % rule.
OCR_MAX_UNMAPPED_FRACTION = 0.05
#: smallest share of letters and digits among non-space characters (real prose, tables and
#: math stay far above it; a table of contents with leader dots comes down to ~0.3)
MIN_ALNUM_FRACTION = 0.25
#: largest share of "other symbols" (dingbats, box drawing: what glyph-name guessing produces
#: for fonts without a usable encoding) and unassigned code points
MAX_SYMBOL_FRACTION = 0.1


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


@dataclass
class PageLayout:
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

    @property
    def text(self) -> str:
        """The page text in reading order: lines joined by newlines, blocks by blank lines."""
        return layout_text(self.lines)

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) of the page as displayed (after /Rotate), in points."""
        return self.crop_box[2] - self.crop_box[0], self.crop_box[3] - self.crop_box[1]

    def to_pixels(self, box: tuple[float, float, float, float],
                  image_size: tuple[int, int]) -> tuple[float, float, float, float]:
        """Map a box of the layout (PDF points, y up) onto an image of the displayed page.

        The layout is already in the displayed frame (:func:`read_page`), so this only scales
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
    return "\n\n".join("\n".join(line.text for line in block) for block in group_blocks(lines))


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


Box = tuple[float, float, float, float]


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


def _read_chars(textpage, raw, frame: Optional[ShownFrame] = None) -> tuple[list[Char], int, int]:
    """Every horizontal character of a text page, plus counts of rotated and invisible ones.

    With ``frame``, geometry and angles are those of the displayed page (:class:`ShownFrame`),
    so "horizontal" means horizontal as shown.

    A surrogate pair becomes one character (with the box and origin of its first half); a lone
    surrogate, which stands for no character, is dropped.
    """
    chars: list[Char] = []
    n_rotated = n_invisible = 0
    rect = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    il, ir, ib, it = (ctypes.c_double() for _ in range(4))
    n = raw.FPDFText_CountChars(textpage)
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
        if not generated:
            angle = raw.FPDFText_GetCharAngle(textpage, i)  # [0, 2 pi), -1 on error
            if frame is not None:
                angle = frame.angle(angle)
            if angle >= 0 and min(angle, 2 * math.pi - angle) > MAX_ANGLE:
                n_rotated += 1
                continue
            obj = raw.FPDFText_GetTextObject(textpage, i)
            if obj and raw.FPDFTextObj_GetTextRenderMode(obj) == _INVISIBLE_MODE:
                n_invisible += 1
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
        if ink is not None and not _plausible_ink(ink, box):
            ink = None
        chars.append(Char(text, box, origin, generated, ink))
    return chars, n_rotated, n_invisible


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


def read_page(pdf, index: int) -> PageLayout:
    """The text layer of page ``index`` of an open ``pypdfium2.PdfDocument``, as displayed.

    A ``/Rotate`` page is read in its displayed frame (:class:`ShownFrame`): its lines come out
    upright, in reading order, with boxes that :meth:`PageLayout.to_pixels` maps onto the
    render (pdfium and poppler both draw the page turned); an unrotated page keeps user space.
    """
    import pypdfium2.raw as raw

    page = pdf[index]
    try:
        crop = tuple(float(v) for v in page.get_cropbox())
        rotation = int(page.get_rotation()) % 360
        frame = ShownFrame(crop, rotation) if rotation else None
        textpage = page.get_textpage()
        try:
            chars, n_rotated, n_invisible = _read_chars(textpage, raw, frame)
        finally:
            textpage.close()
    finally:
        page.close()
    lines = _split_lines(chars)
    n_chars = sum(1 for line in lines for c in line.chars if not c.generated)
    return PageLayout(index, frame.box if frame else crop, lines, n_rotated, n_invisible, n_chars)


def _name(pdf: PdfInput) -> str:
    return f"<{len(pdf)} bytes of PDF>" if isinstance(pdf, bytes) else str(pdf)


def open_pdf(pdf: PdfInput):
    """Open a PDF (path or bytes) with pypdfium2.

    Raises:
        ValueError: naming the file, for corrupt, truncated or password-protected PDFs.
    """
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    except pdfium.PdfiumError as e:
        raise ValueError(f"cannot open {_name(pdf)}: {e}") from e


def read_pages(pdf_path: PdfInput, pages: Optional[Sequence[int]] = None) -> Iterator[PageLayout]:
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
    come back as U+FFFD. Pass the result to :func:`text_layer_quality` before trusting it.

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


def text_layer_quality(text: str, min_chars: int = MIN_CHARS,
                       max_unmapped: float = MAX_BAD_FRACTION) -> tuple[bool, str]:
    """Decide whether a page's text layer can be trusted.

    A scanned page has no text (or only a page number), a PDF whose fonts lack a ToUnicode map
    yields unmapped glyphs (U+FFFD), private-use code points or control characters, and some
    yield valid but meaningless characters (mostly punctuation).

    Args:
        text: the page text, e.g. from :func:`page_text`.
        min_chars: fewer non-space characters than this counts as empty.
        max_unmapped: largest tolerated share of unmapped (U+FFFD) and of private-use
            characters: :data:`MAX_BAD_FRACTION` for training labels, which must be exact;
            :data:`OCR_MAX_UNMAPPED_FRACTION` for reading a page (the glyphs are dropped).

    Returns:
        ``(True, "ok")`` or ``(False, reason)``.
    """
    visible = [c for c in text if not c.isspace()]
    if len(visible) < min_chars:
        return False, f"empty text layer ({len(visible)} characters)"
    n = len(visible)
    counts = {_UNMAPPED: 0, "control characters": 0,
              "private-use characters": 0}
    alnum = symbols = 0
    for c in visible:
        cat = unicodedata.category(c)
        if c == REPLACEMENT:
            counts[_UNMAPPED] += 1
        elif cat in ("Cc", "Cs") or c in ("\ufffe", "\uffff"):
            counts["control characters"] += 1
        elif cat == "Co":
            counts["private-use characters"] += 1
        elif c.isalnum():
            alnum += 1
        elif cat in ("So", "Cn"):
            symbols += 1
    limits = {_UNMAPPED: max_unmapped, "private-use characters": max_unmapped}
    for reason, count in counts.items():
        if count > limits.get(reason, MAX_BAD_FRACTION) * n:
            return False, f"{reason}: {count} of {n} characters"
    if symbols > MAX_SYMBOL_FRACTION * n:
        return False, f"garbled: {symbols} of {n} characters are symbols or unassigned"
    if alnum < MIN_ALNUM_FRACTION * n:
        return False, f"garbled: only {alnum} of {n} characters are letters or digits"
    return True, "ok"


# ---------------------------------------------------------------------- rendering and pairs
#: white margin around a line crop, in line heights (then clamped so no other line intrudes)
LINE_MARGIN_X = 0.5
LINE_MARGIN_Y = 0.2
#: lines lower than this many pixels at the render DPI are unreadable: no line sample
MIN_LINE_PX = 6
#: render this many pages per poppler call (bounds memory at 300 DPI)
RENDER_CHUNK = 8
#: seconds poppler may take for one chunk before the file is reported as failed
RENDER_TIMEOUT = 300


def render_pages(pdf: PdfInput, dpi: int, first: int, last: int) -> list:
    """Grayscale PIL images of pages ``first..last`` (0-based, inclusive), rendered by poppler.

    Poppler is what inference renders with, so training images come from the same rasteriser.
    The crop box is rendered, as pdfium's coordinates refer to it.
    """
    import pdf2image

    kw = dict(dpi=dpi, first_page=first + 1, last_page=last + 1, grayscale=True,
              use_cropbox=True, timeout=RENDER_TIMEOUT)
    if isinstance(pdf, bytes):
        return pdf2image.convert_from_bytes(pdf, **kw)
    return pdf2image.convert_from_path(str(pdf), **kw)


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def block_crops(layout: PageLayout, image) -> Iterator[tuple[object, str, tuple[int, int, int, int]]]:
    """Crops of paragraph blocks (:func:`group_blocks`) with their text, lines joined by newlines.

    A block is kept only when all its lines are clean (no unmapped glyphs) and its box, with a
    white margin, touches no line of another block (so a crop never shows text its label lacks).

    Yields:
        (grayscale crop, block text, (left, top, right, bottom) pixel box)
    """
    size = image.size
    blocks = group_blocks(layout.lines)
    boxes = [[layout.to_pixels(line.bbox, size) for line in block] for block in blocks]
    for i, (block, lboxes) in enumerate(zip(blocks, boxes)):
        text = "\n".join(line.text for line in block)
        if REPLACEMENT in text or not any(c.isalnum() for c in text):
            continue
        h = max(1.0, min(b[3] - b[1] for b in lboxes))
        box = (min(b[0] for b in lboxes) - LINE_MARGIN_X * h, min(b[1] for b in lboxes) - LINE_MARGIN_Y * h,
               max(b[2] for b in lboxes) + LINE_MARGIN_X * h, max(b[3] for b in lboxes) + LINE_MARGIN_Y * h)
        others = [b for j, bs in enumerate(boxes) if j != i for b in bs]
        if any(_overlaps(box, o) for o in others):
            continue
        px = (max(0, int(box[0])), max(0, int(box[1])), min(size[0], int(box[2] + 0.999)),
              min(size[1], int(box[3] + 0.999)))
        if px[2] - px[0] >= 2 and px[3] - px[1] >= 2:
            yield image.crop(px), text, px


#: pixels kept clear of another line's ink reach when clamping a crop (anti-aliasing)
CROP_GUARD_PX = 1.0


def _grow(box: tuple[float, float, float, float], d: float) -> tuple[float, float, float, float]:
    return (box[0] - d, box[1] - d, box[2] + d, box[3] + d)


def line_crops(layout: PageLayout, image) -> Iterator[tuple[object, TextLine, tuple[int, int, int, int]]]:
    """Loose crops of the page image around each clean text line.

    The crop is the line's character boxes at the render resolution plus a white margin, clamped
    so it stops a pixel short of where another line's ink can be (its loose and glyph boxes:
    accents rise above the font's ascent, and the rasteriser's hinting moves edges by a pixel),
    though never into this line's own glyphs; lines whose own box overlaps another line (stacked
    math, overprinted text) are skipped, because their crop could not match their text.

    Yields:
        (grayscale crop, line, (left, top, right, bottom) pixel box)
    """
    size = image.size
    boxes = [layout.to_pixels(line.bbox, size) for line in layout.lines]
    # where each line's ink can reach, one anti-aliased pixel wider: a neighbour's crop stops
    # short of it (glyphs can rise above the loose box, and rounding the crop outwards would
    # otherwise keep a row of the next line's ascenders)
    reach = [_grow(layout.to_pixels(line.reach, size), CROP_GUARD_PX) for line in layout.lines]
    inks = [layout.to_pixels(line.ink_bbox, size) for line in layout.lines]
    for i, (line, box, ink) in enumerate(zip(layout.lines, boxes, inks)):
        text = line.text
        h = box[3] - box[1]
        if h < MIN_LINE_PX or not any(c.isalnum() for c in text) or REPLACEMENT in text:
            continue
        if any(_overlaps(box, other) for j, other in enumerate(boxes) if j != i):
            continue
        x0, y0 = box[0] - LINE_MARGIN_X * h, box[1] - LINE_MARGIN_Y * h
        x1, y1 = box[2] + LINE_MARGIN_X * h, box[3] + LINE_MARGIN_Y * h
        for j, o in enumerate(reach):  # stop at a neighbour's reach, never inside our own ink
            if j == i or not _overlaps((x0, y0, x1, y1), o):
                continue
            other = boxes[j]
            if other[3] <= box[1]:  # above
                y0 = max(y0, min(o[3], ink[1]))
            elif other[1] >= box[3]:  # below
                y1 = min(y1, max(o[1], ink[3]))
            elif other[2] <= box[0]:  # left
                x0 = max(x0, min(o[2], ink[0]))
            else:  # right
                x1 = min(x1, max(o[0], ink[2]))
        px = (max(0, math.ceil(x0)), max(0, math.ceil(y0)), min(size[0], math.floor(x1)),
              min(size[1], math.floor(y1)))
        if px[2] - px[0] < 2 or px[3] - px[1] < 2:
            continue
        yield image.crop(px), line, px


def _line_words(line: TextLine) -> Optional[list[list[Char]]]:
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


def word_spans(line: TextLine, layout: PageLayout, image_size: tuple[int, int],
               crop: tuple[int, int, int, int]) -> Optional[list[list[int]]]:
    """Pixel columns ``[x0, x1)`` of each word of ``line.text.split()`` in the line's crop.

    Why: a long line does not fit one 512-px piece, so training cuts runs of whole words out of
    it; the text layer knows where every word is, while word gaps found in the pixels miss the
    tight spacing of code, math and justified text (and then the line cannot be used at all).

    A word spans the union of its glyphs' loose boxes (pen advance) and ink boxes (italic and
    kerned glyphs overhang their advance), rounded outwards. Spans may touch or overlap their
    neighbours: cutting is left to the sampler (:mod:`.real_lines`).

    Args:
        line: the text line whose crop this is.
        layout: its page (for the PDF -> pixel mapping).
        image_size: (width, height) of the rendered page in pixels.
        crop: (left, top, right, bottom) pixel box of the line crop on the page.

    Returns:
        ``[[x0, x1], ...]`` in crop pixels (x1 exclusive), one per word, or None when the words
        cannot be aligned (a character mixing spaces and letters, a word outside the crop).
    """
    words = _line_words(line)
    if not words:
        return None
    width = crop[2] - crop[0]
    spans: list[list[int]] = []
    for chars in words:
        left, _, right, _ = layout.to_pixels(union_box(
            [c.box for c in chars] + [c.ink for c in chars if c.ink is not None]), image_size)
        x0 = max(0, math.floor(left - crop[0]))  # page pixels -> crop pixels
        x1 = min(width, math.ceil(right - crop[0]))
        if x1 <= x0:
            return None
        spans.append([x0, x1])
    if any(b[0] < a[0] for a, b in zip(spans, spans[1:])):  # out of order: not a simple line
        return None
    return spans


def spread_pages(n_pages: int, max_pages: Optional[int], run: int = RENDER_CHUNK) -> list[int]:
    """Up to ``max_pages`` page indices spread evenly through a document, in runs of pages.

    Why: the first pages of a manual are title, licence and table of contents; a 600-page manual
    cut at 100 pages never shows its math or code chapters. Runs of consecutive pages (at most
    ``run`` long, and at least four runs) keep the poppler calls few (one per run).
    """
    if max_pages is None or n_pages <= max_pages:
        return list(range(n_pages))
    run = max(1, min(run, max_pages // 4))
    n_runs = math.ceil(max_pages / run)
    step = (n_pages - run) / max(1, n_runs - 1)  # >= run, since n_pages > max_pages
    pages: list[int] = []
    for k in range(n_runs):
        start = round(k * step)
        pages.extend(p for p in range(start, min(n_pages, start + run)) if not pages or p > pages[-1])
    return pages[:max_pages]


def _runs(pages: Sequence[int], limit: int) -> list[list[int]]:
    """Split sorted page indices into runs of consecutive pages of at most ``limit``."""
    runs: list[list[int]] = []
    for p in pages:
        if runs and p == runs[-1][-1] + 1 and len(runs[-1]) < limit:
            runs[-1].append(p)
        else:
            runs.append([p])
    return runs


@dataclass
class PageResult:
    """The samples cut from one page, or why the page was skipped."""

    index: int
    ok: bool
    reason: str  # "ok" or why the text layer is not trusted
    samples: list = field(default_factory=list)  # (kind, image, text, meta)


def page_quality(layout: PageLayout) -> tuple[bool, str]:
    """:func:`text_layer_quality` plus checks that need the layout (invisible OCR text)."""
    ok, reason = text_layer_quality(layout.text)
    if ok and layout.n_invisible > 0.5 * max(layout.n_chars, 1):
        return False, "invisible text (an OCR layer over a scan)"
    return ok, reason


def pdf_samples(pdf: PdfInput, dpi: int = 150, kinds: Sequence[str] = ("page", "line"),
                max_pages: Optional[int] = None, spread: bool = False) -> Iterator[PageResult]:
    """(page image, page text) and (line image, line text) pairs from a digital PDF.

    Pages whose text layer fails :func:`page_quality` are yielded with ``ok=False`` so callers
    can count them; they carry no page sample, and line samples only when the failure is
    unmapped glyphs (then the lines free of U+FFFD are still exact: e.g. prose around code set in
    a Type 3 font).

    Line samples carry ``meta["words"]``: each word's pixel columns in the crop
    (:func:`word_spans`), when the text layer gives them.

    Args:
        max_pages: read at most this many pages: the first ones, or with ``spread`` runs of
            pages spread through the document (:func:`spread_pages`).

    Raises:
        ValueError: the PDF cannot be opened.
    """
    doc = open_pdf(pdf)
    try:
        n_pages = len(doc)
        if spread:
            pages = spread_pages(n_pages, max_pages)
        else:
            pages = list(range(n_pages if max_pages is None else min(n_pages, max_pages)))
        for run in _runs(pages, RENDER_CHUNK):
            first, last = run[0], run[-1]
            layouts = [read_page(doc, i) for i in run]
            checked = [(layout, *page_quality(layout)) for layout in layouts]
            images = {}
            if any(ok or reason.startswith(_UNMAPPED) for _, ok, reason in checked):
                rendered = render_pages(pdf, dpi, first, last)
                images = dict(zip(range(first, last + 1), rendered))
            for layout, ok, reason in checked:
                # unmapped glyphs spoil the page text, but lines without any are still exact
                lines_only = not ok and reason.startswith(_UNMAPPED) and layout.index in images
                if (not ok and not lines_only) or layout.index not in images:
                    yield PageResult(layout.index, False, reason if not ok else "not rendered")
                    continue
                image = images[layout.index].convert("L")
                result = PageResult(layout.index, ok, reason)
                base = {"page": layout.index, "dpi": dpi}
                if "page" in kinds and ok:
                    result.samples.append(("page", image, layout.text, {**base, "kind": "page"}))
                if "block" in kinds:
                    for n, (crop, text, box) in enumerate(block_crops(layout, image)):
                        result.samples.append(("block", crop, text, {
                            **base, "kind": "block", "block": n, "box": list(box)}))
                if "line" in kinds:
                    for n, (crop, line, box) in enumerate(line_crops(layout, image)):
                        meta = {**base, "kind": "line", "line": n, "box": list(box),
                                "pt": round(line.height, 2)}
                        spans = word_spans(line, layout, image.size, box)
                        if spans is not None:
                            meta["words"] = spans
                        result.samples.append(("line", crop, line.text, meta))
                yield result
    finally:
        doc.close()


def find_pdfs(input_dir: PathLike) -> list[Path]:
    """Every ``*.pdf`` under ``input_dir`` (recursively, case-insensitive), sorted."""
    root = Path(input_dir)
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")


def from_pdfs(input_dir: PathLike, out_dir: PathLike, dpi: int = 150,
              max_pages: Optional[int] = None, kinds: Sequence[str] = ("page", "line"),
              shard_samples: int = 2000, log=print, spread: bool = False) -> dict:
    """Turn a directory of digital PDFs into (page image, text) and (line image, text) shards.

    Resumable: a PDF is recorded as completed in the manifest together with its last shard, so a
    re-run skips it; shards of a PDF that was interrupted half-way are dropped and the PDF is
    redone (each PDF's samples go to shards of their own, see :class:`.shards.ShardWriter`).
    Corrupt or encrypted files are reported and recorded as skipped, never fatal.
    ``max_pages`` and ``spread`` choose the pages read (:func:`pdf_samples`).

    Returns:
        Counts: ``pdfs`` done now, ``already_done``, ``failed`` {file: reason}, ``pages``,
        ``broken_pages`` {reason: count} (such pages give no page sample; see
        :func:`pdf_samples` for the line samples kept from pages with unmapped glyphs),
        ``samples`` per kind and ``lines_with_words`` (line samples that carry word spans).
    """
    from .shards import ShardWriter, safe_key

    root = Path(input_dir)
    pdfs = find_pdfs(root)
    summary: dict = {"pdfs": 0, "already_done": 0, "failed": {}, "pages": 0,
                     "broken_pages": {}, "samples": {k: 0 for k in kinds}, "lines_with_words": 0}
    with ShardWriter(out_dir, prefix="pdf", max_samples=shard_samples) as writer:
        for path in pdfs:
            source = path.relative_to(root).as_posix()
            if source in writer.manifest["completed"] or source in writer.manifest["skipped"]:
                summary["already_done"] += 1
                continue
            writer.discard_source(source)  # leftovers of an interrupted attempt
            stem = safe_key(path.stem)[:40]
            tag = hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]
            pages = broken = 0
            try:
                for result in pdf_samples(path, dpi=dpi, kinds=kinds, max_pages=max_pages,
                                          spread=spread):
                    pages += 1
                    if not result.ok:
                        broken += 1
                        reason = result.reason.split(":")[0].split(" (")[0]
                        summary["broken_pages"][reason] = summary["broken_pages"].get(reason, 0) + 1
                    for kind, image, text, meta in result.samples:
                        suffix = f"p{meta['page']:05d}" + (f"-l{meta['line']:03d}" if kind == "line" else "")
                        writer.write(f"{stem}-{tag}-{suffix}", image, text, {**meta, "source": source})
                        summary["samples"][kind] += 1
                        summary["lines_with_words"] += "words" in meta
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
                writer.abort()
                writer.discard_source(source)
                reason = f"{type(e).__name__}: {e}"
                summary["failed"][source] = reason
                writer.mark_skipped(source, reason)
                log(f"skipped {source}: {reason}")
                continue
            writer.mark_done(source, {"pages": pages, "broken_pages": broken})
            writer.flush()  # the PDF's last shard and its completion are committed together
            summary["pdfs"] += 1
            summary["pages"] += pages
            log(f"{source}: {pages} pages ({broken} with a broken text layer)")
    return summary
