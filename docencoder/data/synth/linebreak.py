"""Words, their widths, and greedy line breaking with naive hyphenation.

Line breaking is done here rather than by reportlab's platypus so that it is known exactly which
words went onto which line (the ground truth of every line sample). Widths come from reportlab's
own metrics (:func:`text_width`), the ones the PDF is drawn with, so a line never overruns its
measure. The breaking is greedy (first fit, not Knuth-Plass): whitepaper-like, and cheap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .faces import Face, fit_text

#: superscripts (footnote marks) are set at this fraction of the word's size
SUP_SCALE = 0.65
#: a word is hyphenated only when its alphabetic core has at least this many letters
MIN_HYPHENATED_LETTERS = 7
_VOWELS = frozenset("aeiouyAEIOUY")


@dataclass
class Word:
    """One word as it will be drawn: its text, face and size, and an optional footnote."""

    text: str
    face: Face
    size: float  # points
    sup: str = ""  # a footnote mark drawn raised right after the word
    note: Optional[list[list[Word]]] = None  # the footnote's lines when ``sup`` is set


def text_width(text: str, face: Face, size: float) -> float:
    """Advance width of ``text`` in ``face`` at ``size`` points (reportlab's metrics)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    return stringWidth(text, face.name, size)


def word_width(w: Word) -> float:
    """Width of a word and of its footnote mark."""
    width = text_width(w.text, w.face, w.size)
    return width + (text_width(w.sup, w.face, w.size * SUP_SCALE) if w.sup else 0.0)


def as_words(text: str, face: Face, size: float) -> list[Word]:
    """The words of ``text`` that ``face`` can draw (:func:`.faces.fit_text`), set at ``size``."""
    return [Word(t, face, size) for t in fit_text(text, face).split()]


def break_lines(words: list[Word], width: float, first_indent: float = 0.0,
                hyphenate: bool = False) -> list[list[Word]]:
    """Greedy line breaking into lines of at most ``width`` points.

    Args:
        words: the paragraph's words in order.
        width: the measure, points.
        first_indent: room taken at the start of the first line.
        hyphenate: split a word that does not fit (:func:`hyphenate_word`) instead of moving it.

    Returns:
        The lines; their words' texts, concatenated, are the input's (plus hyphens). A word
        wider than a whole line is cut at the last character that fits (:func:`split_long`).
    """
    lines: list[list[Word]] = []
    cur: list[Word] = []
    cur_w = first_indent
    queue = list(words)
    while queue:
        w = queue.pop(0)
        ww = word_width(w)
        sp = text_width(" ", w.face, w.size) if cur else 0.0
        if cur_w + sp + ww <= width or not cur:
            if not cur and cur_w + ww > width and len(w.text) > 1:  # a single over-long word
                head, tail = split_long(w, width - cur_w)
                cur.append(head)
                queue.insert(0, tail)
                lines.append(cur)
                cur, cur_w = [], 0.0
                continue
            cur.append(w)
            cur_w += sp + ww
            continue
        parts = hyphenate_word(w, width - cur_w - sp) if hyphenate else None
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


def hyphenate_word(w: Word, room: float) -> Optional[tuple[Word, Word]]:
    """Split a long alphabetic word at a vowel-consonant boundary so the head + '-' fits ``room``.

    Naive (no pattern dictionary): it is there to put hyphenated line ends into justified text,
    as real papers have them, not to break where a dictionary would. The cut is the rightmost
    one that fits, leaving at least three letters on each side; ``None`` when there is none or
    the face has no hyphen.
    """
    m = re.fullmatch(r"([A-Za-z]+)([.,;:]?)", w.text)
    if not m or len(m.group(1)) < MIN_HYPHENATED_LETTERS or ord("-") not in w.face.cmap:
        return None
    core = m.group(1)
    for cut in range(len(core) - 3, 2, -1):
        if core[cut - 1] in _VOWELS and core[cut] not in _VOWELS:
            head = core[:cut] + "-"
            if text_width(head, w.face, w.size) <= room:
                return (Word(head, w.face, w.size),
                        Word(w.text[cut:], w.face, w.size, w.sup, w.note))
    return None


def split_long(w: Word, room: float) -> tuple[Word, Word]:
    """Break a word wider than the column (URLs, identifiers) at the last character that fits."""
    for cut in range(len(w.text) - 1, 0, -1):
        if text_width(w.text[:cut], w.face, w.size) <= room:
            return (Word(w.text[:cut], w.face, w.size),
                    Word(w.text[cut:], w.face, w.size, w.sup, w.note))
    return Word(w.text[:1], w.face, w.size), Word(w.text[1:], w.face, w.size, w.sup, w.note)
