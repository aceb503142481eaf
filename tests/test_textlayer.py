"""Text layer (docencoder.pdf): line rebuilding, quality verdicts; digital PDFs -> resumable shards."""

from __future__ import annotations

import io

import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from docencoder.data.pdf_shards import from_pdfs
from docencoder.data.shards import ShardDataset, ShardWriter, read_manifest
from docencoder.data.synth import FALLBACK_PARAGRAPHS, PdfGenConfig, generate_pdf
from docencoder.pdf.document import open_pdf
from docencoder.pdf.render import render_page
from docencoder.pdf.textlayer import TextLayerPage, page_text, read_pages
from docencoder.pdf.trust import text_layer_quality

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _font() -> str:
    try:
        pdfmetrics.registerFont(TTFont("TLDejaVu", DEJAVU))
    except Exception:  # noqa: BLE001 - font package missing
        pytest.skip("fonts-dejavu-core not installed")
    return "TLDejaVu"


def _pdf(draw, **kw) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792), **kw)
    draw(c)
    c.save()
    return buf.getvalue()


def test_lines_ligatures_hyphens_columns():
    font = _font()

    def draw(c):
        c.setFont(font, 10)
        c.drawString(72, 700, "The \ufb01rst e\ufb03cient hyphen-")  # ﬁ, ﬃ ligature glyphs
        c.drawString(72, 688, "ated word and more")
        c.drawString(320, 700, "Right column")  # same baseline, far right: its own line
        t = c.beginText(72, 600)
        t.setFont(font, 10)
        for word in ("placed", "word", "by", "word"):  # no space characters, as TeX does
            t.textOut(word)
            t.moveCursor(c.stringWidth(word, font, 10) + 3, 0)
        c.drawText(t)

    pdf = _pdf(draw)
    assert page_text(pdf, 0) == ("The first efficient hyphen-\nated word and more\n\nRight column"
                                 "\n\nplaced word by word")
    layout = next(read_pages(pdf))
    first = layout.lines[0]
    left, bottom, right, top = first.bbox
    assert left == pytest.approx(72, abs=1) and bottom < 700 < top
    assert first.height == pytest.approx(10, abs=3)


def test_to_pixels_maps_the_crop_box():
    layout = TextLayerPage(0, (0.0, 0.0, 200.0, 100.0), [])
    assert layout.to_pixels((10, 80, 30, 90), (400, 200)) == (20, 20, 60, 40)
    shifted = TextLayerPage(0, (100.0, 50.0, 300.0, 150.0), [])
    assert shifted.size == (200.0, 100.0)
    assert shifted.to_pixels((110, 130, 130, 140), (400, 200)) == (20, 20, 60, 40)


@pytest.mark.parametrize("rotation,point", [(0, (10, 20)), (90, (20, 190)), (180, (190, 80)),
                                            (270, (80, 10))])
def test_shown_frame_turns_user_space_clockwise(rotation, point):
    """A point 10 pt right of and 20 pt above the crop box's lower-left corner, on the page as
    displayed: /Rotate turns the page clockwise (the left edge comes to the top for 90)."""
    from docencoder.pdf.textlayer import ShownFrame

    frame = ShownFrame((100.0, 50.0, 300.0, 150.0), rotation)  # 200 x 100 pt
    assert frame.point(110, 70) == point
    assert frame.box == ((0, 0, 100, 200) if rotation % 180 else (0, 0, 200, 100))
    left, bottom, right, top = frame.rect((110, 70, 120, 75))
    assert left < right and bottom < top and (right - left) * (top - bottom) == 50


@pytest.mark.parametrize("text,ok,reason", [
    ("A perfectly ordinary paragraph of technical prose, with numbers 1, 2 and 3.", True, "ok"),
    ("Contents . . . . . . . . . . . . . . . . . . . . 12\nIntroduction . . . . . . . . . 3", True, "ok"),
    ("  4  ", False, "empty"),
    ("", False, "empty"),
    ("\ufffd" * 30 + "some letters here", False, "unmapped"),
    ("text with private use \ue001\ue002\ue003 glyphs in it and more", False, "private-use"),
    ("control\x01\x02\x03 characters are not text at all here", False, "control"),
    ("❡♥❛❧✐③❡❞ ❧❡❛�� ��✉❛�❡� ✈❡��✉� ❣❡♥❡�❛❧✐③❡❞ words", False, ""),
    ("!#$%&*+!#$%&*+!#$%&*+!#$%&*+ ab", False, "garbled"),
])
def test_text_layer_quality(text, ok, reason):
    got_ok, got_reason = text_layer_quality(text)
    assert got_ok == ok
    assert reason in got_reason


