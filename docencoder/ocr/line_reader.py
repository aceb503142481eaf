"""The line path: a page laid out into lines, lines cut into pieces, pieces decoded in batches.

A *line model* (``geometry.kind == "line"``; 32 x 512 input) sees one text line at a time. A page
goes through :mod:`docencoder.ocr.layout` (lines and blocks in reading order), each line is cut by
:func:`docencoder.data.lines.split_line` into pieces that fit -- the same function that made the
training lines, so inference sees text at the training scale -- and the pieces of many lines *and
pages* are decoded together, sorted by width so that one batch shares a similar token cap. Pieces
of a line are joined with a space, lines with newlines, blocks with blank lines.

A *dynamic-width* line model (``geometry.dynamic_width``) encodes each chunk of a batch only up to
its widest piece's last ink column (plus a margin, in whole vision tokens): pieces fill ~60 % of
512 px on average and the vision encoder's cost is proportional to the width it sees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
from PIL import Image

from .base_reader import BaseReader, DecodingConfig
from .device import device_type
from .layout import LayoutConfig, PageLayout, find_lines

if TYPE_CHECKING:
    import torch

    from docencoder.data.tokenizer import DocTokenizer
    from docencoder.model import DocEncoder
    from docencoder.model.joint_decode import JointConfig

    from .structured import PageGeometry

#: characters a full 512-px line piece can hold (measured on the synthetic training lines)
MAX_CHARS_PER_LINE = 80
#: white columns kept right of a batch's last ink column when a dynamic-width model crops it:
#: about the margin ``normalize_line`` leaves around the ink (0.15 x ink height, ~4 px at 32 px),
#: so ink is never nearer the right edge than in training and faint anti-aliased ink is kept
CROP_MARGIN_PX = 4
#: line pieces per encode call within one generate call, by device type. Each encode chunk is
#: cropped to its own widest ink, so on CPU small chunks encode less white: reading 8 degraded
#: dev pages took 0.72 s a page in chunks of 16, 0.63 in chunks of 8 and 0.66 in chunks of 4
#: (smaller matrix products). A GPU wants large chunks.
ENCODE_CHUNK = {"cpu": 8, "cuda": 64}


def piece_ink_end(piece: Image.Image) -> int:
    """Columns of a normalised piece up to and including its last ink column (0 = blank).

    The one measure of how much of a piece is text: it sets the piece's token cap and, for a
    dynamic-width model, how wide its batch is encoded. Ink is what ``normalize_line`` took for
    ink (darker than halfway from the darkest pixel to the paper), not a fixed grey level: on
    faint scans (grey ink on grey paper) a fixed "darker than 128" skipped whole lines as blank
    and cropped others short -- 11 % of the pieces of the degraded dev pages.
    """
    from docencoder.data.lines import ink_mask

    a = np.asarray(piece, dtype=np.uint8)
    cols = np.nonzero(ink_mask(a).any(axis=0))[0]
    return int(cols[-1]) + 1 if cols.size else 0


def left_columns(piece: Image.Image, width: int) -> Image.Image:
    """The left ``width`` columns of a piece (the piece itself when it is that wide)."""
    return piece if piece.width == width else piece.crop((0, 0, width, piece.height))


def crop_width(ink_end: int, unit: int, full: int, margin: int = CROP_MARGIN_PX) -> int:
    """Pixel width that encodes ink ending at column ``ink_end``: ink + margin, rounded up to whole
    vision tokens (``unit`` px each), at least one token and at most ``full``."""
    return min(full, max(unit, math.ceil((ink_end + margin) / unit) * unit))


@dataclass
class PagePieces:
    """What the line path keeps of one page between layout and decoding: normalised pieces and
    the layout's line geometry (:mod:`.structured`: the structure step places the decoded lines
    where the layout found them, without keeping the page image; None = not kept)."""

    pieces: list[list[list[Image.Image]]]  # [block][line][piece]
    geometry: Optional["PageGeometry"] = None

    @classmethod
    def of(cls, layout: PageLayout, height: int, width: int, pad: int) -> "PagePieces":
        """The layout's lines (a table row's cells one after another) split into pieces that fit
        ``height x width``: what the reader decodes and the benchmark counts."""
        from docencoder.data.lines import split_line

        return cls([[[p for cell in cells for p in split_line(cell, height, width)] for cells in block]
                    for block in layout.cell_crops(pad)])

    @property
    def flat(self) -> list[Image.Image]:
        return [piece for block in self.pieces for line in block for piece in line]

    @property
    def count(self) -> int:
        """Pieces to decode: the page's share of a decode batch."""
        return sum(len(line) for block in self.pieces for line in block)


