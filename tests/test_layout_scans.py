"""Layout on scan-like pages: one test per failure class that ``scripts/layout_scans.py`` found.

Each page is drawn here with PIL (every line's box known), degraded the way a scanner does it
(rotation, blur, fading, uneven light, noise, JPEG; a border, a shaded box, a coloured bar) and
cut into lines by :func:`docencoder.ocr.layout.find_lines`. The layout turns the page back about its
centre, so the known boxes of the unrotated page apply to the deskewed one.
"""

from __future__ import annotations

import io
import random
from typing import Optional

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from docencoder.ocr.layout import find_lines

FONT_PX = 21  # 10 pt at 150 dpi
WORDS = ("layout scanner column gutter deskew baseline profile paper noise shading border "
         "paragraph reading order valley threshold").split()

Box = tuple[int, int, int, int]


def _font(kind: str = "times") -> ImageFont.FreeTypeFont:
    from docencoder.data.fonts import available_fonts

    font = next(f for f in available_fonts() if f.kind == kind and f.style == "regular")
    return ImageFont.truetype(str(font.path), FONT_PX)


def _text_page(size: tuple[int, int] = (1100, 900), columns: int = 1, n_lines: int = 12,
               pitch: int = 30, top: int = 90, margin: int = 90, gutter: int = 60,
               prefix: str = "", seed: int = 0, mode: str = "L",
               stagger: int = 0, justify: bool = False) -> tuple[Image.Image, list[Box]]:
    """A page of ``columns`` columns of ``n_lines`` lines each (column ``c`` set ``c * stagger``
    px lower, lines justified or ragged right); the line boxes in reading order."""
    rng = random.Random(seed)
    img = Image.new(mode, size, "white")
    d = ImageDraw.Draw(img)
    font = _font()
    width = (size[0] - 2 * margin - (columns - 1) * gutter) // columns
    boxes = []
    for c in range(columns):
        x = margin + c * (width + gutter)
        for k in range(n_lines):
            text = prefix
            while True:
                word = rng.choice(WORDS)
                if d.textlength(f"{text} {word}".strip(), font=font) > width:
                    break
                text = f"{text} {word}".strip()
            y = top + k * pitch + c * stagger
            words = text.split(" ")
            if justify and len(words) > 1:  # spread the words over the column, as TeX does
                space = (width - sum(d.textlength(w, font=font) for w in words)) / (len(words) - 1)
                at, ends = float(x), []
                for word in words:
                    d.text((round(at), y), word, font=font, fill="black")
                    ends.append(d.textbbox((round(at), y), word, font=font))
                    at += d.textlength(word, font=font) + space
                boxes.append((ends[0][0], min(e[1] for e in ends), ends[-1][2], max(e[3] for e in ends)))
            else:
                d.text((x, y), text, font=font, fill="black")
                boxes.append(d.textbbox((x, y), text, font=font))
    return img, boxes


def _scan(img: Image.Image, angle: float = 0.0, blur: float = 0.0, fade: float = 1.0,
          falloff: float = 0.0, noise: float = 0.0, jpeg: Optional[int] = None,
          seed: int = 0) -> Image.Image:
    """The page as a scanner returns it: faded, turned, blurred, unevenly lit, noisy, JPEG'd."""
    a = 255 - fade * (255 - np.asarray(img, dtype=np.float32))
    page = Image.fromarray(a.round().astype(np.uint8))
    fill = 255 if page.mode == "L" else (255, 255, 255)
    page = page.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=fill)
    if blur:
        page = page.filter(ImageFilter.GaussianBlur(blur))
    a = np.asarray(page, dtype=np.float32)
    light = 1 - falloff * np.linspace(0, 1, a.shape[1], dtype=np.float32)[None, :]  # (1, W)
    a = a * (light if a.ndim == 2 else light[..., None])
    a = a + np.random.default_rng(seed).normal(0, noise, a.shape[:2])[(...,) + (None,) * (a.ndim - 2)]
    out = Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    if jpeg:
        buf = io.BytesIO()
        out.save(buf, format="JPEG", quality=jpeg)
        out = Image.open(io.BytesIO(buf.getvalue()))
    return out.convert("L")


def _matches(layout, boxes: list[Box], slack: int = 4) -> list[int]:
    """For each layout line (reading order), the index of the known line box holding its centre
    (-1 for none: a line made of noise, a rule or a bar)."""
    out = []
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hits = [i for i, (a, b, c, d) in enumerate(boxes)
                if a - slack <= cx <= c + slack and b - slack <= cy <= d + slack]
        out.append(hits[0] if len(hits) == 1 else -1)
    return out


def _assert_read_in_order(layout, boxes: list[Box]) -> None:
    """Every known line found once, in the known order, and nothing else."""
    assert _matches(layout, boxes) == list(range(len(boxes))), [line.box for line in layout.lines]


def test_lines_that_touch_are_split_at_their_profile_valley():
    """Parentheses reach from above the ascenders to below the descenders: in a tightly leaded
    paragraph they touch the line above, no row between the lines is blank, and the paragraph
    was one band taller than a line -- dropped as a figure (IEEEtran page: 343 of 722 words)."""
    img, boxes = _text_page(pitch=22, prefix="(j) [g]")
    layout = find_lines(img)
    _assert_read_in_order(layout, boxes)


def test_columns_whose_lines_interleave_are_split_at_their_gutter():
    """Two columns on baseline grids half a line apart (a heading in one shifts its grid) leave
    no row blank across both: the region was a single row band, the XY-cut demanded the 2.5 em
    gap that splits a single line, missed the 1.4 em gutter and dropped both columns as a figure
    (IEEEtran harness page: 343 of 722 words lost on the clean page)."""
    img, boxes = _text_page(columns=2, n_lines=12, gutter=30, stagger=15)
    _assert_read_in_order(find_lines(img), boxes)
    layout = find_lines(_scan(img, angle=1.3, blur=0.9, fade=0.85, noise=10, jpeg=60, seed=1))
    _assert_read_in_order(layout, boxes)


