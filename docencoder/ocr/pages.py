"""Inputs and pages: expanding INPUT arguments, page ranges, and rendering one page at a time.

A batch job may hold thousands of pages, so a document is never rendered whole: a
:class:`Document` opens the file lazily (pypdfium2 reads objects on demand) and renders the page
that is asked for, which keeps memory flat however long the PDF is. PDFs are opened, rendered and
their text layers read by :mod:`docencoder.pdf` (the same code builds the training data); every
way a file can be bad — missing, unreadable, empty, not what its name says, encrypted, corrupt,
truncated, absurdly large pages — becomes a :class:`DocumentError` or :class:`PageError` with a
message a user can act on.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional, Sequence

from PIL import Image

from docencoder.pdf.document import DocumentError, PageError, check_readable, open_pdf
from docencoder.pdf.render import MAX_PAGE_PIXELS, render_page
from docencoder.pdf.textlayer import TextLayerPage, read_page

__all__ = ["MAX_PAGE_PIXELS", "Document", "DocumentError", "ImageDocument", "PageError",
           "PdfDocument", "expand_inputs", "image_dpi", "open_document", "parse_pages",
           "select_pages", "to_gray"]

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
SUPPORTED_SUFFIXES = PDF_SUFFIXES + IMAGE_SUFFIXES
_GLOB_CHARS = "*?["


# ------------------------------------------------------------------------------------------------
# Page ranges
# ------------------------------------------------------------------------------------------------

def parse_pages(spec: Optional[str | Sequence[int]]) -> Optional[list[int]]:
    """Parse a page selection: ``"1-3,7"`` -> ``[1, 2, 3, 7]``; None means every page.

    The page count differs between documents, so an open range ``"5-"`` (page 5 to the end) is
    kept as the marker ``-5`` and expanded per document by :func:`select_pages`. A sequence of ints
    is accepted as well (the Python API).

    Raises:
        ValueError: for an empty part, a non-number, a page < 1 or a reversed range.
    """
    if spec is None:
        return None
    if not isinstance(spec, str):
        pages = sorted({int(p) for p in spec})
        if any(p < 1 for p in pages):
            raise ValueError(f"pages are 1-based, got {pages}")
        return pages
    out: set[int] = set()
    for part in spec.replace(" ", "").split(","):
        if not part:
            raise ValueError(f"bad page range {spec!r}: empty part (use e.g. 1-3,7)")
        lo, sep, hi = part.partition("-")
        try:
            first = int(lo)
            last = int(hi) if hi else None
        except ValueError:
            raise ValueError(f"bad page range {spec!r}: {part!r} is not N or N-M") from None
        if first < 1 or (last is not None and last < first):
            raise ValueError(f"bad page range {spec!r}: {part!r} (pages are 1-based, ranges ascend)")
        if sep and last is None:
            out.add(-first)  # open end: from `first` to the last page
        else:
            out.update(range(first, (last if last is not None else first) + 1))
    return sorted(out, key=abs)


def select_pages(pages: Optional[Sequence[int]], n_pages: int) -> list[int]:
    """The 1-based pages of a document of ``n_pages`` that ``pages`` asks for and it has
    (:func:`pages_past_end` names the others)."""
    if pages is None:
        return list(range(1, n_pages + 1))
    chosen: set[int] = set()
    for p in pages:
        if p < 0:
            chosen.update(range(-p, n_pages + 1))
        elif p <= n_pages:
            chosen.add(p)
    return sorted(chosen)


def pages_past_end(pages: Optional[Sequence[int]], n_pages: int) -> str:
    """The part of a selection a document of ``n_pages`` does not have, as a range ("" if none).

    Why: ``--pages 999`` on a 29-page PDF must say so, not write an empty output and exit 0.
    """
    if pages is None:
        return ""
    missing = [p for p in pages if p > n_pages]
    opened = [-p for p in pages if p < 0 and -p > n_pages]
    parts = [format_pages(missing)] if missing else []
    parts += [f"{p}-" for p in opened]
    return ",".join(parts)


def in_selection(page: int, pages: Optional[Sequence[int]]) -> bool:
    """Whether ``pages`` (as :func:`parse_pages` returns it) asks for ``page``, whatever the
    document's length."""
    return pages is None or page in pages or any(p < 0 and page >= -p for p in pages)


