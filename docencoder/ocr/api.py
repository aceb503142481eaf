"""The Python API of the OCR pipeline; ``docencoder ocr`` is a thin layer over :class:`OCR`.

Example::

    from docencoder import OCR
    ocr = OCR()                                    # the model shipped in the package, on CPU
    pages = ocr.read("paper.pdf", pages="1-2")     # list[PageResult]
    summary = ocr.ocr_files(["papers/"], "out/")   # a resumable batch job

Pages stream through in windows: each page is rendered, laid out and cut into line pieces, its
image dropped, and once a window holds ``max(batch_size, DEFAULT_BATCH_SIZE)`` pieces (or
``WINDOW_PAGES`` pages) all its pieces are decoded together and its pages emitted in page order.
Memory therefore stays flat on long documents while batches stay full across page boundaries.
"""

from __future__ import annotations

import inspect
import os
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional, Sequence, Union

from PIL import Image

from .base_reader import DECODING_MODES, resolve_decoding
from .jobs import WorkerFactory, run_job
from .model_dir import has_ctc_head
from .pages import (
    MAX_PAGE_PIXELS,
    Document,
    DocumentError,
    PageError,
    expand_inputs,
    in_selection,
    open_document,
    pages_past_end,
    parse_pages,
    select_pages,
)
from .reader import (
    DEFAULT_BATCH_SIZE,
    QUANTIZE_MODES,
    DecodingConfig,
    ModelLoadError,
    PagePieces,
    PreparedPage,
    Reader,
    check_model_dir,
    model_id,
    resolve_device,
    resolve_quantize,
)
from .results import (
    ABSENT,
    NOT_CHECKED,
    TEXT_LAYER_MODEL,
    TRUSTED,
    UNKNOWN_DECODING,
    UNKNOWN_QUANTIZE,
    UNKNOWN_VERDICT,
    UNTRUSTED,
    DocSummary,
    OCRError,
    OCRSummary,
    OutputError,
    PageFailure,
    PageResult,
    Progress,
    UsageError,
    clean_text,
    describe,
)
from .structured import finish_document, ocr_lines, structure_page, text_layer_lines
from .writers import DocumentWriter, ErrorLog, NameIndex, load_done, probe_writable

if TYPE_CHECKING:
    from docencoder.structure import Block

__all__ = ["OCR", "OCRError", "OCRSettings", "OCRSummary", "DocSummary", "ModelLoadError",
           "OutputError", "PageFailure", "PageResult", "UsageError", "TEXT_LAYER_MODES",
           "CLI_OPTIONS"]

#: ``text_layer``: use a PDF's own text where trustworthy and OCR the rest, always OCR, or never
#: run the model
TEXT_LAYER_MODES = ("auto", "never", "only")
#: most pages held between rendering and decoding (bounds memory when pages have few lines)
WINDOW_PAGES = 16

Pages = Union[None, str, Sequence[int]]


def check_device_name(device: str) -> str:
    """A well-formed device name (unresolved), checked without importing torch: start-up of
    ``--text-layer only`` stays free of it (~10 s on a busy 2-core machine, against 0.8 s for
    the rest)."""
    head, _, index = device.partition(":")
    if device in ("cpu", "auto", "cuda") or (head == "cuda" and index.isdigit()):
        return device
    raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto")


