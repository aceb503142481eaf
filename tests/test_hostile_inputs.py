"""Issue 14 item 7: hostile inputs, each read or reported.

Page geometry first: ``/Rotate`` pages, a crop box away from the origin and a media box with a
negative origin must give their text layer in reading order, with word boxes that land on the ink
of the (upright) render, for inference and for the training crops alike. Then a batch of hostile
inputs (huge and degenerate page boxes, image-only PDFs with CMYK JPEG, CCITT and JBIG2 images,
PNGs in unusual modes, a symlink loop, an unreadable file) beside a good document: each is read
or is a row of ``errors.jsonl`` naming it, and the good document is done.
"""

from __future__ import annotations

import builtins
import io
import json
import os
import struct
from pathlib import Path
from typing import Optional

import numpy as np
import pytest
from PIL import Image, ImageDraw
from reportlab.pdfgen import canvas

from docencoder.data.pdf_shards import pdf_samples
from docencoder.ocr.pages import PdfDocument, open_document
from docencoder.pdf.textlayer import TextLayerPage, line_words, union_box
from rawpdf import stream, write_pdf

#: the page drawn by :func:`text_pdf`, as it must read: three lines, two blocks
LINES = [(72, 72, "Alpha beta gamma delta"), (72, 92, "second line of words"),
         (300, 300, "middle text block")]
EXPECTED = "Alpha beta gamma delta\nsecond line of words\n\nmiddle text block"
#: pixels darker than this are ink
INK = 128


def text_pdf(rotation: int = 0, size: tuple[float, float] = (612, 792),
             origin: tuple[float, float] = (0, 0),
             crop: Optional[tuple[float, float, float, float]] = None) -> bytes:
    """A one-page PDF that shows :data:`LINES` upright (x from the left, y from the top of the
    displayed page) however it is stored: the content is drawn turned against ``/Rotate``, the
    way a landscape page or a page turned in a viewer is saved.

    Args:
        rotation: the page's ``/Rotate``.
        size: the media box's (width, height) in user space.
        origin: the media box's lower-left corner (negative for a box around the origin).
        crop: a crop box (left, bottom, right, top) in user space; the lines are placed in it.
    """
    import pypdfium2 as pdfium

    w, h = size
    box = crop or (origin[0], origin[1], origin[0] + w, origin[1] + h)
    bw, bh = box[2] - box[0], box[3] - box[1]
    shown_h = bw if rotation % 180 else bh
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    c.translate(box[0], box[1])  # the visible box's lower-left corner
    turn = {90: (bw, 0), 180: (bw, bh), 270: (0, bh)}
    if rotation:
        c.translate(*turn[rotation])
        c.rotate(rotation)  # counter-clockwise: undone by the clockwise /Rotate
    c.setFont("Helvetica", 14)
    for x, y, text in LINES:
        c.drawString(x, shown_h - y, text)
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buf.getvalue())
    page = pdf[0]
    page.set_mediabox(origin[0], origin[1], origin[0] + w, origin[1] + h)
    if crop:
        page.set_cropbox(*crop)
    page.set_rotation(rotation)
    page.close()
    out = io.BytesIO()
    pdf.save(out)
    pdf.close()
    return out.getvalue()


def _word_boxes(layout: TextLayerPage, size: tuple[int, int]) -> list[tuple[str, tuple]]:
    """(word, pixel box) of every word of the layout's lines."""
    out = []
    for line in layout.lines:
        words = line_words(line)
        assert words, line.text
        for chars in words:
            box = layout.to_pixels(union_box([c.box for c in chars]), size)
            out.append(("".join(c.text for c in chars), box))
    return out


