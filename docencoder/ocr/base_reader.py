"""What the line and the page reader share: a loaded model, its tokenizer, the decoding caps.

A reader turns a page image into text in two steps, so that a caller can batch the slow one across
pages: :meth:`BaseReader.prepare` (CPU work on one page: layout and line pieces, or nothing for a
page model) and :meth:`BaseReader.read_prepared` (encode + generate, many pages at once).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, Optional, Sequence, TypeVar

from PIL import Image

if TYPE_CHECKING:
    from docencoder.data.tokenizer import DocTokenizer
    from docencoder.model import DocEncoder
    from docencoder.model.config import GeometryKind, ModelConfig

#: line pieces (line models) or pages (page models) per generate call when none is given. On
#: CPU, decoding 64 rows at once beats 4 x 16 (8 dev pages, 653 pieces, 1 thread: 10.8 s vs
#: 11.7 s); a GPU wants large batches too. How many pieces are encoded at once within one call is
#: :data:`docencoder.ocr.line_reader.ENCODE_CHUNK`.
DEFAULT_BATCH_SIZE = 64


@dataclass
class DecodingConfig:
    """Token caps and the repetition guard of inference.

    ``tokens_per_char`` is an upper bound, not the average (~0.4 with the shipped BPE): digits,
    symbols and byte-fallback characters take a token each, and the cap must not cut real text.
    Every generation has a cap and the windowed no-repeat-n-gram guard, so a model that loops (an
    undertrained one will) still finishes each batch in bounded time.
    """

    tokens_per_char: float = 1.0
    token_margin: int = 4  # added to every cap (eos, rounding)
    line_no_repeat_ngram: int = 10  # a 10-token n-gram twice in one line is a loop, not text
    page_no_repeat_ngram: int = 30  # DeepSeek-OCR's page setting
    repeat_window: int = 90
    page_max_new_tokens: int = 2048  # a dense page holds ~5000 characters, ~2000 tokens
    prompt: str = "ocr"
    #: a line model with a CTC head decodes with joint CTC/attention beam search
    #: (:mod:`docencoder.model.joint_decode`) at this CTC weight; 0 = greedy decoding alone
    ctc_weight: float = 0.3
    beam: int = 4  # hypotheses per piece of the joint search


#: ``decoding``: ``joint`` CTC/attention beam search (line models with a CTC head), ``greedy``
#: decoding by the decoder alone (faster, reads rare words worse), ``auto`` = joint where the
#: model has a CTC head
DECODING_MODES = ("auto", "joint", "greedy")


def resolve_decoding(mode: str, has_ctc_head: bool) -> str:
    """``auto`` -> ``joint`` or ``greedy`` for a model with or without a CTC head.

    Raises:
        ValueError: an unknown mode, or ``joint`` for a model without a CTC head.
    """
    if mode not in DECODING_MODES:
        raise ValueError(f"decoding must be one of {', '.join(DECODING_MODES)}, got {mode!r}")
    if mode == "auto":
        return "joint" if has_ctc_head else "greedy"
    if mode == "joint" and not has_ctc_head:
        raise ValueError("decoding joint needs a model with a CTC head (config.json ctc_head); "
                         "this one has none: use --decoding greedy or auto")
    return mode


P = TypeVar("P")  # what prepare() keeps of a page until it is decoded


class BaseReader(ABC, Generic[P]):
    """A model in eval mode on its device with its tokenizer; subclasses read one geometry kind.

    Args:
        model: a loaded :class:`DocEncoder`, already on ``device`` (and quantised, if wanted).
        tokenizer: the model's tokenizer.
        device: the resolved torch device the model is on.
        batch_size: line pieces or pages per generate call; None = :data:`DEFAULT_BATCH_SIZE`.
        decoding: caps and repetition guard.

    ``vision_tokens`` counts the vision tokens encoded so far (the cost of reading, as the
    benchmark's compression table reports it).

    Raises:
        ValueError: the model's ``geometry.kind`` is not the one this reader reads.
    """

    kind: ClassVar["GeometryKind"]  # the geometry kind a subclass reads

    def __init__(self, model: "DocEncoder", tokenizer: "DocTokenizer", device: str = "cpu",
                 batch_size: Optional[int] = None,
                 decoding: Optional[DecodingConfig] = None) -> None:
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if model.cfg.geometry.kind != self.kind:
            raise ValueError(f"model {model.cfg.name!r} has a {model.cfg.geometry.kind} geometry; "
                             f"{type(self).__name__} reads {self.kind} models")
        self.model = model
        self.tokenizer = tokenizer
        self.device = device
        self.batch_size = batch_size or DEFAULT_BATCH_SIZE
        self.gen = decoding or DecodingConfig()
        self.prompt_ids = tokenizer.prompt_ids(self.gen.prompt)
        self.vision_tokens = 0

    @property
    def cfg(self) -> "ModelConfig":
        return self.model.cfg

    @abstractmethod
    def prepare(self, page: Image.Image) -> P:
        """The CPU work on one page before decoding."""

    @abstractmethod
    def read_prepared(self, pages: Sequence[P]) -> list[str]:
        """Decode prepared pages in shared batches; the text of each page, in order."""

    def read_pages(self, pages: Sequence[Image.Image]) -> list[str]:
        """Text of whole page images."""
        return self.read_prepared([self.prepare(p) for p in pages])

    def read_image(self, image: Image.Image) -> str:
        """Text of one page (or line) image."""
        return self.read_pages([image])[0]
