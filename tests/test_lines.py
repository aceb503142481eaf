"""Line crops: the ink mask that sets every crop, grey ink and the scan chain of the line data."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from docencoder.data.degrade import scan_like
from docencoder.data.fonts import available_fonts
from docencoder.data.lines import (
    _INK_LEVEL,
    LineGenerator,
    LineGeneratorConfig,
    _percentile_90,
    ink_box,
    ink_mask,
    split_line,
)


def _font(px: int = 21) -> ImageFont.FreeTypeFont:
    serif = [f for f in available_fonts() if f.kind == "serif" and f.style == "regular"] or available_fonts()
    return ImageFont.truetype(str(serif[0].path), px)


def _line(parts: list[tuple[str, int]], paper: int = 255, width: int = 900) -> np.ndarray:
    """A 40-px line of ``(text, grey level)`` runs, one space apart."""
    img = Image.new("L", (width, 40), paper)
    draw, font, x = ImageDraw.Draw(img), _font(), 5.0
    for text, ink in parts:
        draw.text((x, 8), text, fill=ink, font=font)
        x += draw.textlength(text + " ", font=font)
    return np.asarray(img)


def _halfway(a: np.ndarray) -> np.ndarray:
    lo, hi = int(a.min()), int(_percentile_90(a))
    return a < lo + _INK_LEVEL * (hi - lo)


def test_a_grey_link_beside_black_text_is_ink() -> None:
    """The R Journal's grey-blue URLs (~130) sit just above the halfway mark of a black line: the
    ink box cropped them off and the line read ``URL .`` while its label kept the link."""
    a = _line([("Available at", 0), ("https://cran.r-project.org/web", 130)])
    black_end = int(np.flatnonzero(_halfway(a).any(0))[-1])
    link_end = int(np.flatnonzero((a < 200).any(0))[-1])
    box = ink_box(a)
    assert box is not None and black_end < link_end - 200
    assert box[3] >= link_end - 1
    pieces = split_line(Image.fromarray(a))
    assert sum(int((np.asarray(p) < 200).sum()) for p in pieces) > 0.8 * int((a < 200).sum()) * (32 / 40) ** 2


def test_dark_lines_keep_exactly_the_halfway_mask_through_scan_noise() -> None:
    """Crops of black text (all the training and dev lines so far) must not move: the mask of a
    noisy, faded, blurred line is the halfway mask, pixel for pixel."""
    rng = np.random.default_rng(0)
    for seed in range(6):
        a = _line([("Available at the network of mirrors, in 2024,", 20), ("and onwards.", 0)], paper=235)
        noisy = np.clip(a + rng.normal(0, 12, a.shape), 0, 255).astype(np.uint8)
        img = scan_like(Image.fromarray(noisy), random.Random(seed))
        b = np.asarray(img)
        assert (ink_mask(b) == _halfway(b)).all(), seed


def test_pale_specks_and_rules_are_not_words() -> None:
    a = _line([("Black text here", 0)])
    a = a.copy()
    a[20, 400:700] = 150  # a pale hairline rule
    a[12:14, 750:752] = 140  # a pale speck
    assert (ink_mask(a) == _halfway(a)).all()


def test_scan_like_degrades_every_line_reproducibly() -> None:
    a = _line([("Scanned text, faded and blurred", 0)])
    img = Image.fromarray(a)
    one, two = scan_like(img, random.Random(3)), scan_like(img, random.Random(3))
    assert one.mode == "L" and one.size == img.size
    assert np.array_equal(np.asarray(one), np.asarray(two))
    b = np.asarray(one).astype(int)
    assert b.min() > 0  # the ink is faded
    assert np.abs(b[:4] - 255).mean() > 2  # the paper is noisy / darker


def test_grey_ink_lines_are_drawn_and_off_by_default_leave_the_stream_alone() -> None:
    corpus = ["The quick brown fox jumps over the lazy dog near the riverbank at dawn."] * 20
    base = LineGenerator(corpus, LineGeneratorConfig(degrade_prob=0.0))
    again = LineGenerator(corpus, LineGeneratorConfig(degrade_prob=0.0, grey_prob=0.0, scan_share=0.0))
    for i in range(5):
        x, tx = base.sample(random.Random(i))
        y, ty = again.sample(random.Random(i))
        assert tx == ty and np.array_equal(np.asarray(x), np.asarray(y))
    grey = LineGenerator(corpus, LineGeneratorConfig(degrade_prob=0.0, grey_prob=1.0))
    darkest = [int(np.asarray(grey.sample(random.Random(i))[0]).min()) for i in range(20)]
    mid = [np.asarray(grey.sample(random.Random(i))[0]) for i in range(20)]
    assert max(darkest) >= 50  # some lines have no black at all
    assert any(((m > 60) & (m < 180)).sum() > 100 and m.min() < 30 for m in mid)  # grey words beside black


def test_a_grey_link_that_a_scan_darkened_in_places_stays_whole() -> None:
    """On a faded scan the darkest ink is lighter, so a grey link's thickest strokes pass the
    halfway mark while its thin ones do not: the pieces kept ``htt`` and ``N.R-pr`` of
    ``http://CRAN.R-project`` and dropped the rest as word gaps."""
    a = _line([("Psychometric Analyses, 2010. URL", 0), ("http://CRAN.R-project", 130)])
    faded = 255 - 0.8 * (255 - a.astype(np.float32))  # ink at 80 % of its contrast
    rng = np.random.default_rng(1)
    scan = np.clip(np.asarray(Image.fromarray(faded.round().astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7)),
                              dtype=np.float32) * 0.97 + rng.normal(0, 6, a.shape), 0, 255).astype(np.uint8)
    half = _halfway(scan)
    link = np.flatnonzero((a < 200).any(0))
    link = link[link > np.flatnonzero((a < 60).any(0))[-1]]  # the link's columns
    assert half[:, link].any(), "the case needs link pixels past the halfway mark"
    mask = ink_mask(scan)
    covered = mask[:, link[0]:link[-1] + 1].any(0)
    assert covered.mean() > 0.6
    assert ink_box(scan)[3] >= link[-1] - 2
