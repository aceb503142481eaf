"""Pixels -> text with a DocEncoder checkpoint: the line path and the DeepSeek-OCR page path.

Two kinds of model read pages differently:

* *line models* (``cfg.name`` starts with ``"line"``; 32 x 512 input) see one text line at a
  time. A page goes through :mod:`docencoder.ocr.layout` (lines and blocks in reading order), each
  line is cut by :func:`docencoder.data.lines.split_line` into pieces that fit — the same function
  that made the training lines, so inference sees text at the training scale — and the pieces of
  many lines *and pages* are decoded together, sorted by width so that one batch shares a similar
  token cap. Pieces of a line are joined with a space, lines with newlines, blocks with blank lines.
* *page models* (tiny/small/base/large/gundam geometries) see the whole page, resized to fit the
  geometry and padded with white (aspect ratio kept); Gundam adds ``rows x cols`` local tiles of
  ``tile_size`` cut from the page resized to the tile grid closest to its aspect ratio.

Every generation has a token cap and the windowed no-repeat-n-gram guard, so a model that loops
(an undertrained one will) still finishes each batch in bounded time.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .layout import LayoutConfig, PageLayout, find_lines

#: where the model shipped with the package lives
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
#: characters a full 512-px line piece can hold (measured on the synthetic training lines)
MAX_CHARS_PER_LINE = 80
#: grey level below which a column of a normalised piece counts as ink (for its filled width)
_INK_LEVEL = 128
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


def _filled_width(piece: Image.Image) -> float:
    """Share of a normalised piece's width up to its last ink column (1.0 = a full piece)."""
    a = np.asarray(piece, dtype=np.uint8)
    cols = np.nonzero((a < _INK_LEVEL).any(axis=0))[0]
    return float(cols[-1] + 1) / a.shape[1] if cols.size else 0.0


@dataclass
class PagePieces:
    """What the line path keeps of one page between layout and decoding: normalised pieces."""

    pieces: list[list[list[Image.Image]]]  # [block][line][piece]

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
        batch_size: line pieces (line models) or pages (page models) per generate call.
        generation: caps and repetition guard.
        layout: thresholds of the layout step (line models).
    """

    def __init__(self, model_dir: Optional[str | Path] = None, device: str = "cpu",
                 batch_size: int = 64, generation: Optional[GenerationConfig] = None,
                 layout: Optional[LayoutConfig] = None) -> None:
        from docencoder.data.tokenizer import load_tokenizer
        from docencoder.model import load_pretrained

        d = check_model_dir(model_dir)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = resolve_device(device)
        self.model_dir = d
        self.model_id = model_id(d)
        self.model = load_pretrained(d, map_location=self.device).eval()
        self.tokenizer = load_tokenizer(d / "tokenizer.json")
        if self.tokenizer.vocab_size > self.model.cfg.vocab_size:
            raise ModelLoadError(f"{d}: tokenizer has {self.tokenizer.vocab_size} tokens but the "
                                 f"model only {self.model.cfg.vocab_size}")
        self.batch_size = batch_size
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
        from docencoder.data.lines import split_line

        g = self.cfg.geometry
        lay = self.layout(page)
        return PagePieces([[split_line(crop, g.height, g.width) for crop in block]
                           for block in lay.crops(self.layout_cfg.pad_px)])

    def read_pieces(self, pieces: Sequence[Image.Image]) -> list[str]:
        """Decode normalised line pieces in batches of similar width; texts in input order."""
        import torch

        from docencoder.data.lines import to_tensor

        widths = [_filled_width(p) for p in pieces]
        order = sorted(range(len(pieces)), key=lambda i: -widths[i])
        out: list[str] = [""] * len(pieces)
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            caps = [self._line_cap(widths[i]) for i in idx]
            pixels = to_tensor([pieces[i] for i in idx]).to(self.device)  # (B, 3, H, W)
            with torch.inference_mode():
                ids = self.model.generate(pixels, self.prompt_ids, max_new_tokens=max(caps),
                                          no_repeat_ngram=self.gen.line_no_repeat_ngram,
                                          repeat_window=self.gen.repeat_window)  # (B, T)
            for row, i, cap in zip(ids.tolist(), idx, caps):
                chars = math.ceil(widths[i] * MAX_CHARS_PER_LINE) + self.gen.token_margin
                out[i] = " ".join(self.tokenizer.decode(row[:cap]).split())[:chars]
        return out

    def _line_cap(self, filled: float) -> int:
        chars = math.ceil(max(filled, 0.05) * MAX_CHARS_PER_LINE)
        return math.ceil(chars * self.gen.tokens_per_char) + self.gen.token_margin

    def read_page_pieces(self, pages: Sequence[PagePieces]) -> list[str]:
        """Decode the pieces of several pages in shared batches; the text of each page."""
        flat = [piece for page in pages for block in page.pieces for line in block for piece in line]
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
        view = fit_and_pad(page, g.width, g.height)
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


def fit_and_pad(page: Image.Image, width: int, height: int) -> Image.Image:
    """Scale a page to fit ``width x height`` (aspect kept) and pad with white, top-left aligned."""
    gray = page.convert("L")
    scale = min(width / gray.width, height / gray.height)
    w, h = max(1, round(gray.width * scale)), max(1, round(gray.height * scale))
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(gray.resize((w, h), Image.Resampling.BICUBIC), (0, 0))
    return canvas


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