@dataclass(frozen=True)
class OCRSettings:
    """The arguments of :class:`OCR`, checked once, here; picklable, so that a worker process
    rebuilds an equal :class:`OCR` from them (:func:`build_worker_ocr`). Defaults live in the
    signature of :class:`OCR` alone."""

    model_dir: Optional[Union[str, Path]]
    device: str
    batch_size: Optional[int]
    dpi: int
    text_layer: str
    generation: Optional[DecodingConfig]
    max_page_pixels: int
    quantize: str
    decoding: str = "auto"

    def __post_init__(self) -> None:
        _check_mode(self.text_layer)
        if self.quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_MODES)}, "
                             f"got {self.quantize!r}")
        if self.decoding not in DECODING_MODES:
            raise ValueError(f"decoding must be one of {', '.join(DECODING_MODES)}, "
                             f"got {self.decoding!r}")
        if self.dpi < 1:
            raise ValueError(f"dpi must be positive, got {self.dpi}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        check_device_name(self.device)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of :class:`OCR` (shallow: ``generation`` stays a dataclass)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def build_worker_ocr(settings: OCRSettings, index: int, threads: int) -> "OCR":
    """The :class:`OCR` of worker process ``index`` (a :class:`~.jobs.WorkerFactory`'s build).

    With CUDA and several GPUs, worker ``i`` uses ``cuda:(i % device_count)``. Torch is only
    imported (to set ``threads``) when the model may run: a ``text_layer="only"`` worker starts
    without it.
    """
    if settings.text_layer != "only":
        import torch

        torch.set_num_threads(threads)
        if settings.device.startswith("cuda") and torch.cuda.device_count() > 1:
            settings = replace(settings, device=f"cuda:{index % torch.cuda.device_count()}")
    return OCR(**settings.arguments())


@dataclass
class _PendingPage:
    """A page between rendering and emission."""

    page: int
    dpi: int
    seconds: float  # time spent so far (text layer, rendering, layout)
    verdict: str  # the record's ``text_layer`` field
    text: Optional[str] = None  # set for text-layer pages
    #: set for pages to OCR: what :meth:`Reader.prepare` made of the page image (line pieces for
    #: a line model, the image for a page model), until :meth:`Reader.read_prepared` decodes it
    prepared: Optional[PreparedPage] = None
    failure: Optional[str] = None
    kind: str = "page"  # of the failure
    #: a text-layer page's blocks, from its lines' geometry and fonts (None: from its text)
    blocks: Optional[list["Block"]] = None

    def weight(self) -> int:
        """The page's share of a decode batch (line pieces, or one page image; 0: no OCR)."""
        return self.prepared.count if self.prepared is not None else 0


def read_differently(rec: PageResult, mode: str, weights: Optional[str], dpi: int,
                     is_pdf: bool, quantize: Optional[str] = None,
                     decoding: Optional[str] = None) -> Optional[str]:
    """How a page already in OUT was read, if a run in ``mode`` with ``weights`` run as
    ``quantize`` (the resolved ``int8``/``none``; None: not compared) and decoded as
    ``decoding`` (the resolved ``joint``/``greedy``; None: not compared) at ``dpi`` could have
    read it otherwise (None: resuming keeps the document consistent).

    Why per page: a page's record says how it was read (source, verdict, model, quantize, dpi),
    so the check needs no extra file, and a change that cannot alter a page (``never`` after
    ``auto`` on a page that ``auto`` OCR'd; another ``--quantize`` on a page taken from its text
    layer) is not refused. A record older than its ``quantize`` or ``decoding`` field
    (:data:`~.results.UNKNOWN_QUANTIZE`, :data:`~.results.UNKNOWN_DECODING`) is compatible
    with either mode.
    """
    if mode == "only":
        return None if rec.source == "text-layer" else f"OCR'd by {rec.model} (not --text-layer only)"
    if rec.source == "text-layer":
        if mode == "auto" and rec.text_layer in (TRUSTED, UNKNOWN_VERDICT):
            return None
        if mode == "auto":
            return f"taken from its text layer, {rec.text_layer} (--text-layer only)"
        return f"taken from its text layer ({rec.text_layer})"
    if rec.model != weights:
        return f"OCR'd by model {rec.model}"
    if quantize is not None and rec.quantize not in (quantize, UNKNOWN_QUANTIZE, None):
        return f"OCR'd with --quantize {rec.quantize}"
    if decoding is not None and rec.decoding not in (decoding, UNKNOWN_DECODING, None):
        return f"decoded with --decoding {rec.decoding}"
    if is_pdf and rec.dpi != dpi:
        return f"rendered at {rec.dpi} dpi"
    if mode == "auto" and is_pdf and rec.text_layer == NOT_CHECKED:
        return "OCR'd without a look at its text layer (--text-layer never)"
    return None


class OCR:
    """Batch OCR of PDFs and images with a DocEncoder model.

    Args:
        model_dir: a model directory (``model.safetensors``, ``config.json``, ``tokenizer.json``);
            None = the model shipped in the package. Loaded on first use, so a text-layer-only
            job never loads it.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: line pieces (or pages, for page models) per generate call; None =
            :data:`~docencoder.ocr.reader.DEFAULT_BATCH_SIZE` (encoded in chunks of
            :data:`~docencoder.ocr.reader.ENCODE_CHUNK`).
        dpi: rendering resolution of PDF pages.
        text_layer: ``auto`` (a PDF's own text where :func:`text_layer_quality` trusts it, OCR
            elsewhere), ``never`` (always read pixels) or ``only`` (never run the model).
        generation: token caps and repetition guard.
        max_page_pixels: pages larger than this at ``dpi`` are reported, not rendered.
        quantize: ``auto`` (int8 Linear layers on CPU, none on CUDA), ``int8`` or ``none``; the
            output's ``model`` field names the weights either way.
        decoding: ``auto`` (joint CTC/attention beam search when the model has a CTC head,
            greedy otherwise), ``joint`` or ``greedy`` (faster; reads rare words worse).
    """

    def __init__(self, model_dir: Optional[str | Path] = None, device: str = "cpu",
                 batch_size: Optional[int] = None, dpi: int = 150, text_layer: str = "auto",
                 generation: Optional[DecodingConfig] = None,
                 max_page_pixels: int = MAX_PAGE_PIXELS, quantize: str = "auto",
                 decoding: str = "auto") -> None:
        checked = OCRSettings(model_dir, device, batch_size, dpi, text_layer, generation,
                              max_page_pixels, quantize, decoding)  # ValueError: a bad setting
        self.model_dir = checked.model_dir
        self.device = checked.device
        self.batch_size = checked.batch_size
        self.dpi = checked.dpi
        self.text_layer = checked.text_layer
        self.generation = checked.generation
        self.max_page_pixels = checked.max_page_pixels
        self.quantize = checked.quantize
        self.decoding = checked.decoding
        self._reader: Optional[Reader] = None
        self._weights_id: Optional[str] = None
        self._decoding_mode: Optional[str] = None

    @property
    def reader(self) -> Reader:
        """The loaded model (loads it on first access).

        Raises:
            ModelLoadError: the model cannot be loaded, whatever the reason (a corrupt weights
                file raises many exception types): no page can be read, so the run stops.
        """
        if self._reader is None:
            try:
                self._reader = Reader(self.model_dir, self.device, self.batch_size,
                                      self.generation, quantize=self.quantize,
                                      decoding=self.decoding)
            except ModelLoadError:
                raise
            except Exception as e:  # noqa: BLE001 - reported as what it is: the model, not a page
                raise ModelLoadError(f"cannot load the model from "
                                     f"{self.model_dir or 'the package'}: {describe(e)}") from e
        return self._reader

    @property
    def model_id(self) -> str:
        return self.reader.model_id

    @property
    def weights_id(self) -> str:
        """The ``model`` field OCR'd pages get, without loading the model (hashes the weights)."""
        if self._weights_id is None:
            self._weights_id = (self._reader.model_id if self._reader is not None
                                else model_id(check_model_dir(self.model_dir)))
        return self._weights_id

    @property
    def quantize_mode(self) -> str:
        """The ``quantize`` field OCR'd pages get (``int8`` or ``none``: ``auto`` resolved for
        the device), without loading the model."""
        if self._reader is not None:
            return self._reader.quantize
        return resolve_quantize(self.quantize, resolve_device(self.device))

    @property
    def decoding_mode(self) -> str:
        """The ``decoding`` field OCR'd pages get (``joint`` or ``greedy``: ``auto`` resolved
        for the model), without loading the model (reads its config.json once; every document
        of a batch asks).

        Raises:
            ValueError: ``joint`` for a model without a CTC head.
        """
        if self._decoding_mode is None:
            self._decoding_mode = (
                self._reader.decoding if self._reader is not None
                else resolve_decoding(self.decoding, has_ctc_head(check_model_dir(self.model_dir))))
        return self._decoding_mode

    # ------------------------------------------------------------------ single documents
    def read(self, path: str | Path, pages: Pages = None, dpi: Optional[int] = None,
             text_layer: Optional[str] = None) -> list[PageResult]:
        """Read one PDF or image; the selected pages in order.

        Args:
            path: a PDF, PNG, JPEG or TIFF file.
            pages: 1-based pages (``"1-3,7"`` or a list); None = all.
            dpi: overrides the instance's ``dpi``.
            text_layer: overrides the instance's ``text_layer`` mode.

        Raises:
            OCRError: the document, or one of its pages, cannot be read, or ``pages`` names a
                page past its end.
        """
        out = []
        for item in self.iter_pages(path, pages, dpi, text_layer):
            if isinstance(item, PageFailure):
                where = f"page {item.page} of " if item.page else ""
                raise OCRError(f"{where}{path}: {item.error}")
            out.append(item)
        finish_document(out)
        return out

    def read_image(self, image: Image.Image) -> str:
        """Text of one page or line image (a PIL image in any mode)."""
        return clean_text(self.reader.read_image(image))

    def iter_pages(self, path: str | Path, pages: Pages = None, dpi: Optional[int] = None,
                   text_layer: Optional[str] = None, skip: frozenset[int] = frozenset(),
                   on_open: Optional[Callable[[int], None]] = None
                   ) -> Iterator[Union[PageResult, PageFailure]]:
        """Pages of one document as they complete, in page order; failures are yielded, not raised.

        Each page's ``blocks`` and ``markdown`` are its own page's: running headers and footers,
        found across pages, are tagged by :meth:`read` and by the writers of :meth:`ocr_files`
        once the document is done (:func:`~.structured.finish_document` does it for a caller's
        list of pages).

        Any exception while reading the document becomes a :class:`PageFailure` (of kind
        ``exception`` when it was not foreseen), except :class:`ModelLoadError`: a model that
        does not load fails every document alike.

        Args:
            skip: pages not to do (already written by an earlier run).
            on_open: called with the number of pages to do once the document is open.
        """
        mode = text_layer or self.text_layer
        _check_mode(mode)
        try:
            wanted = parse_pages(pages)
        except ValueError as e:
            yield PageFailure(str(path), None, str(e), "pages")
            return

        def plan(selected: list[int]) -> list[int]:
            todo = [p for p in selected if p not in skip]
            if on_open is not None:
                on_open(len(todo))
            return todo

        yield from self._document(path, wanted, dpi or self.dpi, mode, plan)

    def _document(self, path: str | Path, wanted: Optional[list[int]], dpi: int, mode: str,
                  plan: Callable[[list[int]], list[int]]
                  ) -> Iterator[Union[PageResult, PageFailure]]:
        """:meth:`iter_pages` with the pages to do chosen by ``plan(pages the document has)``."""
        doc = str(path)
        try:
            document = open_document(path, self.max_page_pixels)
        except DocumentError as e:
            yield PageFailure(doc, None, str(e), "input")
            return
        except Exception as e:  # noqa: BLE001 - any file must fail alone
            yield PageFailure(doc, None, f"cannot open: {describe(e)}", "exception")
            return
        try:
            with document:
                n = document.n_pages
                missing = pages_past_end(wanted, n)
                if missing:
                    yield PageFailure(doc, None, f"--pages {missing}: past the end of the "
                                                 f"document, which has {n} page{'s' * (n != 1)}",
                                      "pages")
                todo = plan(select_pages(wanted, n))
                if mode == "only" and not document.is_pdf:
                    if todo:
                        yield PageFailure(doc, None, "an image has no text layer (--text-layer "
                                                     "only never runs the model)")
                    return
                window: list[_PendingPage] = []
                for page in todo:
                    window.append(self._prepare(document, page, dpi, mode))
                    if (sum(p.weight() for p in window)
                            >= max(self.batch_size or 0, DEFAULT_BATCH_SIZE)
                            or len(window) >= WINDOW_PAGES):
                        yield from self._emit(doc, window)
                        window = []
                yield from self._emit(doc, window)
        except (ModelLoadError, OutputError):
            raise  # not this document's fault: the run stops
        except Exception as e:  # noqa: BLE001 - the document fails, the batch goes on
            yield PageFailure(doc, None, f"stopped reading: {describe(e)}", "exception")

    def _prepare(self, document: Document, page: int, dpi: int, mode: str) -> _PendingPage:
        """Text layer, or render + layout: everything for one page short of decoding."""
        t0 = time.perf_counter()
        verdict = NOT_CHECKED if document.is_pdf else ABSENT
        if document.is_pdf and mode != "never":
            from docencoder.pdf.trust import OCR_MAX_UNMAPPED_FRACTION, text_layer_quality

            try:
                text = document.text(page)  # type: ignore[attr-defined]
                ok, reason = text_layer_quality(text, max_unmapped=OCR_MAX_UNMAPPED_FRACTION)
            except Exception as e:  # noqa: BLE001 - any failure of the text layer is per page
                if mode == "only":
                    return _PendingPage(page, 0, time.perf_counter() - t0, verdict,
                                        failure=f"cannot read the text layer: {describe(e)}")
                text, ok, reason = "", False, f"cannot read it ({describe(e)})"
            if ok:
                verdict = TRUSTED
            elif text.strip() or reason.startswith("cannot read"):
                verdict = UNTRUSTED + reason
            else:
                verdict = ABSENT
            if mode == "only" or ok:
                blocks = _text_layer_blocks(document, page) if text.strip() else None
                return _PendingPage(page, 0, time.perf_counter() - t0, verdict, text=text.strip(),
                                    blocks=blocks)
        try:
            image, used_dpi = document.render(page, dpi)
        except PageError as e:
            return _PendingPage(page, 0, time.perf_counter() - t0, verdict, failure=str(e))
        except Exception as e:  # noqa: BLE001 - a bad page must not stop the document
            return _PendingPage(page, 0, time.perf_counter() - t0, verdict,
                                failure=f"cannot render page: {describe(e)}", kind="exception")
        reader = self.reader  # ModelLoadError: a configuration error, every page would fail
        try:
            prepared = reader.prepare(image)
        except Exception as e:  # noqa: BLE001 - a bad page must not stop the document
            return _PendingPage(page, 0, time.perf_counter() - t0, verdict,
                                failure=f"layout failed: {describe(e)}", kind="exception")
        return _PendingPage(page, used_dpi, time.perf_counter() - t0, verdict, prepared=prepared)

    def _emit(self, doc: str, window: list[_PendingPage]
              ) -> Iterator[Union[PageResult, PageFailure]]:
        """Decode a window's pending pages together and yield every page of it in order."""
        ocr = [p for p in window if p.prepared is not None]
        texts: list[str] = []
        if ocr:
            t0 = time.perf_counter()
            try:
                texts = self.reader.read_prepared([p.prepared for p in ocr if p.prepared is not None])
            except Exception as e:  # noqa: BLE001 - report the window's pages, go on
                for p in ocr:
                    p.failure = f"generation failed: {describe(e)}"
                    p.kind = "exception"
                    p.prepared = None
                ocr = []
            spent = time.perf_counter() - t0
            total = sum(max(p.weight(), 1) for p in ocr) or 1
            for p, text in zip(ocr, texts):
                p.seconds += spent * max(p.weight(), 1) / total
                p.text = text
        for p in window:
            if p.failure is not None:
                yield PageFailure(doc, p.page, p.failure, p.kind)
            elif p.prepared is not None:
                blocks = _ocr_blocks(p.text or "", p.prepared, p.page)
                yield PageResult(doc, p.page, p.text or "", "ocr", self.reader.model_id, p.dpi,
                                 p.seconds, p.verdict, self.reader.quantize,
                                 self.reader.decoding, blocks=blocks)
            else:
                yield PageResult(doc, p.page, p.text or "", "text-layer", TEXT_LAYER_MODEL, 0,
                                 p.seconds, p.verdict, blocks=p.blocks)

    # ------------------------------------------------------------------ batch jobs
    def conflicts(self, path: str | Path, records: dict[int, PageResult], pages: Pages = None,
                  dpi: Optional[int] = None, text_layer: Optional[str] = None,
                  overwrite: bool = False) -> list[str]:
        """Why resuming ``path``'s pages already in OUT (``records``) would mix readings.

        The pages a run keeps (all of them; with ``overwrite``, those outside ``pages``) must
        each be what this run would have written (:func:`read_differently`); the list says
        which are not, empty when the run may go on.
        """
        mode = text_layer or self.text_layer
        wanted = parse_pages(pages)
        if overwrite and wanted is None:
            return []
        kept = [r for p, r in sorted(records.items())
                if not (overwrite and in_selection(p, wanted))]
        if not kept:
            return []
        weights = None if mode == "only" else self.weights_id
        quantize = None if mode == "only" else self.quantize_mode
        decoding = None if mode == "only" else self.decoding_mode
        is_pdf = Path(path).suffix.lower() == ".pdf"
        out = []
        for rec in kept:
            why = read_differently(rec, mode, weights, dpi or self.dpi, is_pdf, quantize,
                                   decoding)
            if why is not None:
                out.append(f"page {rec.page} was {why}")
        return out

    def _settings_line(self, dpi: Optional[int], text_layer: Optional[str]) -> str:
        """This run's settings as a refusal names them: those a page record is compared on."""
        mode = text_layer or self.text_layer
        model = ("" if mode == "only"
                 else f", model {self.weights_id}, quantize {self.quantize_mode}, "
                      f"decoding {self.decoding_mode}")
        return f"--text-layer {mode}{model}, {dpi or self.dpi} dpi"

    def ocr_document(self, path: str | Path, name: str, out_dir: str | Path, pages: Pages = None,
                     dpi: Optional[int] = None, text_layer: Optional[str] = None,
                     overwrite: bool = False,
                     progress: Optional[Callable[[str, int], None]] = None) -> DocSummary:
        """OCR one document into ``out_dir/<name>.jsonl`` and ``.md``, resuming what is there.

        ``overwrite`` redoes the selected pages (all pages when ``pages`` is None) and keeps the
        others. Failures go to ``out_dir/errors.jsonl``; an exception while reading the document
        is one of them, it does not propagate. ``progress(event, n)`` is called with
        ``("total", pages to do)`` once open, ``("page", 1)`` per written page and
        ``("failed", 1)`` per failed page.

        Raises:
            UsageError: the pages kept in OUT were read with other settings (:meth:`conflicts`).
            OutputError: OUT cannot be written.
            ModelLoadError: the model cannot be loaded.
        """
        out = Path(out_dir)
        mode = text_layer or self.text_layer
        wanted = parse_pages(pages)
        writer = DocumentWriter(out, name)
        clash = self.conflicts(path, writer.done, pages, dpi, mode, overwrite)
        if clash:
            raise UsageError(f"{writer.jsonl}: {clash[0]}, this run reads with "
                             f"{self._settings_line(dpi, mode)}")
        if overwrite and wanted is None:
            writer.reset()
        errors = ErrorLog(out)
        summary = DocSummary(str(path))
        t0 = time.perf_counter()

        def plan(selected: list[int]) -> list[int]:
            if overwrite:
                writer.drop(selected)
            todo = [p for p in selected if p not in writer.done]
            summary.pages_skipped = len(selected) - len(todo)
            if progress:
                progress("total", len(todo))
            return todo

        def fail(item: PageFailure) -> None:
            summary.failures.append(item)
            errors.add(item.doc, item.page, item.error, item.kind)
            if progress and item.page is not None:
                progress("failed", 1)

        try:
            for item in self._document(path, wanted, dpi or self.dpi, mode, plan):
                if isinstance(item, PageFailure):
                    fail(item)
                    continue
                writer.write(item)
                summary.pages_done += 1
                if progress:
                    progress("page", 1)
            writer.finish()
        except (OutputError, ModelLoadError):
            raise
        except Exception as e:  # noqa: BLE001 - e.g. a bug in a writer: this document fails alone
            fail(PageFailure(str(path), None, f"stopped writing: {describe(e)}", "exception"))
        summary.seconds = time.perf_counter() - t0
        return summary

    def ocr_files(self, inputs: Sequence[str | Path], out_dir: str | Path, pages: Pages = None,
                  dpi: Optional[int] = None, text_layer: Optional[str] = None,
                  overwrite: bool = False, workers: int = 1, threads: Optional[int] = None,
                  isolate: bool = True, progress: Optional[Progress] = None) -> OCRSummary:
        """OCR every input (files, directories, globs) into ``out_dir``; resumable.

        Args:
            inputs: PDF/image files, directories (searched recursively) or glob patterns.
            out_dir: gets ``<name>.jsonl`` + ``<name>.md`` per document and ``errors.jsonl``
                (names: :class:`~docencoder.ocr.writers.NameIndex`).
            pages: page selection applied to every document.
            overwrite: redo the selected pages of documents already (partly) in ``out_dir``
                (every page without ``pages``) instead of resuming them.
            workers: processes to split documents over (each loads the model).
            threads: torch threads per process (default: cores / workers; a run in this
                process leaves torch's setting alone unless it is given).
            isolate: read a batch of several documents in worker processes even with one
                worker, so that a crash in a native library (pdfium, torch) fails its document
                alone, not the run; False reads them in this process (nothing is spawned and a
                model loaded here is used). A single document is always read here.
            progress: ``progress(event, n)`` with the events of :mod:`.results`: ``total``
                (pages to do, once a document is open), ``page`` (written), ``failed``; it is
                called in this process, whichever process reads the document.

        Returns:
            Counts and failures; ``summary.exit_code`` is the CLI's exit status. A run that
            stops early says why in ``output_error`` (OUT unwritable) or ``internal_error``;
            after Ctrl-C ``interrupted`` is set (the pages written are complete).

        Raises:
            UsageError: a bad page range, worker or thread count, a device, quantize mode or
                model directory that cannot be used, or documents in OUT read with other
                settings than this run's (a resume would mix them); nothing is written then.
            OutputError: OUT cannot be created or written.
        """
        mode = text_layer or self.text_layer
        self._check_run(mode, pages, workers, threads)
        out = Path(out_dir)
        probe_writable(out)
        files, bad_inputs = expand_inputs(inputs)
        index = NameIndex(out)
        tasks = list(zip(files, index.assign(files)))
        self._refuse_mixing(tasks, out, pages, dpi, mode, overwrite)
        index.commit()
        errors = ErrorLog(out)
        errors.reset()
        summary = OCRSummary(documents=len(files) + len(bad_inputs))
        for f in bad_inputs:
            failure = PageFailure(f.doc, None, f.error, "input")
            summary.failures.append(failure)
            errors.add(f.doc, None, f.error, failure.kind)
        summary.documents_failed = len(bad_inputs)
        options = dict(pages=pages, dpi=dpi, text_layer=mode, overwrite=overwrite)
        in_process = len(tasks) <= 1 or (workers == 1 and not isolate)
        if in_process and threads is not None and mode != "only":
            import torch

            torch.set_num_threads(threads)
        factory = WorkerFactory(build_worker_ocr, replace(self.settings(), text_layer=mode),
                                threads or default_threads(workers))
        run_job(tasks, out, options, summary, local=self if in_process else None,
                factory=factory, workers=workers, progress=progress)
        return summary

    def _check_run(self, mode: str, pages: Pages, workers: int, threads: Optional[int]) -> None:
        """Raise :class:`UsageError` for a run that cannot start, before anything is written:
        the settings that need this machine (device, quantize mode, model directory) are
        checked only when the model may run."""
        try:
            _check_mode(mode)
            parse_pages(pages)
            if workers < 1:
                raise ValueError(f"workers must be positive, got {workers}")
            if threads is not None and threads < 1:
                raise ValueError(f"threads must be positive, got {threads}")
            if mode != "only":
                resolve_quantize(self.quantize, resolve_device(self.device))
                self.decoding_mode  # checks the model dir, and joint without a CTC head
        except (ValueError, ModelLoadError) as e:
            raise UsageError(str(e)) from e

    def _refuse_mixing(self, tasks: Sequence[tuple[Path, str]], out: Path, pages: Pages,
                       dpi: Optional[int], mode: str, overwrite: bool) -> None:
        """Raise :class:`UsageError` before any work when a resume would mix readings."""
        clashes = []
        for path, name in tasks:
            jsonl = out / f"{name}.jsonl"
            found = self.conflicts(path, load_done(jsonl), pages, dpi, mode, overwrite)
            if found:
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                clashes.append(f"  {jsonl}: {found[0]}{more}")
        if not clashes:
            return
        shown = clashes[:5] + ([f"  ... and {len(clashes) - 5} more documents"]
                               if len(clashes) > 5 else [])
        redo = ("use --overwrite without --pages to redo the whole documents"
                if overwrite else "add --overwrite to redo them")
        raise UsageError(
            f"{len(clashes)} document(s) in {out} were read otherwise than this run reads "
            f"({self._settings_line(dpi, mode)}); resuming would mix the two in one file:\n"
            + "\n".join(shown) + f"\nto resume, run with the settings they were read with; "
            f"{redo}; or write to another -o")

    def settings(self) -> OCRSettings:
        """The constructor's arguments, to rebuild an equal :class:`OCR` in a worker process."""
        return OCRSettings(self.model_dir, self.device, self.batch_size, self.dpi,
                           self.text_layer, self.generation, self.max_page_pixels, self.quantize,
                           self.decoding)


def _text_layer_blocks(document: Document, page: int) -> Optional[list["Block"]]:
    """A text-layer page's blocks from its lines' boxes and fonts (the layer its text was just
    read from: :meth:`~.pages.PdfDocument.layout` keeps it); None when that fails, and the record
    gets its blocks from its text."""
    try:
        return structure_page(text_layer_lines(document.layout(page)), page)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - the structure must never cost a page its text
        return None


def _ocr_blocks(text: str, prepared: PreparedPage, page: int) -> Optional[list["Block"]]:
    """An OCR'd page's blocks: its lines on the layout's geometry where the prepared page kept
    it (:attr:`~.line_reader.PagePieces.geometry`); None when that fails (blocks from the text)."""
    geometry = prepared.geometry if isinstance(prepared, PagePieces) else None
    try:
        return structure_page(ocr_lines(clean_text(text), geometry), page)
    except Exception:  # noqa: BLE001 - the structure must never cost a page its text
        return None


def _check_mode(mode: str) -> None:
    if mode not in TEXT_LAYER_MODES:
        raise ValueError(f"text_layer must be one of {', '.join(TEXT_LAYER_MODES)}, got {mode!r}")


def default_threads(workers: int) -> int:
    """Torch threads per worker process: the cores shared evenly, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


# ------------------------------------------------------------------------------------------------
# The options of ``docencoder ocr``
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CliOption:
    """A parameter of :class:`OCR` or :meth:`OCR.ocr_files` as ``docencoder ocr`` offers it.

    The CLI takes the default from the parameter's signature and the choices from
    :data:`OPTION_CHOICES`, and lets the API check the value: one source for each.
    """

    param: str  # the keyword argument
    flag: str  # the command-line flag
    help: str  # what it does; the default is appended from the signature
    metavar: Optional[str] = None
    #: how the flag's text is parsed; None = like the default's type (str when the default is None)
    type: Optional[type] = None


#: the values a parameter of the API accepts, where they are a closed set
OPTION_CHOICES: dict[str, tuple[str, ...]] = {"text_layer": TEXT_LAYER_MODES,
                                               "quantize": QUANTIZE_MODES,
                                               "decoding": DECODING_MODES}

#: the options of ``docencoder ocr`` that are API parameters, in ``--help`` order
CLI_OPTIONS = (
    CliOption("pages", "--pages", "pages to read, e.g. 1-3,7 or 5- (default: all); pages past "
              "the end of a document are reported", metavar="RANGES"),
    CliOption("dpi", "--dpi", "PDF rendering resolution"),
    CliOption("text_layer", "--text-layer", "auto: use a PDF's own text where trustworthy, OCR "
              "the rest; never: always OCR; only: never run the model"),
    CliOption("model_dir", "--model", "model directory (default: the model shipped in the "
              "package)", metavar="DIR"),
    CliOption("batch_size", "--batch-size", f"line pieces (or pages, for page models) per "
              f"decoding batch (default {DEFAULT_BATCH_SIZE})", type=int),
    CliOption("device", "--device", "cpu, cuda, cuda:N or auto"),
    CliOption("workers", "--workers", "processes to split documents over, each loading the "
              "model; with 1, several documents are still read in a worker process, so that a "
              "crash fails one document, not the run"),
    CliOption("threads", "--threads", "torch threads per process (default: cores / workers)",
              type=int),
    CliOption("quantize", "--quantize", "int8: dynamic int8 quantisation of the model's Linear "
              "layers at load time (faster on CPU); none: float32 as stored; auto: int8 on CPU, "
              "none on CUDA"),
    CliOption("decoding", "--decoding", "joint: CTC/attention beam search, reads what it sees "
              "(rare words, names, identifiers); greedy: the decoder alone, ~2.5x faster, "
              "guesses rare words more; auto: joint when the model has a CTC head"),
    CliOption("overwrite", "--overwrite", "redo the selected pages (with --pages) or whole "
              "documents already in OUT instead of resuming them"),
)


def option_default(param: str) -> Any:
    """The default of ``param`` in the signature of :class:`OCR` or :meth:`OCR.ocr_files`."""
    for function in (OCR.__init__, OCR.ocr_files):
        parameter = inspect.signature(function).parameters.get(param)
        if parameter is not None:
            return parameter.default
    raise KeyError(f"{param!r} is no parameter of OCR or OCR.ocr_files")