def test_page_text_errors(tmp_path):
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not a pdf")
    with pytest.raises(ValueError, match="bad.pdf"):
        page_text(bad, 0)
    locked = _pdf(lambda c: c.drawString(72, 700, "secret text"), encrypt="pw")
    with pytest.raises(ValueError):
        page_text(locked, 0)
    with pytest.raises(ValueError, match="no page index 3"):
        page_text(_pdf(lambda c: c.drawString(72, 700, "x")), 3)


def _corpus_dir(tmp_path):
    src = tmp_path / "pdfs"
    (src / "sub").mkdir(parents=True)
    cfg = PdfGenConfig(pages=(1, 1), dpi=(100, 100))
    for i in range(2):
        (src / "sub" / f"paper{i}.pdf").write_bytes(generate_pdf(FALLBACK_PARAGRAPHS, seed=i, cfg=cfg).pdf)
    (src / "corrupt.pdf").write_bytes(b"%PDF-1.4 garbage")
    (src / "locked.pdf").write_bytes(_pdf(lambda c: c.drawString(72, 700, "secret"), encrypt="pw"))
    (src / "scan.pdf").write_bytes(_pdf(lambda c: c.rect(100, 100, 300, 300, fill=1)))  # no text
    return src


def test_from_pdfs_counts_skips_and_resumes(tmp_path):
    src = _corpus_dir(tmp_path)
    out = tmp_path / "shards"
    logs = []
    summary = from_pdfs(src, out, dpi=100, log=logs.append)
    assert summary["pdfs"] == 3  # two papers + the scan (done, with a broken page)
    assert set(summary["failed"]) == {"corrupt.pdf", "locked.pdf"}
    assert summary["broken_pages"] == {"empty text layer": 1}
    assert summary["samples"]["page"] == 2 and summary["samples"]["line"] > 40
    manifest = read_manifest(out)
    assert manifest["total_samples"] == sum(summary["samples"].values())
    assert set(manifest["completed"]) == {"sub/paper0.pdf", "sub/paper1.pdf", "scan.pdf"}
    texts = [s.text for s in ShardDataset(out, kinds=["page"], shuffle_buffer=0)]
    assert len(texts) == 2 and all(len(t) > 200 for t in texts)

    again = from_pdfs(src, out, dpi=100, log=logs.append)
    assert again["pdfs"] == 0 and again["already_done"] == 5
    assert read_manifest(out)["total_samples"] == manifest["total_samples"]


def test_from_pdfs_redoes_a_half_done_pdf(tmp_path):
    src = _corpus_dir(tmp_path)
    out = tmp_path / "shards"
    full = from_pdfs(src, tmp_path / "ref", dpi=100, log=lambda m: None)
    # an earlier run died after committing one shard of paper0 but before finishing it
    from PIL import Image
    with ShardWriter(out, prefix="pdf") as w:
        w.write("partial", Image.new("L", (4, 4), 255), "stale", {"kind": "line",
                                                                   "source": "sub/paper0.pdf"})
    summary = from_pdfs(src, out, dpi=100, log=lambda m: None)
    assert summary["samples"] == full["samples"]
    keys = [s.meta["key"] for s in ShardDataset(out, shuffle_buffer=0)]
    assert "partial" not in keys and len(keys) == len(set(keys)) == sum(full["samples"].values())


def test_unmapped_glyph_pages_keep_their_clean_lines(monkeypatch):
    from docencoder.data import pdf_shards
    from docencoder.data.pdf_shards import pdf_samples
    from docencoder.pdf.textlayer import REPLACEMENT

    font = _font()

    def draw(c):
        c.setFont(font, 11)
        for k in range(6):
            c.drawString(72, 700 - 20 * k, f"clean line number {k} of prose that maps to text")

    pdf = _pdf(draw)
    real_read = pdf_shards.read_page

    def spoil(doc, index):  # the last line's glyphs lose their Unicode map
        layout = real_read(doc, index)
        for ch in layout.lines[-1].chars:
            ch.text = REPLACEMENT if ch.text.strip() else ch.text
        return layout

    monkeypatch.setattr(pdf_shards, "read_page", spoil)
    (result,) = list(pdf_samples(pdf, dpi=100))
    assert not result.ok and "unmapped" in result.reason
    kinds = [k for k, *_ in result.samples]
    assert "page" not in kinds and kinds.count("line") == 5


