"""Pixels -> text with a DocEncoder model directory: the entry point of the reading paths.

:class:`Reader` opens a model directory (:mod:`.model_dir`: the files, the id naming the weights),
puts the model on its device (:mod:`.device`), quantises it to int8 on CPU (:mod:`.quantize`) and
reads with the path that the model's ``geometry.kind`` names:

* ``line``: :class:`~.line_reader.LineReader` -- layout into lines, lines cut into pieces at the
  training scale, pieces of many pages decoded together (:mod:`.line_reader`);
* ``page``: :class:`~.page_reader.PageReader` -- the whole page as one view, plus Gundam's tiles
  (:mod:`.page_reader`).

Both share :class:`~.base_reader.BaseReader` (model, tokenizer, caps, batch size, the vision-token
count). The names this module exported before the split are kept here, so callers import them
from one place.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

from PIL import Image

from .base_reader import DECODING_MODES, DEFAULT_BATCH_SIZE, DecodingConfig, resolve_decoding
from .device import resolve_device
from .layout import LayoutConfig, PageLayout
from .line_reader import (
    CROP_MARGIN_PX,
    ENCODE_CHUNK,
    MAX_CHARS_PER_LINE,
    LineReader,
    PagePieces,
    all_pieces,
    crop_width,
    page_texts,
    piece_ink_end,
)
from .model_dir import DEFAULT_MODEL_DIR, ModelLoadError, check_model_dir, has_ctc_head, model_id
from .page_reader import PageImage, PageReader, TileGrid, tile_grid
from .quantize import QUANTIZE_MODES, quantize_int8, resolve_quantize

if TYPE_CHECKING:
    import torch

    from docencoder.data.tokenizer import DocTokenizer
    from docencoder.model import DocEncoder
    from docencoder.model.config import ModelConfig

__all__ = [
    "CROP_MARGIN_PX", "DECODING_MODES", "DEFAULT_BATCH_SIZE", "DEFAULT_MODEL_DIR", "ENCODE_CHUNK",
    "MAX_CHARS_PER_LINE", "QUANTIZE_MODES", "DecodingConfig", "LayoutConfig",
    "LineReader", "ModelLoadError", "PageImage", "PageLayout", "PagePieces", "PageReader",
    "PreparedPage", "Reader", "check_model_dir", "crop_width", "model_id", "piece_ink_end", "quantize_int8", "resolve_device",
    "resolve_quantize", "tile_grid",
]


#: what :meth:`Reader.prepare` keeps of a page until :meth:`Reader.read_prepared` decodes it;
#: both kinds have ``count``, the page's share of a decode batch
PreparedPage = Union[PagePieces, PageImage]


class Reader:
    """A model directory loaded for reading: the line or the page reader its geometry kind names.

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
        decoding: ``auto`` (joint CTC/attention search when the model has a CTC head, else
            greedy), ``joint`` or ``greedy`` (:data:`DECODING_MODES`); ``self.decoding`` holds
            the resolved mode. ``greedy`` sets ``generation.ctc_weight`` to 0.

    Raises:
        ModelLoadError: a file of the directory is missing, or the tokenizer does not fit the model.
        ValueError: a bad ``device``, ``quantize``, ``decoding`` or ``batch_size``.

    ``vision_tokens`` counts the vision tokens encoded so far (the cost of reading, as the
    benchmark's compression table reports it).

    The line path runs through this class's :meth:`page_pieces`, :meth:`read_page_pieces` and
    :meth:`read_pieces` (also from :meth:`prepare`, :meth:`read_prepared` and
    :meth:`read_pages`): they are what callers and tests hook to wrap every line-model page.
    """

    def __init__(self, model_dir: Optional[str | Path] = None, device: str = "cpu",
                 batch_size: Optional[int] = None, generation: Optional[DecodingConfig] = None,
                 layout: Optional[LayoutConfig] = None, quantize: str = "auto",
                 decoding: str = "auto") -> None:
        from docencoder.data.tokenizer import load_tokenizer
        from docencoder.model import load_pretrained
        from docencoder.model.decoder import fuse_projections

        d = check_model_dir(model_dir)
        #: ``joint`` or ``greedy``: how this reader decodes (``decoding`` resolved)
        self.decoding = resolve_decoding(decoding, has_ctc_head(d))  # ValueError before loading
        if self.decoding == "greedy":
            generation = dataclasses.replace(generation or DecodingConfig(), ctc_weight=0.0)
        if batch_size is not None and batch_size < 1:  # before the weights are read
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.device = resolve_device(device)
        self.quantize = resolve_quantize(quantize, self.device)
        self.model_dir = d
        self.model_id = model_id(d)  # names the weights, whatever the run-time precision
        model = load_pretrained(d, map_location=self.device).eval()
        fuse_projections(model.decoder)  # before quantising: the fused layers quantise too
        if self.quantize == "int8":
            model = quantize_int8(model)
        tokenizer = load_tokenizer(d / "tokenizer.json")
        if tokenizer.vocab_size > model.cfg.vocab_size:
            raise ModelLoadError(f"{d}: tokenizer has {tokenizer.vocab_size} tokens but the "
                                 f"model only {model.cfg.vocab_size}")
        self.impl: Union[LineReader, PageReader]
        if model.cfg.geometry.kind == "line":
            self.impl = LineReader(model, tokenizer, self.device, batch_size, generation,
                                   layout or LayoutConfig())
        else:
            self.impl = PageReader(model, tokenizer, self.device, batch_size, generation)

    # ------------------------------------------------------------------ what both paths share
    @property
    def model(self) -> "DocEncoder":
        return self.impl.model

    @property
    def tokenizer(self) -> "DocTokenizer":
        return self.impl.tokenizer

    @property
    def cfg(self) -> "ModelConfig":
        return self.impl.cfg

    @property
    def gen(self) -> DecodingConfig:
        return self.impl.gen

    @property
    def prompt_ids(self) -> list[int]:
        return self.impl.prompt_ids

    @property
    def batch_size(self) -> int:
        return self.impl.batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        self.impl.batch_size = value

    @property
    def vision_tokens(self) -> int:
        return self.impl.vision_tokens

    @vision_tokens.setter
    def vision_tokens(self, value: int) -> None:
        self.impl.vision_tokens = value

    @property
    def is_line_model(self) -> bool:
        """Whether the model reads lines (``geometry.kind == "line"``), not whole pages."""
        return isinstance(self.impl, LineReader)

    @property
    def line_reader(self) -> LineReader:
        """The line path; a page model has none.

        Raises:
            TypeError: the model is a page model.
        """
        if not isinstance(self.impl, LineReader):
            raise TypeError(f"model {self.cfg.name!r} is a page model: it has no line path")
        return self.impl

    @property
    def page_reader(self) -> PageReader:
        """The page path; a line model has none.

        Raises:
            TypeError: the model is a line model.
        """
        if not isinstance(self.impl, PageReader):
            raise TypeError(f"model {self.cfg.name!r} is a line model: it has no page path")
        return self.impl

    # ------------------------------------------------------------------ either path
    def prepare(self, page: Image.Image) -> PreparedPage:
        """The CPU work on one page before decoding (layout and pieces, for a line model)."""
        if self.is_line_model:
            return self.page_pieces(page)
        return self.page_reader.prepare(page)

    def read_prepared(self, pages: Sequence[PreparedPage]) -> list[str]:
        """Decode prepared pages (of this model's kind) in shared batches; the text of each."""
        if self.is_line_model:
            return self.read_page_pieces(pages)  # type: ignore[arg-type]
        return self.page_reader.read_prepared(pages)  # type: ignore[arg-type]

    def read_pages(self, pages: Sequence[Image.Image]) -> list[str]:
        """Text of whole page images: via layout + lines for line models, else the page path."""
        return self.read_prepared([self.prepare(p) for p in pages])

    def read_image(self, image: Image.Image) -> str:
        """Text of one page (or line) image."""
        return self.read_pages([image])[0]

    # ------------------------------------------------------------------ line path
    @property
    def layout_cfg(self) -> LayoutConfig:
        return self.line_reader.layout_cfg

    def layout(self, page: Image.Image) -> PageLayout:
        return self.line_reader.layout(page)

    def page_pieces(self, page: Image.Image) -> PagePieces:
        """Layout + split of one page into model-sized pieces (the CPU work before decoding),
        with the layout's line geometry (:meth:`LineReader.page_pieces`)."""
        return self.line_reader.page_pieces(page)

    def read_pieces(self, pieces: Sequence[Image.Image]) -> list[str]:
        """Decode normalised line pieces; texts in input order (:meth:`LineReader.read_pieces`)."""
        return self.line_reader.read_pieces(pieces)

    def read_page_pieces(self, pages: Sequence[PagePieces]) -> list[str]:
        """Decode the pieces of several pages in shared batches (through :meth:`read_pieces`);
        the text of each page."""
        return page_texts(pages, self.read_pieces(all_pieces(pages)))

    # ------------------------------------------------------------------ page path
    def page_tensors(self, page: Image.Image
                     ) -> tuple["torch.Tensor", Optional["torch.Tensor"], Optional[TileGrid]]:
        """Main view `(3, H, W)` and, for Gundam, tiles `(n, 3, t, t)` with their grid."""
        return self.page_reader.page_tensors(page)