def assert_boxes_on_ink(layout: TextLayerPage, image: Image.Image) -> None:
    """Every word box holds ink, and the word boxes hold (almost) all the page's ink."""
    a = np.asarray(image.convert("L")) < INK
    covered = np.zeros_like(a)
    for word, (x0, y0, x1, y1) in _word_boxes(layout, image.size):
        x0, y0, x1, y1 = int(x0) - 1, int(y0) - 1, int(x1) + 2, int(y1) + 2
        assert x0 >= -1 and y0 >= -1 and x1 <= image.width + 2 and y1 <= image.height + 2, word
        region = a[max(0, y0):y1, max(0, x0):x1]
        assert region.size and region.mean() > 0.05, (word, (x0, y0, x1, y1))
        covered[max(0, y0):y1, max(0, x0):x1] = True
    assert a.sum() > 500 and (a & covered).sum() >= 0.99 * a.sum()


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_rotated_page_reads_upright_with_boxes_on_ink(rotation, tmp_path):
    from docencoder import OCR

    path = tmp_path / f"rot{rotation}.pdf"
    path.write_bytes(text_pdf(rotation))
    (page,) = OCR(text_layer="only").read(path)
    assert page.text == EXPECTED and page.source == "text-layer"
    with PdfDocument(path) as doc:
        layout = doc.layout(1)
        image, _ = doc.render(1, 72)
    assert layout.n_rotated == 0
    assert layout.size == ((792, 612) if rotation % 180 else (612, 792)) == image.size
    assert_boxes_on_ink(layout, image)


@pytest.mark.parametrize("case", [
    dict(crop=(100, 150, 560, 700)),  # CropBox away from the origin
    dict(crop=(100, 150, 560, 700), rotation=90),
    dict(origin=(-306, -396)),  # MediaBox centred on the origin
    dict(origin=(-306, -396), rotation=270),
], ids=["crop", "crop-rot90", "negative-media", "negative-media-rot270"])
def test_page_boxes_away_from_the_origin(case, tmp_path):
    from docencoder import OCR

    path = tmp_path / "boxes.pdf"
    path.write_bytes(text_pdf(**case))
    (page,) = OCR(text_layer="only").read(path)
    assert page.text == EXPECTED
    with PdfDocument(path) as doc:
        layout = doc.layout(1)
        image, _ = doc.render(1, 72)
    assert_boxes_on_ink(layout, image)


@pytest.mark.parametrize("rotation", [90, 270])
def test_training_crops_of_a_rotated_page_match_its_text(rotation):
    """``data from-pdfs`` cuts the same upright line crops (the CLI's render) from a rotated page
    as from the unrotated one, with word spans."""
    def lines(pdf: bytes) -> list[tuple[str, np.ndarray, list]]:
        (result,) = list(pdf_samples(pdf, dpi=100, kinds=("line",)))
        return [(text, np.asarray(img, dtype=int), meta.get("words"))
                for _, img, text, meta in result.samples]

    upright, turned = lines(text_pdf(0, size=(792, 612))), lines(text_pdf(rotation))
    assert [t for t, *_ in turned] == [t for t, *_ in upright] == [t for *_, t in LINES]
    for (text, a, words_a), (_, b, words_b) in zip(upright, turned):
        assert words_b is not None and len(words_b) == len(text.split()) == len(words_a)
        h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
        assert abs(a.shape[0] - b.shape[0]) <= 1 and abs(a.shape[1] - b.shape[1]) <= 1
        assert np.abs(a[:h, :w] - b[:h, :w]).mean() < 8, text  # the same line, drawn alike
        assert (b < INK).sum() > 100


# ------------------------------------------------------------------------------------------------
# a batch of hostile inputs
# ------------------------------------------------------------------------------------------------

def image_pdf(path: Path, size: tuple[int, int], data: bytes, image_dict: bytes) -> Path:
    """A one-page image-only PDF: one image XObject of ``size`` pixels drawn over the page at
    72 dpi, its stream ``data`` (already encoded) described by ``image_dict`` (filter, colour
    space, bits per component, decode parameters)."""
    w, h = size

    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] /Contents 4 0 R "
            b"/Resources << /XObject << /Im0 5 0 R >> >> >>" % (w, h),
            stream(b"q %d 0 0 %d 0 0 cm /Im0 Do Q" % (w, h)),
            stream(data, b"/Type /XObject /Subtype /Image /Width %d /Height %d " % (w, h)
                   + image_dict + b" ")]
    return write_pdf(path, objs)


#: the test images: a black bar on white paper
IMG_SIZE = (400, 200)
BAR = (50, 50, 250, 100)


def _bar_image() -> Image.Image:
    img = Image.new("L", IMG_SIZE, 255)
    ImageDraw.Draw(img).rectangle(BAR, fill=0)
    return img


def cmyk_jpeg_pdf(path: Path) -> Path:
    """The bar as a CMYK JPEG (with PIL's Adobe marker, so inverted: the /Decode array)."""
    k = Image.eval(_bar_image(), lambda v: 255 - v)
    blank = Image.new("L", IMG_SIZE, 0)
    buf = io.BytesIO()
    Image.merge("CMYK", [blank, blank, blank, k]).save(buf, "JPEG", quality=90)
    return image_pdf(path, IMG_SIZE, buf.getvalue(),
                     b"/ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /DCTDecode "
                     b"/Decode [1 0 1 0 1 0 1 0]")


