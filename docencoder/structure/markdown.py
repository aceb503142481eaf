"""Role-tagged blocks as markdown that LLM pipelines can use (issue 17).

* a paragraph on one line: its lines joined with spaces, line-end hyphenation undone where the
  joined word is a word (:class:`~.lexicon.Lexicon`), other hyphens kept (``state-of-the-art``);
* a paragraph that goes on in the next column or page is joined there (:func:`continues`):
  it ends in a hyphen, or not in a sentence and the next paragraph starts in lowercase, or not
  in a sentence with a full last line (:attr:`~.roles.Block.open_end`) across a column or page
  break. Footnotes, captions and page markers met on the way wait until the paragraph ends;
* the title as ``#``, headings ``##``-``####`` by level; ``-`` and ``1.`` list items; code in
  fenced blocks with its indentation; display math as ``$$ ... $$``; tables as pipe tables
  (rows of equal cell counts) or fenced rows; captions and footnotes as their own paragraphs;
* page headers, footers and page numbers left out.

:func:`render_document` writes a whole document with ``<!-- page N -->`` markers (a marker that
falls inside a joined paragraph follows it); :func:`render_page` writes one page alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence, Union

from .blocks import BULLET_RE, NUMBERED_RE, ends_sentence
from .lexicon import DocumentWords, Lexicon, default_lexicon
from .roles import (
    CAPTION,
    CELL_SEPARATOR,
    CODE,
    FIGURE,
    FOOTNOTE,
    FURNITURE,
    HEADING,
    LIST_ITEM,
    MATH,
    PARAGRAPH,
    TABLE,
    TITLE,
    Block,
)

#: roles that wait, while a paragraph may still go on, until it ends
_DEFERRED = frozenset({FOOTNOTE, CAPTION, FIGURE})
#: the last word of a line that ends in a hyphen, and the first word of the next line
_LEFT_WORD = re.compile(r"([^\W\d_]+(?:-[^\W\d_]+)*)-$")
_RIGHT_WORD = re.compile(r"^[^\W\d_]+")
#: how far (page fraction) the next block may start above the previous one's end and still be
#: in the same column
_SAME_COLUMN = 0.01


def join_lines(lines: Iterable[str], lexicon: Lexicon, seen: Optional[DocumentWords] = None) -> str:
    """Lines of running text as one line: spaces between them, hyphens at line ends undone
    where :meth:`Lexicon.join` says the word was hyphenated, kept (without a space) elsewhere."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not out:
            out = line
            continue
        m = _LEFT_WORD.search(out)
        if m:
            right = _RIGHT_WORD.match(line)
            if right and lexicon.join(m.group(1), right.group(0), seen):
                out = out[:-1] + line
            else:
                out += line
        else:
            out += " " + line
    return out


def _escape_cell(text: str) -> str:
    return text.replace("|", "\\|").strip()


def _table(block: Block) -> str:
    rows = [r.split(CELL_SEPARATOR) for r in block.lines]
    n = len(rows[0])
    if n < 2 or any(len(r) != n for r in rows):
        return "```\n" + block.text + "\n```"
    lines = ["| " + " | ".join(_escape_cell(c) for c in rows[0]) + " |",
             "|" + "---|" * n]
    lines += ["| " + " | ".join(_escape_cell(c) for c in r) + " |" for r in rows[1:]]
    return "\n".join(lines)


def _list_item(text: str) -> str:
    m = BULLET_RE.match(text)
    if m:
        return "- " + text[m.end():]
    m = NUMBERED_RE.match(text)
    if m and m.group(1)[:-1].isdigit():
        return f"{m.group(1)[:-1]}. " + text[m.end():]
    return "- " + text


def render_block(block: Block, lexicon: Lexicon, seen: Optional[DocumentWords] = None) -> str:
    """One block as markdown ("" for page furniture and figures)."""
    if block.role in FURNITURE or block.role == FIGURE:
        return ""
    if block.role == CODE:
        return "```\n" + block.text + "\n```"
    if block.role == TABLE:
        return _table(block)
    text = join_lines(block.lines, lexicon, seen)
    if block.role == TITLE:
        return "# " + text
    if block.role == HEADING:
        return "#" * max(1, block.level) + " " + text
    if block.role == MATH:
        return f"$$ {text} $$"
    if block.role == LIST_ITEM:
        return _list_item(text)
    return text


