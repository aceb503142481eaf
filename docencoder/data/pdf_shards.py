"""Digital PDFs -> (page image, text) and (line image, text) shards: ``docencoder data from-pdfs``.

Each page is read twice from one open document: its text layer (:mod:`docencoder.pdf.textlayer`,
checked by :func:`docencoder.pdf.trust.page_quality`) and its pixels
(:func:`docencoder.pdf.render.render_page`, the renderer the CLI uses), then cut into samples by
:mod:`.crops`. Documents are read one page at a time, so memory stays flat for long manuals.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

from docencoder.pdf.document import PageError, PdfInput, open_pdf
from docencoder.pdf.render import render_page
from docencoder.pdf.textlayer import read_page
from docencoder.pdf.trust import UNMAPPED_REASON, page_quality

from .crops import block_crops, line_crops, word_spans

PathLike = Union[str, Path]
#: pages per run of consecutive pages that :func:`spread_pages` picks
PAGE_RUN = 8


def spread_pages(n_pages: int, max_pages: Optional[int], run: int = PAGE_RUN) -> list[int]:
    """Up to ``max_pages`` page indices spread evenly through a document, in runs of pages.

    Why: the first pages of a manual are title, licence and table of contents; a 600-page manual
    cut at 100 pages never shows its math or code chapters. Pages come in runs of consecutive
    pages (at most ``run`` long, and at least four runs): the selection shards were built with
    when poppler rendered one run per call, kept so a rebuild reads the same pages.
    """
    if max_pages is None or n_pages <= max_pages:
        return list(range(n_pages))
    run = max(1, min(run, max_pages // 4))
    n_runs = math.ceil(max_pages / run)
    step = (n_pages - run) / max(1, n_runs - 1)  # >= run, since n_pages > max_pages
    pages: list[int] = []
    for k in range(n_runs):
        start = round(k * step)
        pages.extend(p for p in range(start, min(n_pages, start + run)) if not pages or p > pages[-1])
    return pages[:max_pages]


@dataclass
class PageSamples:
    """The samples cut from one page, or why the page was skipped."""

    index: int
    ok: bool
    reason: str  # "ok" or why the text layer is not trusted
    samples: list = field(default_factory=list)  # (kind, image, text, meta)


def pdf_samples(pdf: PdfInput, dpi: int = 150, kinds: Sequence[str] = ("page", "line"),
                max_pages: Optional[int] = None, spread: bool = False) -> Iterator[PageSamples]:
    """(page image, page text) and (line image, line text) pairs from a digital PDF.

    Pages whose text layer fails :func:`page_quality` are yielded with ``ok=False`` so callers
    can count them; they carry no page sample, and line samples only when the failure is
    unmapped glyphs (then the lines free of U+FFFD are still exact: e.g. prose around code set in
    a Type 3 font).

    Line samples carry ``meta["words"]``: each word's pixel columns in the crop
    (:func:`word_spans`), when the text layer gives them.

    Args:
        max_pages: read at most this many pages: the first ones, or with ``spread`` runs of
            pages spread through the document (:func:`spread_pages`).

    Raises:
        ValueError: the PDF cannot be opened.
    """
    doc = open_pdf(pdf)
    try:
        n_pages = len(doc)
        if spread:
            pages = spread_pages(n_pages, max_pages)
        else:
            pages = list(range(n_pages if max_pages is None else min(n_pages, max_pages)))
        for index in pages:
            yield _page_samples(doc, index, dpi, kinds)
    finally:
        doc.close()


def _page_samples(doc, index: int, dpi: int, kinds: Sequence[str]) -> PageSamples:
    """The samples of page ``index`` of an open PDF (see :func:`pdf_samples`)."""
    layout = read_page(doc, index)
    ok, reason = page_quality(layout)
    # unmapped glyphs spoil the page text, but lines without any are still exact
    lines_only = not ok and reason.startswith(UNMAPPED_REASON)
    if not ok and not lines_only:
        return PageSamples(index, False, reason)
    try:
        image = render_page(doc, index, dpi)
    except PageError as e:
        return PageSamples(index, False, f"not rendered: {e}")
    result = PageSamples(index, ok, reason)
    base = {"page": index, "dpi": dpi}
    if "page" in kinds and ok:
        result.samples.append(("page", image, layout.text, {**base, "kind": "page"}))
    if "block" in kinds:
        for n, (crop, text, box) in enumerate(block_crops(layout, image)):
            result.samples.append(("block", crop, text, {
                **base, "kind": "block", "block": n, "box": list(box)}))
    if "line" in kinds:
        for n, (crop, line, box) in enumerate(line_crops(layout, image)):
            meta = {**base, "kind": "line", "line": n, "box": list(box), "pt": round(line.height, 2)}
            spans = word_spans(line, layout, image.size, box)
            if spans is not None:
                meta["words"] = spans
            result.samples.append(("line", crop, line.text, meta))
    return result


def find_pdfs(input_dir: PathLike) -> list[Path]:
    """Every ``*.pdf`` under ``input_dir`` (recursively, case-insensitive), sorted."""
    root = Path(input_dir)
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() == ".pdf")


def from_pdfs(input_dir: PathLike, out_dir: PathLike, dpi: int = 150,
              max_pages: Optional[int] = None, kinds: Sequence[str] = ("page", "line"),
              shard_samples: int = 2000, log=print, spread: bool = False) -> dict:
    """Turn a directory of digital PDFs into (page image, text) and (line image, text) shards.

    Resumable: a PDF is recorded as completed in the manifest together with its last shard, so a
    re-run skips it; shards of a PDF that was interrupted half-way are dropped and the PDF is
    redone (each PDF's samples go to shards of their own, see :class:`.shards.ShardWriter`).
    Corrupt or encrypted files are reported and recorded as skipped, never fatal.
    ``max_pages`` and ``spread`` choose the pages read (:func:`pdf_samples`).

    Returns:
        Counts: ``pdfs`` done now, ``already_done``, ``failed`` {file: reason}, ``pages``,
        ``broken_pages`` {reason: count} (such pages give no page sample; see
        :func:`pdf_samples` for the line samples kept from pages with unmapped glyphs),
        ``samples`` per kind and ``lines_with_words`` (line samples that carry word spans).
    """
    from .shards import ShardWriter, safe_key

    root = Path(input_dir)
    pdfs = find_pdfs(root)
    summary: dict = {"pdfs": 0, "already_done": 0, "failed": {}, "pages": 0,
                     "broken_pages": {}, "samples": {k: 0 for k in kinds}, "lines_with_words": 0}
    with ShardWriter(out_dir, prefix="pdf", max_samples=shard_samples) as writer:
        for path in pdfs:
            source = path.relative_to(root).as_posix()
            if source in writer.manifest["completed"] or source in writer.manifest["skipped"]:
                summary["already_done"] += 1
                continue
            writer.discard_source(source)  # leftovers of an interrupted attempt
            stem = safe_key(path.stem)[:40]
            tag = hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]
            pages = broken = 0
            try:
                for result in pdf_samples(path, dpi=dpi, kinds=kinds, max_pages=max_pages,
                                          spread=spread):
                    pages += 1
                    if not result.ok:
                        broken += 1
                        reason = result.reason.split(":")[0].split(" (")[0]
                        summary["broken_pages"][reason] = summary["broken_pages"].get(reason, 0) + 1
                    for kind, image, text, meta in result.samples:
                        suffix = f"p{meta['page']:05d}" + (f"-l{meta['line']:03d}" if kind == "line" else "")
                        writer.write(f"{stem}-{tag}-{suffix}", image, text, {**meta, "source": source})
                        summary["samples"][kind] += 1
                        summary["lines_with_words"] += "words" in meta
            except Exception as e:  # noqa: BLE001 - one bad file must not stop the batch
                writer.abort()
                writer.discard_source(source)
                reason = f"{type(e).__name__}: {e}"
                summary["failed"][source] = reason
                writer.mark_skipped(source, reason)
                log(f"skipped {source}: {reason}")
                continue
            writer.mark_done(source, {"pages": pages, "broken_pages": broken})
            writer.flush()  # the PDF's last shard and its completion are committed together
            summary["pdfs"] += 1
            summary["pages"] += pages
            log(f"{source}: {pages} pages ({broken} with a broken text layer)")
    return summary
