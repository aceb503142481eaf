"""Document structure shared by both sources of a page's text (issue 17).

Layer: imports nothing of docencoder (like :mod:`docencoder.ocr.results`); :mod:`docencoder.ocr`
turns text-layer lines and OCR'd layout lines into :class:`Line` s and calls it.

* :mod:`.roles`: the block roles, :class:`Line` (input), :class:`Block` (output, a JSONL
  ``blocks`` entry) and the box convention (page fractions, top-left origin);
* :mod:`.blocks`: :func:`page_blocks` (one page's lines into role-tagged blocks) and
  :func:`mark_running` (running headers / footers across pages);
* :mod:`.lexicon`: :class:`Lexicon`, when a line-end hyphen is undone;
* :mod:`.markdown`: :func:`render_page` / :func:`render_document`.
"""

from .blocks import StructureConfig, mark_running, page_blocks, text_lines
from .lexicon import DocumentWords, Lexicon, default_lexicon
from .markdown import join_lines, render_block, render_document, render_page
from .roles import FURNITURE, ROLES, Block, Box, Line

__all__ = ["Block", "Box", "DocumentWords", "FURNITURE", "Lexicon", "Line", "ROLES",
           "StructureConfig", "default_lexicon", "join_lines", "mark_running", "page_blocks",
           "render_block", "render_document", "render_page", "text_lines"]