def _crossed(prev: Block, nxt: Block) -> bool:
    """Whether ``nxt`` starts in another column than ``prev`` ends (above its end)."""
    if prev.box is None or nxt.box is None:
        return True
    return nxt.box[1] < prev.box[3] - _SAME_COLUMN


def continues(prev: Block, nxt: Block, page_break: bool) -> bool:
    """Whether paragraph ``nxt`` goes on with paragraph ``prev`` (see the module docstring)."""
    if prev.role != PARAGRAPH or nxt.role != PARAGRAPH:
        return False
    end = prev.text.rstrip()
    if _LEFT_WORD.search(end):
        return True
    if ends_sentence(end):
        return False
    first = nxt.text.lstrip()[:1]
    if first.islower():
        return True
    return prev.open_end and (page_break or _crossed(prev, nxt)) and not first.isdigit()


@dataclass
class _Marker:
    page: int


@dataclass
class _Writer:
    """Markdown parts in order, with the paragraph that may still go on."""

    lexicon: Lexicon
    seen: DocumentWords
    parts: list[tuple[str, str]] = field(default_factory=list)  # (role or "marker", markdown)
    pending: list[Block] = field(default_factory=list)  # blocks of the open paragraph
    waiting: list[Union[Block, _Marker]] = field(default_factory=list)
    page_break: bool = False  # a marker passed since the pending paragraph's last block

    def _emit(self, item: Union[Block, _Marker]) -> None:
        if isinstance(item, _Marker):
            self.parts.append(("marker", f"<!-- page {item.page} -->"))
            return
        md = render_block(item, self.lexicon, self.seen)
        if md:
            self.parts.append((item.role, md))

    def flush(self) -> None:
        if self.pending:
            lines = [line for b in self.pending for line in b.lines]
            self.parts.append((PARAGRAPH, join_lines(lines, self.lexicon, self.seen)))
            self.pending = []
        for item in self.waiting:
            self._emit(item)
        self.waiting = []
        self.page_break = False

    def _open(self) -> bool:
        if not self.pending:
            return False
        end = self.pending[-1].text.rstrip()
        return bool(_LEFT_WORD.search(end)) or not ends_sentence(end)

    def add(self, item: Union[Block, _Marker]) -> None:
        if isinstance(item, _Marker):
            if self._open():
                self.waiting.append(item)
                self.page_break = True
            else:
                self.flush()
                self._emit(item)
            return
        if item.role in FURNITURE:
            return
        if item.role in _DEFERRED and self._open():
            self.waiting.append(item)
            return
        if item.role == PARAGRAPH:
            if self.pending and continues(self.pending[-1], item, self.page_break):
                self.pending.append(item)
                self.page_break = False
                return
            self.flush()
            self.pending = [item]
            return
        self.flush()
        self._emit(item)

    def text(self) -> str:
        self.flush()
        out = []
        for k, (role, md) in enumerate(self.parts):
            if k:
                tight = role == LIST_ITEM and self.parts[k - 1][0] == LIST_ITEM
                out.append("\n" if tight else "\n\n")
            out.append(md)
        return "".join(out) + ("\n" if out else "")


def document_words(pages: Iterable[Sequence[Block]]) -> DocumentWords:
    """The words the running text of some pages uses mid-line (for :meth:`Lexicon.join`)."""
    seen = DocumentWords()
    for blocks in pages:
        for b in blocks:
            if b.role not in FURNITURE and b.role not in (CODE, TABLE):
                for line in b.lines:
                    seen.add(line)
    return seen


def render_page(blocks: Sequence[Block], lexicon: Optional[Lexicon] = None,
                seen: Optional[DocumentWords] = None) -> str:
    """One page's markdown, no page marker (a record's ``markdown``)."""
    lexicon = lexicon or default_lexicon()
    w = _Writer(lexicon, seen or document_words([blocks]))
    for b in blocks:
        w.add(b)
    return w.text()


def render_document(pages: Sequence[tuple[int, Sequence[Block]]],
                    lexicon: Optional[Lexicon] = None) -> str:
    """A document's markdown: each page's blocks after a ``<!-- page N -->`` marker,
    paragraphs joined across column and page breaks."""
    lexicon = lexicon or default_lexicon()
    w = _Writer(lexicon, document_words([b for _, b in pages]))
    for page, blocks in pages:
        w.add(_Marker(page))
        for b in blocks:
            w.add(b)
    return w.text()
