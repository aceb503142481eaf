"""Training crops cut from a rendered page by its text layer: lines, blocks, word spans.

The text layer (:mod:`docencoder.pdf.textlayer`) says where every character is, so a line crop
can be made loose enough for the model's margins yet clamped so that no other line's ink enters
it (a crop that shows text its label lacks would teach the model to drop text), and a long line
can be cut between words the text layer knows, where gaps in the pixels would miss the tight
spacing of code and math.

Pixel boxes are ``(left, top, right, bottom)`` on the page image, origin top-left, right and
bottom exclusive; layout boxes are PDF points ``(left, bottom, right, top)`` in the displayed frame.
"""

from __future__ import annotations

import math
from typing import Iterator, Optional

from docencoder.pdf.textlayer import REPLACEMENT, TextLayerPage, TextLine, group_blocks, line_words, union_box

#: white margin around a line crop, in line heights (then clamped so no other line intrudes)
LINE_MARGIN_X = 0.5
LINE_MARGIN_Y = 0.2
#: lines lower than this many pixels at the render DPI are unreadable: no line sample
MIN_LINE_PX = 6


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def block_crops(layout: TextLayerPage, image) -> Iterator[tuple[object, str, tuple[int, int, int, int]]]:
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


def line_crops(layout: TextLayerPage, image) -> Iterator[tuple[object, TextLine, tuple[int, int, int, int]]]:
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


def word_spans(line: TextLine, layout: TextLayerPage, image_size: tuple[int, int],
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
    words = line_words(line)
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