def _group4(img: Image.Image) -> bytes:
    """The T.6 (CCITT Group 4) data of a bilevel image, taken from a TIFF that PIL (libtiff)
    writes: no encoder beyond PIL is needed to make CCITT and JBIG2 (MMR) streams."""
    buf = io.BytesIO()
    img.convert("1").save(buf, "TIFF", compression="group4")
    raw = buf.getvalue()
    tiff = Image.open(io.BytesIO(raw))
    return b"".join(raw[o:o + n] for o, n in zip(tiff.tag_v2[273], tiff.tag_v2[279]))


def ccitt_pdf(path: Path) -> Path:
    """The bar as a CCITT Group 4 image."""
    return image_pdf(path, IMG_SIZE, _group4(_bar_image()),
                     b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode "
                     b"/DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 true >>" % IMG_SIZE)


def _jbig2_segment(number: int, kind: int, data: bytes) -> bytes:
    """One JBIG2 segment (ITU T.88 7.2): number, type, no referred-to segments, page 1."""
    return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data


def jbig2_pdf(path: Path) -> Path:
    """The bar as an embedded JBIG2 stream: a page information segment (type 48) and one
    immediate generic region (type 38) coded with MMR, whose data is T.6 with 1 for black (so
    Group 4 of the inverted image), then end of page (type 49)."""
    w, h = IMG_SIZE
    mmr = _group4(Image.eval(_bar_image(), lambda v: 255 - v))
    data = (_jbig2_segment(0, 48, struct.pack(">IIIIBH", w, h, 0, 0, 0, 0))
            + _jbig2_segment(1, 38, struct.pack(">IIIIB", w, h, 0, 0, 0) + b"\x01" + mmr)
            + _jbig2_segment(2, 49, b""))
    return image_pdf(path, IMG_SIZE, data,
                     b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode")


def png_in_mode(path: Path, mode: str) -> Path:
    """The bar as a PNG in ``mode``: 16-bit gray, gray + alpha, RGBA, palette, 1-bit. The alpha
    modes have a transparent background (paper, once flattened) around an opaque bar."""
    gray = _bar_image()
    if mode == "I;16":
        img = Image.fromarray(np.asarray(gray, dtype=np.uint16) * 257)  # mode I;16
    elif mode in ("LA", "RGBA"):
        alpha = Image.eval(gray, lambda v: 255 - v)  # only the bar is opaque
        img = Image.merge("LA", [Image.new("L", IMG_SIZE, 0), alpha]).convert(mode)
    elif mode == "P":
        img = gray.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    else:
        img = gray.convert(mode)
    img.save(path)
    assert Image.open(path).mode == mode
    return path


PNG_MODES = ["I;16", "LA", "RGBA", "P", "1"]


def _assert_bar(image: Image.Image) -> None:
    a = np.asarray(image.convert("L"), dtype=int)
    x0, y0, x1, y1 = BAR
    assert a[y0 + 5:y1 - 5, x0 + 5:x1 - 5].mean() < 64  # the bar is dark
    assert a[y1 + 20:, :].mean() > 240 and a[:, x1 + 20:].mean() > 240  # the paper is white


@pytest.mark.parametrize("make", [cmyk_jpeg_pdf, ccitt_pdf, jbig2_pdf],
                         ids=["cmyk-jpeg", "ccitt-g4", "jbig2-mmr"])
def test_image_only_pdfs_render(make, tmp_path):
    with open_document(make(tmp_path / "scan.pdf")) as doc:
        assert doc.text(1).strip() == ""
        image, dpi = doc.render(1, 72)
    assert image.size == IMG_SIZE and dpi == 72
    _assert_bar(image)


@pytest.mark.parametrize("mode", PNG_MODES)
def test_png_modes_render_as_paper_and_ink(mode, tmp_path):
    with open_document(png_in_mode(tmp_path / "page.png", mode)) as doc:
        image, _ = doc.render(1, 150)
    assert image.mode == "L" and image.size == IMG_SIZE
    _assert_bar(image)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _blank_pdf(path: Path, size: tuple[float, float],
               media: Optional[tuple[float, float, float, float]] = None, text: str = "") -> Path:
    """A one-page PDF of ``size`` points (its media box then set to ``media``, if given)."""
    import pypdfium2 as pdfium

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=size)
    if text:
        c.drawString(72, 72, text)
    c.showPage()
    c.save()
    pdf = pdfium.PdfDocument(buf.getvalue())
    if media is not None:
        page = pdf[0]
        page.set_mediabox(*media)
        page.close()
    pdf.save(str(path))
    pdf.close()
    return path


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    """A folder of hostile inputs beside one good digital PDF (good.pdf)."""
    d = tmp_path_factory.mktemp("hostile")
    (d / "good.pdf").write_bytes(text_pdf())
    _blank_pdf(d / "huge.pdf", (14400, 14400))  # 200 x 200 in, nothing in its text layer
    _blank_pdf(d / "zero-box.pdf", (612, 792), media=(0, 0, 0, 0))
    _blank_pdf(d / "flat-box.pdf", (612, 792), media=(0, 0, 612, 0))
    _blank_pdf(d / "inverted-box.pdf", (612, 792), media=(300, 300, 100, 100))
    cmyk_jpeg_pdf(d / "cmyk.pdf")
    ccitt_pdf(d / "ccitt.pdf")
    jbig2_pdf(d / "jbig2.pdf")
    for mode in PNG_MODES:
        png_in_mode(d / f"png-{mode.replace(';', '')}.png", mode)
    (d / "sub").mkdir()
    (d / "sub" / "unreadable.pdf").write_bytes(text_pdf())
    os.symlink(d, d / "sub" / "loop")  # a directory loop: must not be walked forever
    return d