def test_line_crops_show_only_their_own_line():
    """Tightly set lines: a crop must not keep a row of the next line's ascenders (or the
    previous line's descenders), which would also shrink the text when normalised."""
    import numpy as np

    from docencoder.data.crops import line_crops

    font = _font()
    texts = ["Hgjpqy Tall (Brackets) [j]", "Äyjgq Hlk (curly) [bar]", "gypsy Quj ÅÉ jump"]

    def draw(c, only=None):
        for k, text in enumerate(texts):
            if only is None or only == k:
                c.setFont(font, 10)
                c.drawString(72, 700 - 11.8 * k, text)  # leading barely above the loose boxes
        c.showPage()

    def pages(c):
        draw(c)
        for k in range(len(texts)):
            draw(c, only=k)

    pdf = _pdf(pages)
    for dpi in (100, 150, 200):
        layout = next(read_pages(pdf, [0]))
        doc = open_pdf(pdf)
        full, *solos = [render_page(doc, i, dpi) for i in range(len(texts) + 1)]
        doc.close()
        crops = list(line_crops(layout, full.convert("L")))
        assert [line.text for _, line, _ in crops] == texts
        for k, (crop, line, (x0, y0, x1, y1)) in enumerate(crops):
            solo = np.asarray(solos[k].convert("L"))[y0:y1, x0:x1]  # the line drawn alone
            assert np.abs(np.asarray(crop, dtype=int) - solo).max() <= 8, (dpi, line.text)
            assert (solo < 128).sum() > 100  # and the crop does hold the line


def test_spread_pages():
    from docencoder.data.pdf_shards import spread_pages

    assert spread_pages(10, None) == list(range(10)) == spread_pages(10, 10)
    assert spread_pages(12, 4) == [0, 4, 7, 11]  # four runs of one page
    pages = spread_pages(600, 100)
    assert len(pages) == 100 == len(set(pages)) and pages == sorted(pages)
    assert pages[:8] == list(range(8)) and pages[8] > 40 and pages[-1] > 580  # runs of 8
    assert len(spread_pages(101, 100)) == 100


def test_pdf_samples_spread_reads_pages_throughout():
    from docencoder.data.pdf_shards import pdf_samples

    font = _font()

    def draw(c):
        for n in range(12):
            c.setFont(font, 11)
            c.drawString(72, 700, f"this is page number {n} of the document")
            c.showPage()

    pdf = _pdf(draw)
    first = [r.index for r in pdf_samples(pdf, dpi=72, kinds=("line",), max_pages=4)]
    spread = list(pdf_samples(pdf, dpi=72, kinds=("line",), max_pages=4, spread=True))
    assert first == [0, 1, 2, 3]
    assert [r.index for r in spread] == [0, 4, 7, 11]
    assert [r.samples[0][2] for r in spread] == [f"this is page number {n} of the document"
                                                 for n in (0, 4, 7, 11)]
    assert all(len(r.samples[0][3]["words"]) == 8 for r in spread)


def test_text_outside_the_crop_box_is_left_out_and_counted(tmp_path):
    """Characters drawn off the page are not shown, so they are not read: the page text, the
    ``--text-layer only`` reading and the training labels hold only what the render shows (a
    character counts as shown when the centre of its box is on the page)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from docencoder.data.pdf_shards import pdf_samples

    font = _font()
    drawn = [(72, 700, "a line that is wholly on the page"),
             (-60, 650, "offleft then visible words"),  # runs past the left edge
             (520, 600, "visible then offright words"),  # runs past the right edge (612)
             (72, 800, "above the top edge")]  # wholly off: the page is 792 high

    def draw(c):
        c.setFont(font, 12)
        for x, y, text in drawn:
            c.drawString(x, y, text)

    def shown(x: float, text: str) -> str:  # the characters whose advance centre is on the page
        out = []
        for ch in text:
            w = stringWidth(ch, font, 12)
            out.append(ch if 0 <= x + w / 2 <= 612 else "")
            x += w
        return "".join(out)

    expected = [shown(x, t).strip() for x, y, t in drawn if y < 792]
    assert expected[1].startswith("n ") and expected[2].endswith(" offr")  # both cut mid-word
    pdf = _pdf(draw)
    (layout,) = list(read_pages(pdf))
    assert [line.text for line in layout.lines] == expected
    assert layout.n_off_page == sum(len(t.replace(" ", "")) for _, _, t in drawn) - sum(
        len(t.replace(" ", "")) for t in expected)
    (result,) = list(pdf_samples(pdf, dpi=72, kinds=("line",)))
    assert [text for _, _, text, _ in result.samples] == expected
    from docencoder import OCR

    (tmp_path / "off.pdf").write_bytes(pdf)
    (page,) = OCR(text_layer="only").read(tmp_path / "off.pdf")
    assert page.text == layout.text and "offleft" not in page.text and "above" not in page.text

    # a crop box smaller than the media box: text between the two is not shown either
    def cropped(c):
        c.setCropBox((100, 100, 500, 700))
        c.setFont(font, 12)
        c.drawString(150, 650, "inside the crop box")
        c.drawString(150, 720, "between crop and media box")  # y 720 > crop top 700

    (layout,) = list(read_pages(_pdf(cropped)))
    assert layout.text == "inside the crop box"
    assert layout.crop_box == (100, 100, 500, 700)
    assert layout.n_off_page == len("betweencropandmediabox")
