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

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional, Sequence, Union

from PIL import Image

from .pages import (MAX_PAGE_PIXELS, Document, DocumentError, PageError, expand_inputs,
                    open_document, output_names, parse_pages, select_pages)
from .reader import DEFAULT_BATCH_SIZE, QUANTIZE_MODES, GenerationConfig, ModelLoadError, Reader
from .writers import DocumentWriter, ErrorLog, PageResult

__all__ = ["OCR", "OCRError", "OCRSummary", "PageFailure", "PageResult"]

TEXT_LAYER_MODES = ("auto", "never", "only")
#: the ``model`` field of pages taken from a PDF's own text layer
TEXT_LAYER_MODEL = "text-layer"
#: most pages held between rendering and decoding (bounds memory when pages have few lines)
WINDOW_PAGES = 16

Pages = Union[None, str, Sequence[int]]


class OCRError(Exception):
    """A document or page could not be read (raised by :meth:`OCR.read`)."""


@dataclass
class PageFailure:
    """A page (or, with ``page=None``, a whole document) that failed, and why."""

    doc: str
    page: Optional[int]
    error: str


@dataclass
class DocSummary:
    """Counts for one document of a batch job."""

    doc: str
    pages_done: int = 0
    pages_skipped: int = 0  # already in OUT from an earlier run
    failures: list[PageFailure] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class OCRSummary:
    """Result of :meth:`OCR.ocr_files`."""

    documents: int = 0  # inputs attempted
    documents_failed: int = 0  # inputs with at least one failure
    pages: int = 0  # pages written in this run
    pages_skipped: int = 0  # pages already in OUT
    failures: list[PageFailure] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds if self.seconds > 0 else 0.0

    @property
    def exit_code(self) -> int:
        """0 when everything was done, 1 when some inputs failed (130 when interrupted)."""
        if self.interrupted:
            return 130
        return 1 if self.failures else 0

    def line(self) -> str:
        return (f"{self.documents} documents ({self.documents_failed} with failures), "
                f"{self.pages} pages written, {self.pages_skipped} already done, "
                f"{len(self.failures)} failures, {self.seconds:.1f} s, "
                f"{self.pages_per_second:.2f} pages/s")


@dataclass
class _Pending:
    """A page between rendering and emission."""

    page: int
    dpi: int
    seconds: float  # time spent so far (text layer, rendering, layout)
    text: Optional[str] = None  # set for text-layer pages
    pieces: object = None  # PagePieces (line models) or a page image (page models)
    failure: Optional[str] = None

    def weight(self) -> int:
        count = getattr(self.pieces, "count", None)
        return count if count is not None else (1 if self.pieces is not None else 0)


