"""The one page renderer (pypdfium2) and the one page fit, for training, benchmarks and the CLI.

Why pypdfium2: measured against poppler (pdftoppm via pdf2image, as the shard builder and the
dev-set build called it) by ``scripts/render_bench.py`` on 48 pages of Debian manuals at 150 DPI
on one thread, beside a training job: 58-263 pages/s against 8-22 with one poppler call per page
and 21-52 with runs of eight; peak memory 60 MiB in process against 49 MiB plus a 49-94 MiB
``pdftoppm`` child. The text layer's word boxes hold ink equally in both (all 11,809 on the
manuals, 34,167 of 34,179 on the dev pages), and pdfium is what reads the text layer, so its
boxes are mapped onto pixels of the same library. Grey levels differ by ~5 on average (3-4 % of
pixels by more than 64: anti-aliasing and a sub-pixel offset), and poppler's page is a pixel
shorter on half the pages (it rounds the height down), so shards built before and after the
switch differ slightly in pixels and line boxes, never in text.

Image convention: PIL images, size ``(width, height)`` in pixels, origin top-left; grayscale
(mode ``L``, 255 = paper).
"""

from __future__ import annotations

from PIL import Image

from .document import POINTS_PER_INCH, PageError

#: largest page image rendered (pixels): A0 at 150 dpi is ~35 MP; the layout step holds a few
#: arrays of this size, so the cap bounds a worker's memory
MAX_PAGE_PIXELS = 40_000_000


def render_page(doc, index: int, dpi: int, max_pixels: int = MAX_PAGE_PIXELS) -> Image.Image:
    """Grayscale image of page ``index`` (0-based) of an open ``pypdfium2.PdfDocument``.

    The page is drawn as displayed: its crop box, turned by its ``/Rotate``, at ``dpi`` (each
    side ``round(points * dpi / 72)`` pixels), which is the frame :mod:`.textlayer` reads in.

    Raises:
        PageError: the page cannot be loaded or rendered, has no area, or would exceed
            ``max_pixels`` at ``dpi`` (the message says how large it is and to lower the dpi).
    """
    import pypdfium2 as pdfium

    try:
        page = doc[index]
    except (pdfium.PdfiumError, IndexError) as e:
        raise PageError(f"cannot load page {index + 1}: {e}") from e
    try:
        w_pt, h_pt = page.get_size()
        scale = dpi / POINTS_PER_INCH
        w_px, h_px = round(w_pt * scale), round(h_pt * scale)
        if w_px * h_px > max_pixels:
            raise PageError(
                f"page is {w_pt / POINTS_PER_INCH:.1f} x {h_pt / POINTS_PER_INCH:.1f} in; at "
                f"{dpi} dpi that is {w_px} x {h_px} = {w_px * h_px / 1e6:.0f} megapixels, above "
                f"the cap of {max_pixels / 1e6:.0f} (lower --dpi)")
        if w_px < 1 or h_px < 1:
            raise PageError(f"page has no area ({w_pt:.1f} x {h_pt:.1f} pt)")
        try:
            bitmap = page.render(scale=scale, grayscale=True)
            image = bitmap.to_pil().convert("L")
            bitmap.close()
        except pdfium.PdfiumError as e:
            raise PageError(f"cannot render page {index + 1}: {e}") from e
        return image
    finally:
        page.close()


def fit_page(image: Image.Image, *, width: int, height: int) -> Image.Image:
    """A page scaled to fit a ``width x height`` canvas, aspect kept, top-left on white.

    DeepSeek-OCR feeds a page to a fixed geometry this way (resize keeping the aspect ratio, pad
    the rest); the training page path and the reader's page path both call this, so a model sees
    at inference the framing it was trained on. The size is keyword-only because the two former
    copies took it in opposite orders.

    Args:
        image: any PIL image (converted to grayscale).
        width: canvas width in pixels.
        height: canvas height in pixels.

    Returns:
        A mode ``L`` image of size ``(width, height)``; bicubic resampling.
    """
    page = image.convert("L")
    scale = min(width / page.width, height / page.height)
    w, h = max(1, round(page.width * scale)), max(1, round(page.height * scale))
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(page.resize((w, h), Image.Resampling.BICUBIC), (0, 0))
    return canvas
