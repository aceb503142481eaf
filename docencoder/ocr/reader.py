"""Pixels -> text with a DocEncoder checkpoint: the line path and the DeepSeek-OCR page path.

Two kinds of model read pages differently:

* *line models* (``cfg.name`` starts with ``"line"``; 32 x 512 input) see one text line at a
  time. A page goes through :mod:`docencoder.ocr.layout` (lines and blocks in reading order), each
  line is cut by :func:`docencoder.data.lines.split_line` into pieces that fit — the same function
  that made the training lines, so inference sees text at the training scale — and the pieces of
  many lines *and pages* are decoded together, sorted by width so that one batch shares a similar
  token cap. Pieces of a line are joined with a space, lines with newlines, blocks with blank lines.
  A *dynamic-width* line model (``geometry.dynamic_width``) encodes each batch only up to its
  widest piece's last ink column (plus a margin, in whole vision tokens): pieces fill ~60 % of
  512 px on average and the vision encoder's cost is proportional to the width it sees.
* *page models* (tiny/small/base/large/gundam geometries) see the whole page, resized to fit the
  geometry and padded with white (aspect ratio kept); Gundam adds ``rows x cols`` local tiles of
  ``tile_size`` cut from the page resized to the tile grid closest to its aspect ratio.

Every generation has a token cap and the windowed no-repeat-n-gram guard, so a model that loops
(an undertrained one will) still finishes each batch in bounded time.

On CPU the model's ``nn.Linear`` layers are quantised to int8 at load time (``quantize="auto"``):
see :func:`quantize_int8`.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

import numpy as np
from PIL import Image

from docencoder.pdf.render import fit_page

from .layout import LayoutConfig, PageLayout, find_lines

if TYPE_CHECKING:
    from docencoder.model import DocEncoder

#: where the model shipped with the package lives
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
#: characters a full 512-px line piece can hold (measured on the synthetic training lines)
MAX_CHARS_PER_LINE = 80
#: white columns kept right of a batch's last ink column when a dynamic-width model crops it:
#: about the margin ``normalize_line`` leaves around the ink (0.15 x ink height, ~4 px at 32 px),
#: so ink is never nearer the right edge than in training and faint anti-aliased ink is kept
CROP_MARGIN_PX = 4
QUANTIZE_MODES = ("auto", "int8", "none")
#: line pieces per generate call when none is given, and pieces per encode call within it. On
#: CPU, decoding 64 rows at once beats 4 x 16 (8 dev pages, 653 pieces, 1 thread: 10.8 s vs
#: 11.7 s), while each encode chunk is cropped to its own widest ink, so small chunks encode
#: less white: reading 8 degraded dev pages took 0.72 s a page in chunks of 16, 0.63 in chunks
#: of 8 and 0.66 in chunks of 4 (smaller matrix products). A GPU wants large batches for both.
DEFAULT_BATCH_SIZE = 64
ENCODE_CHUNK = {"cpu": 8, "cuda": 64}
_HASH_CHUNK = 1 << 20


class ModelLoadError(Exception):
    """The model directory is missing or incomplete."""


@dataclass
class GenerationConfig:
    """Token caps and the repetition guard of inference.

    ``tokens_per_char`` is an upper bound, not the average (~0.4 with the shipped BPE): digits,
    symbols and byte-fallback characters take a token each, and the cap must not cut real text.
    """

    tokens_per_char: float = 1.0
    token_margin: int = 4  # added to every cap (eos, rounding)
    line_no_repeat_ngram: int = 10  # a 10-token n-gram twice in one line is a loop, not text
    page_no_repeat_ngram: int = 30  # DeepSeek-OCR's page setting
    repeat_window: int = 90
    page_max_new_tokens: int = 2048  # a dense page holds ~5000 characters, ~2000 tokens
    prompt: str = "ocr"


def model_id(model_dir: Path) -> str:
    """``<dir name>-<first 8 hex of the weights' sha256>``: names the exact weights in the output."""
    h = hashlib.sha256()
    with open(model_dir / "model.safetensors", "rb") as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            h.update(chunk)
    return f"{model_dir.name}-{h.hexdigest()[:8]}"