def test_a_batch_of_hostile_inputs(hostile_dir, model_dir, tmp_path, monkeypatch):
    """Every hostile input is read or reported by name; the good document is done."""
    from docencoder import OCR
    from docencoder.ocr.reader import Reader

    unreadable = str(hostile_dir / "sub" / "unreadable.pdf")
    real_open = builtins.open

    def guarded_open(file, *args, **kwargs):  # we run as root: chmod would not stop us
        if str(file) == unreadable:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    # decoding is not under test (a random tiny model would spend minutes on it): each page's
    # pieces go through render and layout for real, then decode to a marker
    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: ["decoded"] * len(pages))
    out = tmp_path / "out"
    summary = OCR(model_dir, text_layer="auto", dpi=150).ocr_files(
        [hostile_dir], out, threads=1, isolate=False)  # the patches above are in this process
    errors = {Path(e["doc"]).name: e for e in _records(out / "errors.jsonl")}
    assert set(errors) == {"huge.pdf", "unreadable.pdf"}, errors
    huge, locked = errors["huge.pdf"], errors["unreadable.pdf"]
    assert huge["page"] == 1 and "megapixels, above the cap" in huge["error"]
    assert locked["doc"] == unreadable and "cannot read file: Permission denied" in locked["error"]
    assert summary.exit_code == 1
    rows = {p.stem: _records(p) for p in out.glob("*.jsonl") if p.name != "errors.jsonl"}
    assert [r["source"] for r in rows["good"]] == ["text-layer"]
    assert rows["good"][0]["text"] == EXPECTED
    for name in ["zero-box", "flat-box", "inverted-box", "cmyk", "ccitt", "jbig2"] + [
            f"png-{m.replace(';', '')}" for m in PNG_MODES]:
        assert [r["source"] for r in rows[name]] == ["ocr"], name
    assert not any("loop" in name for name in rows)  # the loop added no second copy of anything


def test_a_huge_page_is_never_rendered(tmp_path, monkeypatch):
    """A 200 x 200 inch page: its text layer is read, its render refused before any bitmap."""
    import pypdfium2 as pdfium

    from docencoder import OCR

    path = _blank_pdf(tmp_path / "huge.pdf", (14400, 14400),
                      text="A huge page still has a text layer that reads.")

    def no_bitmap(*args, **kwargs):
        raise AssertionError("a gigapixel bitmap was asked for")

    monkeypatch.setattr(pdfium.PdfPage, "render", no_bitmap)
    (page,) = OCR(text_layer="only").read(path)
    assert page.text == "A huge page still has a text layer that reads."
    with open_document(path) as doc:
        with pytest.raises(Exception, match="megapixels, above the cap of 40"):
            doc.render(1, 150)
