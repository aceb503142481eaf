"""Page-level scan simulation (docencoder.data.scan): ranges, effects, JPEG-in-PDF round trip."""

from __future__ import annotations

import io
import math
import random
import re

import numpy as np
import pytest
from PIL import Image

from docencoder.data.scan import (
    HARSH,
    PRESETS,
    SCAN,
    Bar,
    ScanDraw,
    ScanParams,
    degrade,
    draw,
    fade_ink,
    illumination,
    image_pdf,
    paint_bar,
    pdf_jpeg,
    scan_page,
)


def _plain(**overrides) -> ScanDraw:
    """A draw that changes nothing, with some effects switched on."""
    base = dict(angle_deg=0.0, blur_sigma=0.0, contrast=1.0, falloff=0.0,
                falloff_direction_deg=0.0, noise_sigma=0.0, jpeg_quality=90, noise_seed=1)
    return ScanDraw(**{**base, **overrides})


def _page(w: int = 400, h: int = 300, grey: int = 255) -> Image.Image:
    return Image.new("L", (w, h), grey)


@pytest.mark.parametrize("bad", [dict(blur_sigma=(0.9, 0.5)), dict(contrast=(0.5, 1.2)),
                                 dict(falloff=(0.1, 1.0)), dict(jpeg_quality=(0, 50)),
                                 dict(max_rotation_deg=-1), dict(bar_probability=1.5)])
def test_params_reject_bad_ranges(bad):
    with pytest.raises(ValueError):
        ScanParams(**bad)


def test_presets_are_issue_15_ranges_and_harsher():
    assert (SCAN.max_rotation_deg, SCAN.blur_sigma, SCAN.contrast, SCAN.falloff,
            SCAN.noise_sigma, SCAN.jpeg_quality) == (1.2, (0.5, 0.9), (0.75, 0.95),
                                                     (0.05, 0.15), (6.0, 12.0), (55, 75))
    assert HARSH.max_rotation_deg == 2.5 and HARSH.blur_sigma[1] == 1.3
    assert HARSH.noise_sigma[1] == 18 and HARSH.jpeg_quality[0] == 40
    assert SCAN.bar_probability == 0 < HARSH.bar_probability
    assert set(PRESETS) == {"scan", "harsh"}


@pytest.mark.parametrize("name", ["scan", "harsh"])
def test_draws_stay_in_range_and_repeat_for_a_seed(name):
    params = PRESETS[name]
    bars = 0
    for seed in range(200):
        d = draw(params, random.Random(seed))
        assert d == draw(params, random.Random(seed))
        assert abs(d.angle_deg) <= params.max_rotation_deg
        assert params.blur_sigma[0] <= d.blur_sigma <= params.blur_sigma[1]
        assert params.contrast[0] <= d.contrast <= params.contrast[1]
        assert params.falloff[0] <= d.falloff <= params.falloff[1]
        assert params.noise_sigma[0] <= d.noise_sigma <= params.noise_sigma[1]
        assert params.jpeg_quality[0] <= d.jpeg_quality <= params.jpeg_quality[1]
        if d.bar is not None:
            bars += 1
            assert 0 <= d.bar.left < d.bar.left + d.bar.width <= 1
            if d.bar.kind == "bar":  # stripes stay in the margins, off the text
                assert d.bar.left + d.bar.width <= 0.055 or d.bar.left >= 0.945
    if params.bar_probability:
        assert 0.3 < bars / 200 < 0.7
    else:
        assert bars == 0


def test_fade_ink_keeps_paper_and_lifts_ink():
    a = np.array([0.0, 128.0, 255.0])
    out = fade_ink(a, 0.8)
    assert out[2] == 255 and out[0] == pytest.approx(255 * 0.2)
    assert out[1] == pytest.approx(255 - 0.8 * 127)


def test_illumination_falls_off_linearly_to_the_far_edge():
    light = illumination((50, 100), 0.12, 0.0)  # light falls off to the right
    assert light.shape == (50, 100)
    assert light[:, 0] == pytest.approx(np.ones(50))
    assert light[:, -1] == pytest.approx(np.full(50, 0.88))
    assert np.all(np.diff(light[0]) < 0) and np.allclose(light[0], light[-1])
    down = illumination((50, 100), 0.1, 90.0)  # ... or downwards
    assert down[0, 0] == pytest.approx(1.0) and down[-1, 0] == pytest.approx(0.9)


def test_rotation_skews_a_line_by_the_drawn_angle():
    img = _page(600, 400)
    img.paste(0, (50, 198, 550, 202))  # a horizontal rule through the centre
    angle = 2.0
    out = np.asarray(degrade(img, _plain(angle_deg=angle)), dtype=np.float32)

    def centre(x: int) -> float:
        col = 255 - out[:, x]
        return float((col * np.arange(len(col))).sum() / col.sum())

    slope = (centre(100) - centre(500)) / 400  # PIL rotates counter-clockwise: left end lower
    assert slope == pytest.approx(math.tan(math.radians(angle)), rel=0.1)