def all_pieces(pages: Sequence[PagePieces]) -> list[Image.Image]:
    """The pieces of several pages, page after page (each in :attr:`PagePieces.flat` order)."""
    return [piece for page in pages for piece in page.flat]


def page_texts(pages: Sequence[PagePieces], texts: Sequence[str]) -> list[str]:
    """The text of each page from the texts of :func:`all_pieces` ``(pages)``, in that order.

    Pieces of a line are joined with a space, lines with newlines, blocks with blank lines;
    empty pieces, lines and blocks leave no trace.
    """
    it = iter(texts)
    out = []
    for page in pages:
        blocks = []
        for block in page.pieces:
            lines = [" ".join(t for t in (next(it) for _ in line) if t) for line in block]
            lines = [text for text in lines if text]
            if lines:
                blocks.append("\n".join(lines))
        out.append("\n\n".join(blocks))
    return out


class LineReader(BaseReader[PagePieces]):
    """Reads pages with a line model (``geometry.kind == "line"``); see the module docstring.

    Args:
        layout: thresholds of the layout step; None = the defaults.
        (the others as :class:`~.base_reader.BaseReader`)
    """

    kind = "line"

    def __init__(self, model: "DocEncoder", tokenizer: "DocTokenizer", device: str = "cpu",
                 batch_size: Optional[int] = None, decoding: Optional[DecodingConfig] = None,
                 layout: Optional[LayoutConfig] = None) -> None:
        super().__init__(model, tokenizer, device, batch_size, decoding)
        self.layout_cfg = layout or LayoutConfig()

    def layout(self, page: Image.Image) -> PageLayout:
        return find_lines(page, self.layout_cfg)

    def page_pieces(self, page: Image.Image) -> PagePieces:
        """Layout + split of one page into model-sized pieces (the CPU work before decoding)."""
        from .structured import layout_geometry

        g = self.cfg.geometry
        layout = self.layout(page)
        pieces = PagePieces.of(layout, g.height, g.width, self.layout_cfg.pad_px)
        pieces.geometry = layout_geometry(layout)
        return pieces

    def prepare(self, page: Image.Image) -> PagePieces:
        return self.page_pieces(page)

    def read_pieces(self, pieces: Sequence[Image.Image]) -> list[str]:
        """Decode normalised line pieces in batches of similar width; texts in input order.

        Pieces are sorted by ink width (widest first), so a batch shares a similar token cap and,
        for a dynamic-width model, each encode chunk of it is cropped to little more than its own
        text. Blank pieces are not decoded.
        """
        import torch

        joint = self.joint_config()
        ends = [piece_ink_end(p) for p in pieces]
        # a blank piece reads as "" (the model would invent a few characters for it)
        order = sorted((i for i in range(len(pieces)) if ends[i]), key=lambda i: -ends[i])
        out: list[str] = [""] * len(pieces)
        chunk = ENCODE_CHUNK[device_type(self.device)]
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            filled = [ends[i] / pieces[i].width for i in idx]  # share of a full piece
            caps = [self.line_cap(f) for f in filled]
            with torch.inference_mode():
                vision, pad, ctc = self._encode_chunks(pieces, ends, idx, chunk, joint is not None)
                if joint is not None:  # vision (B, P, E), pad (B,), ctc: per piece (T_b, V)
                    rows = self.model.read_joint(vision, ctc, self.prompt_ids, caps,
                                                 self.banned_ids, joint, vision_pad=pad)
                else:
                    rows = self.model.generate(None, self.prompt_ids, vision=vision, vision_pad=pad,
                                               max_new_tokens=max(caps),
                                               no_repeat_ngram=self.gen.line_no_repeat_ngram,
                                               repeat_window=self.gen.repeat_window).tolist()  # (B, T)
            for row, i, f, cap in zip(rows, idx, filled, caps):
                chars = math.ceil(f * MAX_CHARS_PER_LINE) + self.gen.token_margin
                out[i] = " ".join(self.tokenizer.decode(row[:cap]).split())[:chars]
        return out

    def joint_config(self) -> Optional["JointConfig"]:
        """The joint CTC/attention search settings, or None for greedy decoding (the model has
        no CTC head, or ``DecodingConfig.ctc_weight`` is 0)."""
        if self.model.ctc_head is None or self.gen.ctc_weight <= 0:
            return None
        from docencoder.model.joint_decode import JointConfig

        return JointConfig(ctc_weight=self.gen.ctc_weight, beam=self.gen.beam)

    @property
    def banned_ids(self) -> list[int]:
        """Ids a reading never holds: the tokenizer's special tokens other than eos."""
        from docencoder.data.tokenizer import SPECIAL_TOKENS

        eos = self.cfg.tokens.eos_id
        return [i for i in range(len(SPECIAL_TOKENS)) if i != eos]

    def _encode_chunks(self, pieces: Sequence[Image.Image], ends: Sequence[int],
                       idx: Sequence[int], chunk: int, with_ctc: bool = False
                       ) -> tuple["torch.Tensor", "torch.Tensor", list["torch.Tensor"]]:
        """The vision prefixes of pieces ``idx`` (widest ink first), encoded ``chunk`` at a time,
        each chunk at its own width, right-aligned in one `(B, P, E)` tensor; `(B,)` the
        zero rows before each prefix (see :meth:`DocEncoder.generate`'s ``vision_pad``); and,
        ``with_ctc``, each piece's `(T, V)` CTC columns (else an empty list).

        Why per chunk: a decode batch holds a page's full lines and its short line ends alike;
        cropping every piece to the batch's widest ink encoded ~20 % more white (dev pages).
        """
        import torch

        from docencoder.data.lines import to_tensor

        parts, ctc = [], []
        for k in range(0, len(idx), chunk):
            part = idx[k:k + chunk]
            width = self.batch_width(max(ends[i] for i in part))
            crops = [left_columns(pieces[i], width) for i in part]
            pixels = to_tensor(crops).to(self.device)  # (c, 3, H, width)
            if with_ctc:
                vision, logp = self.model.encode_lines(pixels)  # (c, P_k, E), (T_k, c, V)
                parts.append(vision)
                ctc.extend(logp.transpose(0, 1).unbind(0))  # c x (T_k, V)
            else:
                parts.append(self.model.encode_image(pixels))  # (c, P_k, E)
            self.vision_tokens += len(part) * self._view_tokens(width)
        P = max(p.shape[1] for p in parts)
        pad = torch.cat([torch.full((p.shape[0],), P - p.shape[1], dtype=torch.long)
                         for p in parts]).to(self.device)  # (B,)
        vision = torch.cat([torch.nn.functional.pad(p, (0, 0, P - p.shape[1], 0))
                            for p in parts])  # (B, P, E), zero rows first
        return vision, pad, ctc

    def batch_width(self, ink_end: int) -> int:
        """Pixel width a chunk whose widest ink ends at ``ink_end`` is encoded at.

        Fixed-width models always see the full geometry; dynamic-width ones only what holds ink
        (the white right-padding would cost as much to encode as text).
        """
        g = self.cfg.geometry
        if not g.dynamic_width:
            return g.width
        return crop_width(ink_end, self.cfg.width_unit, g.width)

    def _view_tokens(self, width: int) -> int:
        rows, cols = self.cfg.token_grid(self.cfg.geometry.height, width)
        return rows * cols

    def line_cap(self, filled: float) -> int:
        """New tokens a piece whose ink fills ``filled`` of its width may generate."""
        chars = math.ceil(max(filled, 0.05) * MAX_CHARS_PER_LINE)
        return math.ceil(chars * self.gen.tokens_per_char) + self.gen.token_margin

    def read_page_pieces(self, pages: Sequence[PagePieces]) -> list[str]:
        """Decode the pieces of several pages in shared batches; the text of each page."""
        return page_texts(pages, self.read_pieces(all_pieces(pages)))

    def read_prepared(self, pages: Sequence[PagePieces]) -> list[str]:
        return self.read_page_pieces(pages)