def format_pages(pages: Sequence[int]) -> str:
    """``[1, 2, 3, 7]`` -> ``"1-3,7"``."""
    runs: list[list[int]] = []
    for p in sorted(set(pages)):
        if runs and p == runs[-1][-1] + 1:
            runs[-1].append(p)
        else:
            runs.append([p])
    return ",".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)


# ------------------------------------------------------------------------------------------------
# INPUT arguments -> files
# ------------------------------------------------------------------------------------------------

@dataclass
class InputFailure:
    """An INPUT argument that named no readable document."""

    doc: str
    error: str


def expand_inputs(inputs: Iterable[str | Path]) -> tuple[list[Path], list[InputFailure]]:
    """Files to OCR from INPUT arguments: files, directories (recursive) and glob patterns.

    Directories and globs contribute only supported files (PDF, PNG, JPEG, TIFF), sorted; a file
    named explicitly is taken whatever its suffix, so that a mislabelled file is reported, not
    silently skipped. Duplicates (the same file reached twice) are dropped.
    """
    files: list[Path] = []
    failures: list[InputFailure] = []
    seen: set[str] = set()

    def add(p: Path) -> None:
        key = os.path.realpath(p)
        if key not in seen:
            seen.add(key)
            files.append(p)

    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*")
                           if p.suffix.lower() in SUPPORTED_SUFFIXES and not p.is_dir())
            if not found:
                failures.append(InputFailure(text, "directory holds no PDF or image files"))
            for p in found:
                add(p)
        elif path.exists() or path.is_symlink():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                failures.append(InputFailure(
                    text, f"unsupported file type {path.suffix or '(none)'!r}: expected one of "
                          f"{', '.join(SUPPORTED_SUFFIXES)}"))
            else:
                add(path)
        elif any(c in text for c in _GLOB_CHARS):
            found = sorted(Path(p) for p in glob.glob(text, recursive=True)
                           if Path(p).suffix.lower() in SUPPORTED_SUFFIXES and not Path(p).is_dir())
            if not found:
                failures.append(InputFailure(text, "pattern matches no PDF or image files"))
            for p in found:
                add(p)
        else:
            failures.append(InputFailure(text, "no such file or directory"))
    return files, failures


# ------------------------------------------------------------------------------------------------
# Documents
# ------------------------------------------------------------------------------------------------

class Document:
    """An open input whose pages are rendered on demand. Use as a context manager."""

    path: Path
    is_pdf: bool = False

    @property
    def n_pages(self) -> int:
        raise NotImplementedError

    def render(self, page: int, dpi: int) -> tuple[Image.Image, int]:
        """Grayscale image of a 1-based page and the dpi it stands for (0 when unknown)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""

    def __enter__(self) -> "Document":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


#: pages read through one pdfium handle before :class:`PdfDocument` reopens the file. pdfium
#: keeps what it parsed (fonts, images, colour spaces) until the document is closed, ~0.5 MiB a
#: page when pages share no resources: a 500-page PDF grew the process by 1.26-1.29x of a
#: 10-page one (``docencoder bench memory``), 1.01x with the reopen, at no measured speed cost
#: (the cross-reference table is parsed again once per this many pages).
REOPEN_EVERY_PAGES = 32


class PdfDocument(Document):
    """A PDF, open for the length of a job; pages are rendered one at a time and closed at once."""

    is_pdf = True

    def __init__(self, path: str | Path, max_pixels: int = MAX_PAGE_PIXELS) -> None:
        self.path = Path(path)
        self.max_pixels = max_pixels
        self._pdf = open_pdf(self.path, check_file=True)
        self._uses = 0  # pages read through the current handle
        self._n = len(self._pdf)
        #: the text layer read last, (1-based page, layer): :meth:`text` then :meth:`layout` of
        #: one page (the text, then its structure) read it once
        self._last: Optional[tuple[int, TextLayerPage]] = None

    def _handle(self):
        """The pdfium document for the next page read, reopened every
        :data:`REOPEN_EVERY_PAGES` pages to drop pdfium's caches."""
        self._uses += 1
        if self._uses > REOPEN_EVERY_PAGES:
            self._pdf.close()
            self._pdf = open_pdf(self.path)
            self._uses = 1
        return self._pdf

    @property
    def n_pages(self) -> int:
        return self._n

    def text(self, page: int) -> str:
        """The text layer of a 1-based page in reading order (:mod:`docencoder.pdf.textlayer`:
        the same reading as the training data's), from the document already open."""
        return self.layout(page).text

    def layout(self, page: int) -> TextLayerPage:
        """The text layer of a 1-based page in the page's displayed, upright frame, like its
        render."""
        if self._last is not None and self._last[0] == page:
            return self._last[1]
        layer = read_page(self._handle(), page - 1)
        self._last = (page, layer)
        return layer

    def page_size(self, page: int) -> tuple[float, float]:
        """(width, height) of a 1-based page in points."""
        p = self._pdf[page - 1]
        try:
            return p.get_size()
        finally:
            p.close()

    def render(self, page: int, dpi: int) -> tuple[Image.Image, int]:
        return render_page(self._handle(), page - 1, dpi, self.max_pixels), dpi

    def close(self) -> None:
        self._last = None
        self._pdf.close()