def test_noise_has_the_drawn_sigma_and_blur_softens_edges():
    grey = np.asarray(degrade(_page(grey=128), _plain(noise_sigma=9.0)), dtype=np.float32)
    assert grey.std() == pytest.approx(9.0, rel=0.1) and grey.mean() == pytest.approx(128, abs=1)
    step = _page(200, 50)
    step.paste(0, (100, 0, 200, 50))
    sharp = np.asarray(degrade(step, _plain()), dtype=np.float32)[25]
    soft = np.asarray(degrade(step, _plain(blur_sigma=1.2)), dtype=np.float32)[25]
    assert np.count_nonzero((sharp > 10) & (sharp < 245)) == 0
    assert np.count_nonzero((soft > 10) & (soft < 245)) >= 3


def test_bars_colour_the_page_and_sidebars_keep_ink_dark():
    img = _page(200, 100)
    img.paste(0, (0, 40, 200, 60))  # a black band of "text"
    bar = Bar("bar", 0.02, 0.05, 0.0, 1.0, (196, 32, 38))
    out = np.asarray(degrade(img, _plain(bar=bar)))
    assert out.ndim == 3 and tuple(out[10, 6]) == (196, 32, 38)
    side = Bar("sidebar", 0.5, 0.5, 0.0, 1.0, (214, 230, 246))
    tinted = paint_bar(np.asarray(img, dtype=np.float32), side)
    assert tuple(tinted[10, 150]) == (214, 230, 246)  # paper takes the tint
    assert tuple(tinted[50, 150]) == (0, 0, 0)  # ink printed over it stays black
    assert degrade(img, _plain()).mode == "L"


def test_scan_page_writes_an_image_only_pdf_that_renders_back(tmp_path):
    from docencoder.ocr.pages import PdfDocument
    from docencoder.pdf.textlayer import page_text

    img = _page(300, 420)
    img.paste(0, (40, 60, 260, 70))
    jpeg, drawn = scan_page(img, random.Random("page-1"), SCAN, dpi=150)
    assert (jpeg, drawn) == scan_page(img, random.Random("page-1"), SCAN, dpi=150)
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.format == "JPEG" and im.size == (300, 420)
        assert round(im.info["dpi"][0]) == 150
    pdf = image_pdf(jpeg, tmp_path / "scan.pdf", 150)
    assert pdf_jpeg(pdf) == jpeg  # embedded as is, not re-encoded
    with PdfDocument(pdf) as doc:
        w_pt, h_pt = doc.page_size(1)
        rendered, _ = doc.render(1, 150)
    assert (w_pt, h_pt) == pytest.approx((300 * 72 / 150, 420 * 72 / 150))
    # pdfium sizes its bitmap by ceiling a float product: a pixel more is possible
    assert 0 <= rendered.width - 300 <= 1 and 0 <= rendered.height - 420 <= 1
    decoded = np.asarray(Image.open(io.BytesIO(jpeg)).convert("L"), dtype=np.float32)
    back = np.asarray(rendered.crop((0, 0, 300, 420)), dtype=np.float32)
    assert np.abs(back - decoded)[5:-5, 5:-5].mean() < 3
    assert page_text(pdf, 0).strip() == ""  # no text layer: the page must be OCRed


def test_pdf_jpeg_refuses_a_pdf_without_one_jpeg(tmp_path):
    import pypdfium2 as pdfium

    out = tmp_path / "blank.pdf"
    pdf = pdfium.PdfDocument.new()
    pdf.new_page(200, 200)
    pdf.save(str(out))
    pdf.close()
    with pytest.raises(ValueError, match="one JPEG"):
        pdf_jpeg(out)


def test_saved_pdfs_are_byte_reproducible(tmp_path):
    jpeg, _ = scan_page(_page(120, 80), random.Random(3), SCAN, dpi=150)
    a = image_pdf(jpeg, tmp_path / "a.pdf", 150).read_bytes()
    b = image_pdf(jpeg, tmp_path / "b.pdf", 150).read_bytes()
    assert a == b and b"D:20250301000000" in a
    other, _ = scan_page(_page(120, 80), random.Random(4), SCAN, dpi=150)
    c = image_pdf(other, tmp_path / "c.pdf", 150).read_bytes()
    id_of = re.compile(rb"/ID\[<([0-9A-F]{32})>").search
    assert id_of(a).group(1) != id_of(c).group(1)  # the ID still tells files apart