def resolve_device(device: str) -> str:
    """``cpu``/``cuda``/``cuda:N``/``auto`` -> a torch device string.

    Raises:
        ValueError: CUDA was asked for but is not available, or the name is unknown.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: CUDA is not available on this machine")
        return device
    if device != "cpu":
        raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto")
    return device


def resolve_quantize(quantize: str, device: str) -> str:
    """``auto``/``int8``/``none`` for a resolved device -> ``int8`` or ``none``.

    ``auto`` is int8 on CPU and none on CUDA: PyTorch's dynamically quantised Linear runs on CPU
    kernels only (fbgemm/oneDNN), and a GPU has fp16/bf16 for speed instead.

    Raises:
        ValueError: an unknown mode, or int8 asked for on CUDA.
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"unknown quantize mode {quantize!r}: use {', '.join(QUANTIZE_MODES)}")
    on_cpu = device == "cpu"
    if quantize == "int8" and not on_cpu:
        raise ValueError(f"--quantize int8 runs on CPU only (device {device!r}); use auto or none")
    if quantize == "auto":
        return "int8" if on_cpu else "none"
    return quantize


def quantize_int8(model: "DocEncoder") -> "DocEncoder":
    """Dynamic int8 quantisation of the model's ``nn.Linear`` layers except the LM head, in place.

    Weights are quantised once here, per output channel (rows of a trained layer differ in range);
    activations per batch at run time, so no calibration data is needed. Linear layers take over
    half of the CPU time (SAM's MLPs and attention projections, CLIP's, the decoder; CLIP's
    ``nn.MultiheadAttention`` blocks become :class:`~docencoder.model.clip.SelfAttention` first,
    whose projections are plain linear layers); convolutions, norms and the token embedding stay
    fp32. The LM head stays fp32: it is tied to the token embedding (quantising would give it a
    copy of its own) and picks every output token, for ~1 % of the FLOPs.
    """
    import torch
    from torch import nn
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from docencoder.model.clip import SelfAttention

    for block in model.clip.transformer.resblocks:
        if isinstance(block.attn, nn.MultiheadAttention):
            block.attn = SelfAttention.from_mha(block.attn)
    head = model.decoder.get_output_embeddings()
    # exactly nn.Linear: MultiheadAttention's out_proj (a Linear subclass) is read as a plain
    # weight by its fused path, which a quantised module does not have
    spec = {name: per_channel_dynamic_qconfig for name, m in model.named_modules()
            if type(m) is nn.Linear and m is not head}
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the API still works as documented
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)


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


def _left(piece: Image.Image, width: int) -> Image.Image:
    """The left ``width`` columns of a piece (the piece itself when it is that wide)."""
    return piece if piece.width == width else piece.crop((0, 0, width, piece.height))


def crop_width(ink_end: int, unit: int, full: int, margin: int = CROP_MARGIN_PX) -> int:
    """Pixel width that encodes ink ending at column ``ink_end``: ink + margin, rounded up to whole
    vision tokens (``unit`` px each), at least one token and at most ``full``."""
    return min(full, max(unit, math.ceil((ink_end + margin) / unit) * unit))


@dataclass
class PagePieces:
    """What the line path keeps of one page between layout and decoding: normalised pieces."""

    pieces: list[list[list[Image.Image]]]  # [block][line][piece]

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
        return sum(len(line) for block in self.pieces for line in block)


def check_model_dir(model_dir: Optional[str | Path]) -> Path:
    """The model directory to use, checked for its three files.

    Raises:
        ModelLoadError: naming the missing file (and how to pick another model).
    """
    d = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (d / name).is_file():
            hint = (" (no default model is installed in the package; pass --model DIR)"
                    if model_dir is None else "")
            raise ModelLoadError(f"model directory {d} has no {name}{hint}")
    return d