class ImageDocument(Document):
    """A PNG/JPEG image, or a TIFF whose frames are its pages."""

    def __init__(self, path: str | Path, max_pixels: int = MAX_PAGE_PIXELS) -> None:
        self.path = Path(path)
        check_readable(self.path)
        try:
            self._img = Image.open(self.path)
            self._img.verify()  # reads the whole file: catches truncation and bad checksums
            self._img = Image.open(self.path)
        except Image.DecompressionBombError as e:
            raise DocumentError(f"image too large: {e}") from e
        except Exception as e:  # PIL raises many types for bad files
            raise DocumentError(f"not a readable image ({type(e).__name__}: {e})") from e
        self._n = getattr(self._img, "n_frames", 1)
        w, h = self._img.size
        if w * h > max_pixels:
            self._img.close()
            raise DocumentError(f"image is {w} x {h} = {w * h / 1e6:.0f} megapixels, above the cap "
                                f"of {max_pixels / 1e6:.0f}")
        self._dpi = image_dpi(self._img)

    @property
    def n_pages(self) -> int:
        return self._n

    def render(self, page: int, dpi: int) -> tuple[Image.Image, int]:
        try:
            self._img.seek(page - 1)
            return to_gray(self._img), self._dpi
        except Exception as e:
            raise PageError(f"cannot decode frame {page}: {type(e).__name__}: {e}") from e

    def close(self) -> None:
        self._img.close()


#: a stated resolution below this is no resolution: PIL reports a TIFF whose unit is "none" and
#: a JPEG whose JFIF density is only an aspect ratio as 1 dpi (or 72, which is kept: it is real
#: for some screenshots)
MIN_STATED_DPI = 10


def image_dpi(img: Image.Image) -> int:
    """The resolution an image file states, or 0 when it states none (the ``dpi`` field)."""
    dpi = img.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        return 0
    if not value == value or value < MIN_STATED_DPI:  # NaN or no real resolution
        return 0
    return int(round(value))


def to_gray(img: Image.Image) -> Image.Image:
    """8-bit grayscale of any PIL image: 16-bit/float scans are rescaled (a plain ``convert``
    would clip them to white) and transparency is flattened onto white paper."""
    import numpy as np

    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        a = np.asarray(img, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.full(a.shape, 255.0)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(paper, rgba).convert("L")
    return img.convert("L")


def open_document(path: str | Path, max_pixels: int = MAX_PAGE_PIXELS) -> Document:
    """Open a PDF or image input by its suffix.

    Raises:
        DocumentError: with a message naming what is wrong with the file.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return PdfDocument(p, max_pixels)
    if suffix in IMAGE_SUFFIXES:
        return ImageDocument(p, max_pixels)
    raise DocumentError(f"unsupported file type {suffix or '(none)'!r}")