def test_a_narrow_gutter_is_a_gutter():
    """LaTeX's two-column article sets its columns 10 pt apart, under the 1.2 em the XY-cut
    asked of a gutter: every row of both columns was one line across the page (the model reads
    the columns interleaved), clean or scanned."""
    img, boxes = _text_page(columns=2, n_lines=16, gutter=21, justify=True)  # 10 pt at 150 dpi
    _assert_read_in_order(find_lines(img), boxes)
    layout = find_lines(_scan(img, angle=-0.8, blur=1.0, fade=0.85, noise=10, jpeg=60, seed=9))
    _assert_read_in_order(layout, boxes)


def test_blurred_lines_that_touch_are_split():
    img, boxes = _text_page(pitch=24, prefix="(p)")
    layout = find_lines(_scan(img, angle=1.0, blur=1.2, fade=0.85, noise=8, jpeg=60))
    _assert_read_in_order(layout, boxes)


def test_a_scanner_border_does_not_turn_the_deskew():
    """A grey band outside the sheet (the lid's shadow, the glass beyond the paper), whose edge
    runs at another angle than the text: counted pixel for pixel, its straight rim outweighed the
    text and the page was "deskewed" to the end of the search range."""
    img, boxes = _text_page(columns=2, n_lines=14)
    page = np.asarray(_scan(img, angle=2.0, blur=0.8, noise=8, seed=2), dtype=np.float32)
    h, w = page.shape
    ramp = np.clip((np.arange(h, dtype=np.float32) - (h - 40)) / 3, 0, 1)[:, None]  # (H, 1)
    page = page * (1 - ramp) + 130 * ramp  # 40 px of grey along the bottom edge
    page[:, :25] = 120  # and the left one
    layout = find_lines(Image.fromarray(np.clip(page, 0, 255).astype(np.uint8)))
    assert abs(layout.skew_deg - 2.0) < 0.1, layout.skew_deg
    _assert_read_in_order(layout, boxes)


def test_text_on_a_shaded_box_is_found():
    """Text printed on a grey box, on a page whose light falls off: measured against the page's
    paper (a max filter over 80 px), the box's own paper became ink near its edges and its
    text was lost with it."""
    img, boxes = _text_page(n_lines=14)
    a = np.asarray(img, dtype=np.float32).copy()
    a[260:560, 60:1040] *= 0.75  # the shaded box, under lines 6-15
    page = _scan(Image.fromarray(a.astype(np.uint8)), angle=-1.0, blur=0.8, fade=0.85,
                 falloff=0.15, noise=10, jpeg=60, seed=3)
    layout = find_lines(page)
    _assert_read_in_order(layout, boxes)


def test_a_scanned_frame_is_still_a_frame():
    """A boxed code listing, scanned: its 1-px sides come out dashed and a pixel off vertical,
    so no column held a run of ``rule_v_em``; the sides stayed in the mask, every row of the
    listing held ink and the listing was one tall region, dropped as a figure."""
    mono = _font("monospace")
    img = Image.new("L", (1000, 700), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((70, 80, 930, 560), outline=0, width=1)
    code = ["x = solve(A, b);", "for (i = 0; i < n; i++) {", "  y[i] = x[i] * 2;", "}",
            "print(y)", "return 0;", "# end of listing"]
    boxes = []
    for k, text in enumerate(code):
        d.text((100, 110 + 62 * k), text, font=mono, fill=0)
        boxes.append(d.textbbox((100, 110 + 62 * k), text, font=mono))
    page = _scan(img, angle=1.5, blur=1.0, fade=0.8, noise=12, jpeg=50, seed=4)
    layout = find_lines(page)
    _assert_read_in_order(layout, boxes)


def test_sensor_noise_makes_no_lines():
    """Three lines on a noisy, unevenly lit page: Otsu's split cut into the paper's own spread,
    and the blobs of noise that blur and JPEG make survived the speck filter as "lines"."""
    img, boxes = _text_page(size=(1100, 1200), n_lines=3)
    page = _scan(img, angle=2.4, blur=1.3, fade=0.75, falloff=0.15, noise=18, jpeg=40, seed=5)
    layout = find_lines(page)
    _assert_read_in_order(layout, boxes)


def test_two_columns_with_a_coloured_bar_in_the_margin():
    """A journal's coloured stripe beside the text, on a rotated two-column page: the columns
    are read left then right and the bar yields no line."""
    img, boxes = _text_page(size=(1100, 800), columns=2, n_lines=16, margin=110, mode="RGB")
    ImageDraw.Draw(img).rectangle((40, 30, 75, 770), fill=(196, 32, 38))
    layout = find_lines(_scan(img, angle=-2.2, blur=0.9, fade=0.85, noise=10, jpeg=55, seed=6))
    assert abs(layout.skew_deg + 2.2) < 0.1, layout.skew_deg
    _assert_read_in_order(layout, boxes)


@pytest.mark.parametrize("angle", [-2.5, -1.2, -0.3, 0.6, 1.7, 2.5])
def test_deskew_is_accurate_on_noisy_scans(angle):
    img, _ = _text_page(columns=2, n_lines=14, seed=7)
    layout = find_lines(_scan(img, angle=angle, blur=1.1, fade=0.8, falloff=0.1, noise=14,
                              jpeg=45, seed=8))
    assert abs(layout.skew_deg - angle) < 0.08, layout.skew_deg