class OCR:
    """Batch OCR of PDFs and images with a DocEncoder model.

    Args:
        model_dir: a model directory (``model.safetensors``, ``config.json``, ``tokenizer.json``);
            None = the model shipped in the package. Loaded on first use, so a text-layer-only
            job never loads it.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.
        batch_size: line pieces (or pages, for page models) per generate call; None =
            :data:`~docencoder.ocr.reader.DEFAULT_BATCH_SIZE` (64; on CPU encoded in chunks of 16).
        dpi: rendering resolution of PDF pages.
        text_layer: ``auto`` (a PDF's own text where :func:`text_layer_quality` trusts it, OCR
            elsewhere), ``never`` (always read pixels) or ``only`` (never run the model).
        generation: token caps and repetition guard.
        max_page_pixels: pages larger than this at ``dpi`` are reported, not rendered.
        quantize: ``auto`` (int8 Linear layers on CPU, none on CUDA), ``int8`` or ``none``; the
            output's ``model`` field names the weights either way.
    """

    def __init__(self, model_dir: Optional[str | Path] = None, device: str = "cpu",
                 batch_size: Optional[int] = None, dpi: int = 150, text_layer: str = "auto",
                 generation: Optional[GenerationConfig] = None,
                 max_page_pixels: int = MAX_PAGE_PIXELS, quantize: str = "auto") -> None:
        _check_mode(text_layer)
        if quantize not in QUANTIZE_MODES:
            raise ValueError(f"quantize must be one of {', '.join(QUANTIZE_MODES)}, "
                             f"got {quantize!r}")
        if dpi < 1:
            raise ValueError(f"dpi must be positive, got {dpi}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model_dir = model_dir
        self.device = device
        self.batch_size = batch_size
        self.dpi = dpi
        self.text_layer = text_layer
        self.generation = generation
        self.max_page_pixels = max_page_pixels
        self.quantize = quantize
        self._reader: Optional[Reader] = None

    @property
    def reader(self) -> Reader:
        """The loaded model (loads it on first access)."""
        if self._reader is None:
            self._reader = Reader(self.model_dir, self.device, self.batch_size, self.generation,
                                  quantize=self.quantize)
        return self._reader

    @property
    def model_id(self) -> str:
        return self.reader.model_id

    # ------------------------------------------------------------------ single documents
    def read(self, path: str | Path, pages: Pages = None, dpi: Optional[int] = None,
             text_layer: Optional[str] = None) -> list[PageResult]:
        """Read one PDF or image; the selected pages in order.

        Args:
            path: a PDF, PNG, JPEG or TIFF file.
            pages: 1-based pages (``"1-3,7"`` or a list); None = all. Pages past the end are ignored.
            dpi: overrides the instance's ``dpi``.
            text_layer: overrides the instance's ``text_layer`` mode.

        Raises:
            OCRError: the document, or one of its pages, cannot be read.
        """
        out = []
        for item in self.iter_pages(path, pages, dpi, text_layer):
            if isinstance(item, PageFailure):
                where = f"page {item.page} of " if item.page else ""
                raise OCRError(f"{where}{path}: {item.error}")
            out.append(item)
        return out

    def read_image(self, image: Image.Image) -> str:
        """Text of one page or line image (a PIL image in any mode)."""
        return self.reader.read_image(image)

    def iter_pages(self, path: str | Path, pages: Pages = None, dpi: Optional[int] = None,
                   text_layer: Optional[str] = None, skip: frozenset[int] = frozenset(),
                   on_open: Optional[Callable[[int], None]] = None
                   ) -> Iterator[Union[PageResult, PageFailure]]:
        """Pages of one document as they complete, in page order; failures are yielded, not raised.

        Args:
            skip: pages not to do (already written by an earlier run).
            on_open: called with the number of pages to do once the document is open.
        """
        mode = text_layer or self.text_layer
        _check_mode(mode)
        dpi = dpi or self.dpi
        doc = str(path)
        try:
            wanted = parse_pages(pages)
            document = open_document(path, self.max_page_pixels)
        except (DocumentError, ValueError) as e:
            yield PageFailure(doc, None, str(e))
            return
        with document:
            todo = [p for p in select_pages(wanted, document.n_pages) if p not in skip]
            if on_open is not None:
                on_open(len(todo))
            if mode == "only" and not document.is_pdf:
                yield PageFailure(doc, None, "an image has no text layer (--text-layer only "
                                             "never runs the model)")
                return
            window: list[_Pending] = []
            for page in todo:
                window.append(self._prepare(document, page, dpi, mode))
                if (sum(p.weight() for p in window) >= max(self.batch_size or 0, DEFAULT_BATCH_SIZE)
                        or len(window) >= WINDOW_PAGES):
                    yield from self._emit(doc, window)
                    window = []
            yield from self._emit(doc, window)

    def _prepare(self, document: Document, page: int, dpi: int, mode: str) -> _Pending:
        """Text layer, or render + layout: everything for one page short of decoding."""
        t0 = time.perf_counter()
        if document.is_pdf and mode != "never":
            from docencoder.data.textlayer import page_text, text_layer_quality

            try:
                text = page_text(document.path, page - 1)
            except Exception as e:  # noqa: BLE001 - any failure of the text layer is per page
                if mode == "only":
                    return _Pending(page, 0, time.perf_counter() - t0,
                                    failure=f"cannot read the text layer: {e}")
                text = ""
            if mode == "only" or text_layer_quality(text)[0]:
                return _Pending(page, 0, time.perf_counter() - t0, text=text.strip())
        try:
            image, used_dpi = document.render(page, dpi)
            if self.reader.is_line_model:
                pieces: object = self.reader.page_pieces(image)
            else:
                pieces = image
        except PageError as e:
            return _Pending(page, 0, time.perf_counter() - t0, failure=str(e))
        except ModelLoadError:
            raise  # a configuration error, not a bad page: every page would fail the same way
        except Exception as e:  # noqa: BLE001 - a bad page must not stop the document
            return _Pending(page, 0, time.perf_counter() - t0,
                            failure=f"cannot read page: {type(e).__name__}: {e}")
        return _Pending(page, used_dpi, time.perf_counter() - t0, pieces=pieces)

    def _emit(self, doc: str, window: list[_Pending]) -> Iterator[Union[PageResult, PageFailure]]:
        """Decode a window's pending pages together and yield every page of it in order."""
        ocr = [p for p in window if p.pieces is not None]
        texts: list[str] = []
        if ocr:
            t0 = time.perf_counter()
            try:
                if self.reader.is_line_model:
                    texts = self.reader.read_page_pieces([p.pieces for p in ocr])
                else:
                    texts = self.reader.read_pages([p.pieces for p in ocr])
            except Exception as e:  # noqa: BLE001 - report the window's pages, go on
                for p in ocr:
                    p.failure = f"generation failed: {type(e).__name__}: {e}"
                    p.pieces = None
                ocr = []
            spent = time.perf_counter() - t0
            total = sum(max(p.weight(), 1) for p in ocr) or 1
            for p, text in zip(ocr, texts):
                p.seconds += spent * max(p.weight(), 1) / total
                p.text = text
        for p in window:
            if p.failure is not None:
                yield PageFailure(doc, p.page, p.failure)
            elif p.pieces is not None:
                yield PageResult(doc, p.page, p.text or "", "ocr", self.reader.model_id, p.dpi,
                                 p.seconds)
            else:
                yield PageResult(doc, p.page, p.text or "", "text-layer", TEXT_LAYER_MODEL, 0,
                                 p.seconds)

    # ------------------------------------------------------------------ batch jobs
    def ocr_document(self, path: str | Path, name: str, out_dir: str | Path, pages: Pages = None,
                     dpi: Optional[int] = None, text_layer: Optional[str] = None,
                     overwrite: bool = False,
                     progress: Optional[Callable[[str, int], None]] = None) -> DocSummary:
        """OCR one document into ``out_dir/<name>.jsonl`` and ``.md``, resuming what is there.

        Failures go to ``out_dir/errors.jsonl``. ``progress(event, n)`` is called with
        ``("total", pages to do)`` once open, ``("page", 1)`` per written page and
        ``("failed", 1)`` per failed page.
        """
        out = Path(out_dir)
        writer = DocumentWriter(out, name, overwrite)
        errors = ErrorLog(out)
        summary = DocSummary(str(path), pages_skipped=len(writer.done))
        t0 = time.perf_counter()

        def opened(n: int) -> None:
            if progress:
                progress("total", n)

        for item in self.iter_pages(path, pages, dpi, text_layer, frozenset(writer.done), opened):
            if isinstance(item, PageFailure):
                summary.failures.append(item)
                errors.add(item.doc, item.page, item.error)
            else:
                writer.write(item)
                summary.pages_done += 1
            if progress and not isinstance(item, PageFailure):
                progress("page", 1)
            elif progress and item.page is not None:
                progress("failed", 1)
        writer.finish()
        summary.seconds = time.perf_counter() - t0
        return summary

    def ocr_files(self, inputs: Sequence[str | Path], out_dir: str | Path, pages: Pages = None,
                  dpi: Optional[int] = None, text_layer: Optional[str] = None,
                  overwrite: bool = False, workers: int = 1, show_progress: bool = True,
                  threads: Optional[int] = None) -> OCRSummary:
        """OCR every input (files, directories, globs) into ``out_dir``; resumable.

        Args:
            inputs: PDF/image files, directories (searched recursively) or glob patterns.
            out_dir: gets ``<name>.jsonl`` + ``<name>.md`` per document and ``errors.jsonl``.
            pages: page selection applied to every document.
            overwrite: redo documents already (partly) in ``out_dir`` instead of resuming.
            workers: processes to split documents over (each loads the model).
            show_progress: a tqdm bar and a closing summary on stderr.
            threads: torch threads per worker process (default: cores / workers).

        Returns:
            Counts and failures; ``summary.exit_code`` is the CLI's exit status.
        """
        from .jobs import run_job

        parse_pages(pages)  # a bad range is a usage error before any work
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        errors = ErrorLog(out)
        errors.reset()
        files, bad_inputs = expand_inputs(inputs)
        summary = OCRSummary(documents=len(files) + len(bad_inputs))
        for f in bad_inputs:
            failure = PageFailure(f.doc, None, f.error)
            summary.failures.append(failure)
            errors.add(f.doc, None, f.error)
        summary.documents_failed = len(bad_inputs)
        tasks = list(zip(files, output_names(files)))
        options = dict(pages=pages, dpi=dpi, text_layer=text_layer, overwrite=overwrite)
        run_job(self, tasks, out, options, workers, show_progress, summary,
                threads or default_threads(workers))
        if show_progress:
            print(f"docencoder ocr: {summary.line()}", file=sys.stderr)
            if summary.failures:
                print(f"docencoder ocr: failures are listed in {errors.path}", file=sys.stderr)
        return summary

    def settings(self) -> dict:
        """Constructor arguments, to rebuild an equal :class:`OCR` in a worker process."""
        return dict(model_dir=self.model_dir, device=self.device, batch_size=self.batch_size,
                    dpi=self.dpi, text_layer=self.text_layer, generation=self.generation,
                    max_page_pixels=self.max_page_pixels, quantize=self.quantize)


def _check_mode(mode: str) -> None:
    if mode not in TEXT_LAYER_MODES:
        raise ValueError(f"text_layer must be one of {', '.join(TEXT_LAYER_MODES)}, got {mode!r}")


def default_threads(workers: int) -> int:
    """Torch threads per worker process: the cores shared evenly, at least one."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))
