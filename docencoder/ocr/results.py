"""What reading produces and what a run reports: page records, failures, summaries, errors.

These types sit below everything else in the OCR runtime, so that the facade (:mod:`.api`), the
writers (:mod:`.writers`) and the job runner (:mod:`.jobs`) each import them from here instead of
from one another: a job runner that imported the facade for its result types was an import cycle
(issue 20 item 4). Nothing here imports another module of docencoder but
:mod:`docencoder.structure` (which imports none): a record's ``blocks`` and ``markdown``.

:class:`PageResult` is one page's record, the unit that is written (one JSONL line) and
resumed; :class:`PageFailure` is one errors.jsonl row; :class:`DocSummary` and
:class:`OCRSummary` count a document and a batch. The ``text_layer`` verdicts and the failure
kinds are values of their fields, defined once here.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from docencoder.structure import Block, page_blocks, render_page, text_lines

#: keys of a page record, in the order they are written (the stable schema; ``markdown`` and
#: ``blocks`` since 2026-12-03, issue 17)
PAGE_KEYS = ("doc", "page", "text", "source", "text_layer", "model", "quantize", "decoding",
             "dpi", "seconds", "markdown", "blocks")
#: the ``model`` field of pages taken from a PDF's own text layer
TEXT_LAYER_MODEL = "text-layer"

# The ``text_layer`` verdict of a page record: why the page was read the way it was.
#: the text layer passed :func:`~docencoder.pdf.trust.text_layer_quality` and was used
TRUSTED = "trusted"
#: no text layer: an image, or a PDF page without a single character (a scan)
ABSENT = "absent"
#: ``--text-layer never``: the page was OCR'd without looking
NOT_CHECKED = "not-checked"
#: prefix of the verdict of a text layer that failed the check (the reason follows)
UNTRUSTED = "untrusted: "
#: ``text_layer`` of a record written before the field existed
UNKNOWN_VERDICT = "unknown"
#: ``quantize`` of a record written before the field existed (2026-12-02). Such a page may have
#: been read either way: from 2026-11-24 to 11-29 always float32, since then (``--quantize auto``,
#: commit 1fcf0b3) int8 on CPU but float32 on CUDA or with ``--quantize none``. A guess would refuse
#: to resume outputs that were in fact read alike, so it is taken as compatible with any mode
#: (like :data:`UNKNOWN_VERDICT`); only records that say how they were read are compared.
UNKNOWN_QUANTIZE = "unknown"
#: ``decoding`` of a record written before the field existed (2026-12-03). Until leg 7 shipped
#: (2026-12-02, commit 0c31c66) every page was decoded greedily; since then a model with a CTC
#: head decodes by joint search unless ``--decoding greedy``. Compatible with either mode, like
#: :data:`UNKNOWN_QUANTIZE`.
UNKNOWN_DECODING = "unknown"

#: the ``kind`` of a failure (an errors.jsonl row): ``input`` the file cannot be read as a
#: document, ``page`` one page cannot be, ``pages`` --pages names pages the document does not
#: have, ``exception`` an unexpected exception (its type and message; worth a bug report),
#: ``worker`` the worker process reading the document died
FAILURE_KINDS = ("input", "page", "pages", "exception", "worker")
#: longest exception message kept in a failure (tracebacks of C libraries can be huge)
MAX_ERROR_CHARS = 1000

# Progress events of a run, ``progress(event, n)``: sent by whichever process reads the document
# (through a queue from worker processes), so they are plain strings and counts.
#: the number of pages a document will write, once it is open (the total grows as documents open)
TOTAL = "total"
#: ``n`` pages were written
PAGE_WRITTEN = "page"
#: ``n`` pages failed (a failure of a whole document is no page event)
PAGE_FAILED = "failed"
#: a callback that receives the progress events above
Progress = Callable[[str, int], None]


class OCRError(Exception):
    """A document or page could not be read (raised by :meth:`~.api.OCR.read`)."""


class UsageError(ValueError):
    """The request cannot be done as asked (the CLI's exit status 2); nothing was written."""


class OutputError(Exception):
    """OUT cannot be written (disk full, read-only, permissions): the run stops, exit status 2.

    Not a property of any one input, so no input is blamed for it; whatever was written before it
    is complete and a re-run resumes from there.
    """


def describe(e: BaseException) -> str:
    """``"Type: message"`` of an exception, on one line and bounded: an errors.jsonl ``error``."""
    msg = " ".join(str(e).split())
    if len(msg) > MAX_ERROR_CHARS:
        msg = msg[:MAX_ERROR_CHARS] + "..."
    return f"{type(e).__name__}: {msg}" if msg else type(e).__name__


def clean_text(text: str) -> str:
    """Page text as it may be written: no U+FFFD, control characters or surrogates.

    Why: U+FFFD (a glyph the text layer could not map, or bytes the tokenizer's byte fallback
    could not decode) and control characters carry nothing a reader of the text can use, and a
    lone surrogate cannot even be encoded as UTF-8. Newlines stay, tabs become spaces, ``\\r\\n``
    and ``\\r`` become ``\\n``; noncharacters (U+FFFE, U+FFFF, ...) go too; a dropped character
    between two spaces leaves one space.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    out: list[str] = []
    dropped = False  # since the last character kept
    for ch in text:
        if ch == "\n":
            out.append(ch)
            dropped = False
            continue
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cs") or ch == "\ufffd" or (ord(ch) & 0xFFFE) == 0xFFFE \
                or "\ufdd0" <= ch <= "\ufdef":
            dropped = True
            continue
        if ch == " " and dropped and out and out[-1] == " ":
            continue  # "a \ufffd b" -> "a b", not "a  b"
        out.append(ch)
        dropped = False
    return "".join(out)


@dataclass
class PageResult:
    """One page of output; ``to_json`` gives the JSONL record (see the OCR README section).

    ``text`` is cleaned by :func:`clean_text` on construction, whatever produced it. ``blocks``
    and ``markdown`` are the page's structure (:mod:`docencoder.structure`); a page made without
    them (an older record, a caller's own text) gets them from its text on construction: its
    paragraphs, without the boxes and fonts that the reading paths give.
    """

    doc: str  # the input path as given
    page: int  # 1-based page number
    text: str
    source: str  # "ocr" or "text-layer"
    model: str  # model id (dir name + weights hash), or "text-layer"
    dpi: int  # resolution the page was read at; 0 when no pixels were read or it is unknown
    seconds: float  # wall time spent on this page
    #: why the page was read this way: "trusted", "untrusted: <reason>", "absent" (an image, or a
    #: PDF page without a text layer) or "not-checked" (--text-layer never)
    text_layer: str = NOT_CHECKED
    #: how the model's weights were run: "int8" or "none" (float); None (JSON null) when no
    #: model read the page (``source`` "text-layer"). Part of the record because int8 output can
    #: differ from float32 output, so a resume must not mix the two (:func:`~.api.read_differently`)
    quantize: Optional[str] = None
    #: how the text was decoded: "joint" (CTC/attention beam search) or "greedy"; None (JSON
    #: null) for text-layer pages. Part of the record for the same reason as ``quantize``
    decoding: Optional[str] = None
    #: the page as markdown (headings, joined paragraphs, lists, code, math; no running header,
    #: footer or page number): :func:`docencoder.structure.render_page` of ``blocks``
    markdown: Optional[str] = None
    #: the page's blocks in reading order, each with its role, box and text
    #: (:class:`docencoder.structure.Block`)
    blocks: Optional[list[Block]] = None

    def __post_init__(self) -> None:
        self.text = clean_text(self.text)
        if self.blocks is None:
            self.blocks = page_blocks(text_lines(self.text), self.page)
        if self.markdown is None:
            self.markdown = render_page(self.blocks)

    def to_json(self) -> str:
        d = {k: getattr(self, k) for k in PAGE_KEYS}
        d["seconds"] = round(float(d["seconds"]), 4)
        d["blocks"] = [b.to_dict() for b in self.blocks or ()]
        return json.dumps(d, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PageResult":
        # fields newer than the schema's first version, with what an older record means
        ocr = d.get("source") != "text-layer"
        optional = {"text_layer": UNKNOWN_VERDICT,
                    "quantize": UNKNOWN_QUANTIZE if ocr else None,
                    "decoding": UNKNOWN_DECODING if ocr else None,
                    "markdown": None}
        blocks = d.get("blocks")
        keys = [k for k in PAGE_KEYS if k not in optional and k != "blocks"]
        return cls(**{k: d[k] for k in keys}, **{k: d.get(k, v) for k, v in optional.items()},
                   blocks=None if blocks is None else [Block.from_dict(b) for b in blocks])


@dataclass
class PageFailure:
    """A page (or, with ``page=None``, a whole document) that failed, why, and what kind of
    failure it is (one of :data:`FAILURE_KINDS`)."""

    doc: str
    page: Optional[int]
    error: str
    kind: str = "input"


@dataclass
class DocSummary:
    """Counts for one document of a batch job (picklable: worker processes return it)."""

    doc: str
    pages_done: int = 0
    pages_skipped: int = 0  # already in OUT from an earlier run
    failures: list[PageFailure] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class OCRSummary:
    """Result of :meth:`~.api.OCR.ocr_files`."""

    documents: int = 0  # inputs attempted
    documents_failed: int = 0  # inputs with at least one failure
    pages: int = 0  # pages written in this run
    pages_skipped: int = 0  # pages already in OUT
    failures: list[PageFailure] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    #: why the run stopped before its end because OUT could not be written (exit status 2)
    output_error: Optional[str] = None
    #: why the run stopped for a reason that is no input's fault, e.g. the model did not load
    #: (exit status 3)
    internal_error: Optional[str] = None

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 all done, 1 some inputs failed, 2 OUT unwritable or --pages past the end of every
        document, 3 internal error, 130 interrupted."""
        if self.interrupted:
            return 130
        if self.internal_error:
            return 3
        if self.output_error:
            return 2
        if self.failures and all(f.kind == "pages" for f in self.failures) \
                and self.pages == 0 and self.pages_skipped == 0:
            return 2
        return 1 if self.failures else 0

    def add(self, doc: DocSummary) -> None:
        """Count one finished document in."""
        self.pages += doc.pages_done
        self.pages_skipped += doc.pages_skipped
        self.failures.extend(doc.failures)
        if doc.failures:
            self.documents_failed += 1

    def line(self) -> str:
        """The one-line summary ``docencoder ocr`` prints at the end."""
        return (f"{self.documents} documents ({self.documents_failed} with failures), "
                f"{self.pages} pages written, {self.pages_skipped} already done, "
                f"{len(self.failures)} failures, {self.seconds:.1f} s, "
                f"{self.pages_per_second:.2f} pages/s")