class Reader:
    """A loaded model + tokenizer that turns page or line images into text.

    Args:
        model_dir: a directory with ``model.safetensors``, ``config.json`` and ``tokenizer.json``
            (None = the model shipped in the package).
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: line pieces (line models) or pages (page models) per generate call; None =
            :data:`DEFAULT_BATCH_SIZE`.
        generation: caps and repetition guard.
        layout: thresholds of the layout step (line models).
        quantize: ``auto`` (int8 on CPU, none on CUDA), ``int8`` or ``none`` (see
            :func:`quantize_int8`); ``self.quantize`` holds the resolved mode.

    ``vision_tokens`` counts the vision tokens encoded so far (the cost of reading, as the
    benchmark's compression table reports it).
    """

    def __init__(self, model_dir: Optional[str | Path] = None, device: str = "cpu",
                 batch_size: Optional[int] = None, generation: Optional[GenerationConfig] = None,
                 layout: Optional[LayoutConfig] = None, quantize: str = "auto") -> None:
        from docencoder.data.tokenizer import load_tokenizer
        from docencoder.model import load_pretrained
        from docencoder.model.decoder import fuse_projections

        d = check_model_dir(model_dir)
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = resolve_device(device)
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.quantize = resolve_quantize(quantize, self.device)
        self.model_dir = d
        self.model_id = model_id(d)  # names the weights, whatever the run-time precision
        self.model = load_pretrained(d, map_location=self.device).eval()
        fuse_projections(self.model.decoder)  # before quantising: the fused layers quantise too
        if self.quantize == "int8":
            self.model = quantize_int8(self.model)
        self.vision_tokens = 0
        self.tokenizer = load_tokenizer(d / "tokenizer.json")
        if self.tokenizer.vocab_size > self.model.cfg.vocab_size:
            raise ModelLoadError(f"{d}: tokenizer has {self.tokenizer.vocab_size} tokens but the "
                                 f"model only {self.model.cfg.vocab_size}")
        self.gen = generation or GenerationConfig()
        self.layout_cfg = layout or LayoutConfig()
        self.prompt_ids = self.tokenizer.prompt_ids(self.gen.prompt)

    @property
    def cfg(self):
        return self.model.cfg

    @property
    def is_line_model(self) -> bool:
        return self.cfg.name.startswith("line")

    # ------------------------------------------------------------------ line path
    def layout(self, page: Image.Image) -> PageLayout:
        return find_lines(page, self.layout_cfg)

    def page_pieces(self, page: Image.Image) -> PagePieces:
        """Layout + split of one page into model-sized pieces (the CPU work before decoding)."""
        g = self.cfg.geometry
        return PagePieces.of(self.layout(page), g.height, g.width, self.layout_cfg.pad_px)

    def read_pieces(self, pieces: Sequence[Image.Image]) -> list[str]:
        """Decode normalised line pieces in batches of similar width; texts in input order.

        Pieces are sorted by ink width (widest first), so a batch shares a similar token cap and,
        for a dynamic-width model, each encode chunk of it is cropped to little more than its own
        text. Blank pieces are not decoded.
        """
        import torch

        ends = [piece_ink_end(p) for p in pieces]
        # a blank piece reads as "" (the model would invent a few characters for it)
        order = sorted((i for i in range(len(pieces)) if ends[i]), key=lambda i: -ends[i])
        out: list[str] = [""] * len(pieces)
        chunk = ENCODE_CHUNK[self.device.split(":")[0]]
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            filled = [ends[i] / pieces[i].width for i in idx]  # share of a full piece
            caps = [self._line_cap(f) for f in filled]
            with torch.inference_mode():
                vision, pad = self._encode_chunks(pieces, ends, idx, chunk)  # (B, P, E), (B,)
                ids = self.model.generate(None, self.prompt_ids, vision=vision, vision_pad=pad,
                                          max_new_tokens=max(caps),
                                          no_repeat_ngram=self.gen.line_no_repeat_ngram,
                                          repeat_window=self.gen.repeat_window)  # (B, T)
            for row, i, f, cap in zip(ids.tolist(), idx, filled, caps):
                chars = math.ceil(f * MAX_CHARS_PER_LINE) + self.gen.token_margin
                out[i] = " ".join(self.tokenizer.decode(row[:cap]).split())[:chars]
        return out

    def _encode_chunks(self, pieces: Sequence[Image.Image], ends: Sequence[int],
                       idx: Sequence[int], chunk: int):
        """The vision prefixes of pieces ``idx`` (widest ink first), encoded ``chunk`` at a time,
        each chunk at its own width, right-aligned in one `(B, P, E)` tensor; and `(B,)` the
        zero rows before each prefix (see :meth:`DocEncoder.generate`'s ``vision_pad``).

        Why per chunk: a decode batch holds a page's full lines and its short line ends alike;
        cropping every piece to the batch's widest ink encoded ~20 % more white (dev pages).
        """
        import torch

        from docencoder.data.lines import to_tensor

        parts = []
        for k in range(0, len(idx), chunk):
            part = idx[k:k + chunk]
            width = self._batch_width(max(ends[i] for i in part))
            pixels = to_tensor([_left(pieces[i], width) for i in part]).to(self.device)  # (c, 3, H, width)
            parts.append(self.model.encode_image(pixels))  # (c, P_k, E)
            self.vision_tokens += len(part) * self._view_tokens(width)
        P = max(p.shape[1] for p in parts)
        pad = torch.cat([torch.full((p.shape[0],), P - p.shape[1], dtype=torch.long)
                         for p in parts]).to(self.device)  # (B,)
        vision = torch.cat([torch.nn.functional.pad(p, (0, 0, P - p.shape[1], 0))
                            for p in parts])  # (B, P, E), zero rows first
        return vision, pad

    def _batch_width(self, ink_end: int) -> int:
        """Pixel width a batch whose widest ink ends at ``ink_end`` is encoded at.

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

    def _line_cap(self, filled: float) -> int:
        chars = math.ceil(max(filled, 0.05) * MAX_CHARS_PER_LINE)
        return math.ceil(chars * self.gen.tokens_per_char) + self.gen.token_margin

    def read_page_pieces(self, pages: Sequence[PagePieces]) -> list[str]:
        """Decode the pieces of several pages in shared batches; the text of each page."""
        flat = [piece for page in pages for piece in page.flat]
        texts = iter(self.read_pieces(flat))
        out = []
        for page in pages:
            blocks = []
            for block in page.pieces:
                lines = [" ".join(t for t in (next(texts) for _ in line) if t) for line in block]
                lines = [l for l in lines if l]
                if lines:
                    blocks.append("\n".join(lines))
            out.append("\n\n".join(blocks))
        return out

    # ------------------------------------------------------------------ page path
    def page_tensors(self, page: Image.Image):
        """Main view `(3, H, W)` and, for Gundam, tiles `(n, 3, t, t)` with their grid."""
        from docencoder.data.lines import to_tensor

        g = self.cfg.geometry
        view = fit_page(page, width=g.width, height=g.height)
        pixels = to_tensor([view])[0]  # (3, H, W)
        if not g.tile_size:
            return pixels, None, None
        rows, cols = tile_grid(page.size, g.min_tiles, g.max_tiles)
        t = g.tile_size
        big = page.convert("L").resize((cols * t, rows * t), Image.Resampling.BICUBIC)
        tiles = [big.crop((c * t, r * t, (c + 1) * t, (r + 1) * t))
                 for r in range(rows) for c in range(cols)]
        return pixels, to_tensor(tiles), (rows, cols)  # tiles: (n, 3, t, t), row-major

    def read_pages(self, pages: Sequence[Image.Image]) -> list[str]:
        """Text of whole page images: via layout + lines for line models, else the page path."""
        if self.is_line_model:
            return self.read_page_pieces([self.page_pieces(p) for p in pages])
        import torch

        prepared = [self.page_tensors(p) for p in pages]
        out: list[str] = [""] * len(pages)
        groups: dict[Optional[tuple[int, int]], list[int]] = {}
        for i, (_, _, grid) in enumerate(prepared):
            groups.setdefault(grid, []).append(i)  # one generate call needs one tile grid
        budget = self.cfg.decoder.max_position_embeddings - len(self.prompt_ids)
        for grid, members in groups.items():
            cap = min(self.gen.page_max_new_tokens,
                      budget - self.cfg.prefix_length(grid or (0, 0)))
            if cap < 1:
                raise ValueError(f"model {self.cfg.name!r}: the vision prefix leaves no room to "
                                 f"generate within {self.cfg.decoder.max_position_embeddings} positions")
            for start in range(0, len(members), self.batch_size):
                idx = members[start:start + self.batch_size]
                pixels = torch.stack([prepared[i][0] for i in idx]).to(self.device)  # (B, 3, H, W)
                tiles = None
                if grid is not None:
                    tiles = torch.stack([prepared[i][1] for i in idx]).to(self.device)  # (B, n, 3, t, t)
                self.vision_tokens += len(idx) * self.cfg.vision_tokens(
                    grid[0] * grid[1] if grid else 0)
                with torch.inference_mode():
                    ids = self.model.generate(pixels, self.prompt_ids, tiles=tiles, tile_grid=grid,
                                              max_new_tokens=cap,
                                              no_repeat_ngram=self.gen.page_no_repeat_ngram,
                                              repeat_window=self.gen.repeat_window)  # (B, T)
                for row, i in zip(ids.tolist(), idx):
                    out[i] = self.tokenizer.decode(row).strip()
        return out

    def read_image(self, image: Image.Image) -> str:
        """Text of one page (or line) image."""
        return self.read_pages([image])[0]


def tile_grid(size: tuple[int, int], min_tiles: int, max_tiles: int) -> tuple[int, int]:
    """``(rows, cols)`` with ``min_tiles <= rows * cols <= max_tiles`` closest to the page's aspect.

    Ties go to more tiles (more detail), as in DeepSeek-OCR's dynamic resolution.
    """
    w, h = size
    aspect = w / h
    best, best_key = (1, min_tiles), None
    for n in range(min_tiles, max_tiles + 1):
        for rows in range(1, n + 1):
            if n % rows:
                continue
            cols = n // rows
            key = (abs(math.log(aspect / (cols / rows))), -n)
            if best_key is None or key < best_key:
                best, best_key = (rows, cols), key
    return best
