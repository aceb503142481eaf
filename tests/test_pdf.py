"""docencoder.pdf: opening (errors that name the problem), page boxes, the render and its cap,
the one page fit."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from docencoder.pdf.document import DocumentError, PageError, open_pdf, page_boxes, page_count
from docencoder.pdf.render import fit_page, render_page


def _pdf(pages: int = 1, size: tuple[float, float] = (612, 792), **kw) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size, **kw)
    for n in range(pages):
        c.drawString(72, 700, f"page {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def test_open_errors_name_the_problem(tmp_path):
    text = tmp_path / "notes.pdf"
    text.write_text("just some text, no PDF here")
    with pytest.raises(DocumentError, match="not a PDF"):
        open_pdf(text, check_file=True)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 garbage")
    with pytest.raises(DocumentError, match="corrupt or truncated"):
        open_pdf(broken, check_file=True)
    with pytest.raises(DocumentError, match="broken.pdf"):  # unchecked: named all the same
        open_pdf(broken)
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(_pdf(encrypt="pw"))
    with pytest.raises(DocumentError, match="encrypted"):
        open_pdf(locked, check_file=True)
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(DocumentError, match="empty file"):
        open_pdf(empty, check_file=True)
    assert issubclass(DocumentError, ValueError) and issubclass(PageError, ValueError)


def test_page_count_and_boxes():
    pdf = _pdf(pages=3, size=(500, 700))
    assert page_count(pdf) == 3
    doc = open_pdf(pdf)
    try:
        boxes = page_boxes(doc, 0)
    finally:
        doc.close()
    assert boxes.media == boxes.crop == (0, 0, 500, 700) and boxes.rotation == 0
    assert boxes.shown_size == (500, 700)


def test_render_is_the_displayed_page_and_capped():
    doc = open_pdf(_pdf(size=(720, 360)))
    try:
        image = render_page(doc, 0, 100)
        assert image.mode == "L" and image.size == (1000, 500)  # 10 x 5 in at 100 dpi
        with pytest.raises(PageError, match="megapixels, above the cap"):
            render_page(doc, 0, 100, max_pixels=400_000)
        with pytest.raises(PageError, match="cannot load page 2"):
            render_page(doc, 1, 100)
        page = doc[0]
        page.set_rotation(90)  # shown turned: the render is the upright, displayed page
        page.close()
        assert render_page(doc, 0, 100).size == (500, 1000)
        assert page_boxes(doc, 0).shown_size == (360, 720)
    finally:
        doc.close()


def test_fit_page_is_width_then_height_and_top_left():
    page = Image.new("L", (100, 400), 0)
    out = fit_page(page, width=300, height=200)
    assert out.size == (300, 200) and out.mode == "L"
    assert out.getpixel((0, 199)) == 0 and out.getpixel((49, 0)) == 0  # scaled to 50 x 200
    assert out.getpixel((51, 100)) == 255  # padded on the right with paper
    with pytest.raises(TypeError):
        fit_page(page, 300, 200)  # the size is keyword-only: the order cannot be swapped
