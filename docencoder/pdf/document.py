"""Open PDFs with errors a user can act on; page counts and page boxes.

Every way a PDF can be bad (missing, unreadable, empty, not a PDF at all, encrypted, corrupt,
truncated, an empty page tree) becomes a :class:`DocumentError` naming the problem, and a page
that cannot be loaded or rendered a :class:`PageError`. Both derive from :class:`ValueError`, which
the training pipeline has always caught for a file it skips.

Box convention here: PDF user space, points (1/72 in), ``(left, bottom, right, top)``, y up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Union

#: a PDF given as a file path or as the bytes of the file
PdfInput = Union[str, Path, bytes]
#: (left, bottom, right, top) in PDF points, y up
PdfBox = tuple[float, float, float, float]
#: points per inch in PDF user space
POINTS_PER_INCH = 72.0
#: a PDF's header must appear within this many leading bytes (the spec allows leading junk)
PDF_MAGIC_WINDOW = 1024


class DocumentError(ValueError):
    """A whole input cannot be read (missing, corrupt, encrypted, not a PDF/image, ...)."""


class PageError(ValueError):
    """One page cannot be read; the document's other pages still can."""


def check_readable(path: Path) -> None:
    """Raise :class:`DocumentError` unless ``path`` is a readable, non-empty file."""
    if not path.exists():
        raise DocumentError("no such file (a broken link?)" if path.is_symlink() else "no such file")
    if path.is_dir():
        raise DocumentError("is a directory")
    try:
        with open(path, "rb") as f:
            f.read(1)
    except OSError as e:
        raise DocumentError(f"cannot read file: {e.strerror or e}") from e
    if path.stat().st_size == 0:
        raise DocumentError("empty file (0 bytes)")


def _describe(pdf: PdfInput) -> str:
    return f"<{len(pdf)} bytes of PDF>" if isinstance(pdf, bytes) else str(pdf)


def open_pdf(pdf: PdfInput, check_file: bool = False):
    """Open a PDF (path or bytes) as a ``pypdfium2.PdfDocument``; the caller closes it.

    Args:
        pdf: a path or the bytes of the file.
        check_file: for a path, first check that it is a readable, non-empty file whose first
            :data:`PDF_MAGIC_WINDOW` bytes hold a ``%PDF-`` header (the CLI's checks: a
            mislabelled file is reported as what it is, not as a corrupt PDF), and that the page
            tree is countable and not empty.

    Raises:
        DocumentError: naming the file and whether it is encrypted, corrupt or not a PDF.
    """
    import pypdfium2 as pdfium

    if check_file and not isinstance(pdf, bytes):
        path = Path(pdf)
        check_readable(path)
        with open(path, "rb") as f:
            head = f.read(PDF_MAGIC_WINDOW)
        if b"%PDF-" not in head:
            raise DocumentError(f"not a PDF (no %PDF- header; the file starts with {head[:16]!r})")
    try:
        doc = pdfium.PdfDocument(pdf if isinstance(pdf, bytes) else str(pdf))
    except pdfium.PdfiumError as e:
        msg = str(e)
        if not check_file:
            raise DocumentError(f"cannot open {_describe(pdf)}: {msg}") from e
        if "password" in msg.lower():
            raise DocumentError("encrypted PDF: a password is required to open it") from e
        raise DocumentError(f"corrupt or truncated PDF: {msg}") from e
    if check_file:
        try:
            n = len(doc)
        except Exception as e:  # pdfium can fail late on a broken page tree
            doc.close()
            raise DocumentError(f"corrupt PDF: cannot count pages ({e})") from e
        if n == 0:
            doc.close()
            raise DocumentError("PDF has no pages (corrupt or truncated?)")
    return doc


def page_count(pdf: PdfInput) -> int:
    """Pages of a PDF.

    Raises:
        DocumentError: the file cannot be opened.
    """
    doc = open_pdf(pdf)
    try:
        return len(doc)
    finally:
        doc.close()


@dataclass(frozen=True)
class PageBoxes:
    """Where a page is: its boxes in user space and how it is turned when shown."""

    media: PdfBox  # the page's media box
    crop: PdfBox  # the crop box: what viewers (and :mod:`.render`) show
    rotation: int  # /Rotate, clockwise degrees: 0, 90, 180 or 270

    @property
    def shown_size(self) -> tuple[float, float]:
        """(width, height) in points of the page as displayed (crop box, after /Rotate)."""
        w, h = self.crop[2] - self.crop[0], self.crop[3] - self.crop[1]
        return (h, w) if self.rotation % 180 else (w, h)


def page_boxes(doc, index: int) -> PageBoxes:
    """The boxes of page ``index`` (0-based) of an open ``pypdfium2.PdfDocument``."""
    page = doc[index]
    try:
        return PageBoxes(tuple(float(v) for v in page.get_mediabox()),  # type: ignore[arg-type]
                         tuple(float(v) for v in page.get_cropbox()),  # type: ignore[arg-type]
                         int(page.get_rotation()) % 360)
    finally:
        page.close()
