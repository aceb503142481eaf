"""Scan-like degradations: what a photocopier or a cheap scanner does to a clean render.

Each effect is drawn independently so that training sees clean pages, lightly and heavily degraded
ones; ``strength`` scales all of them (0 = untouched).
"""

from __future__ import annotations

import io
import random
from dataclasses import replace

import numpy as np
from PIL import Image, ImageFilter

from . import scan


def _blur(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    return img.filter(ImageFilter.GaussianBlur(radius=rng.uniform(0.3, 1.0) * s))


def _noise(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    gen = np.random.default_rng(rng.getrandbits(32))
    a = a + gen.normal(0.0, rng.uniform(3, 18) * s, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


def _jpeg(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(max(15, 85 - rng.uniform(0, 60) * s)))
    return Image.open(io.BytesIO(buf.getvalue())).convert(img.mode)


def _rotate(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    angle = rng.uniform(-1.0, 1.0) * s
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def _contrast(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    """Uneven illumination and a grey background / faded ink."""
    a = np.asarray(img, dtype=np.float32) / 255.0
    h, w = a.shape
    lo = rng.uniform(0.0, 0.35) * s  # ink gets lighter
    hi = 1.0 - rng.uniform(0.0, 0.25) * s  # paper gets darker
    gx = np.linspace(0, 1, w)[None, :] * rng.uniform(-0.15, 0.15) * s
    gy = np.linspace(0, 1, h)[:, None] * rng.uniform(-0.15, 0.15) * s
    a = lo + a * (hi - lo) + gx + gy
    return Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))


def _bleed(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    """Ink spread (thicker strokes) or erosion (broken strokes)."""
    if rng.random() < 0.5:
        spread = img.filter(ImageFilter.MinFilter(3))
        return Image.blend(img, spread, min(1.0, rng.uniform(0.3, 0.8) * s))
    thin = img.filter(ImageFilter.MaxFilter(3))
    return Image.blend(img, thin, min(1.0, rng.uniform(0.2, 0.5) * s))


def _resample(img: Image.Image, rng: random.Random, s: float) -> Image.Image:
    """Lost resolution: down-sample and back up."""
    f = 1.0 - rng.uniform(0.2, 0.5) * min(1.0, s)
    w, h = img.size
    small = img.resize((max(1, int(w * f)), max(1, int(h * f))), Image.Resampling.BILINEAR)
    return small.resize((w, h), Image.Resampling.BILINEAR)


#: (effect, probability at strength 1)
_EFFECTS = ((_bleed, 0.25), (_resample, 0.3), (_blur, 0.4), (_contrast, 0.4), (_rotate, 0.3),
            (_noise, 0.4), (_jpeg, 0.4))


def degrade(img: Image.Image, rng: random.Random, strength: float = 1.0) -> Image.Image:
    """Apply a random subset of scan effects to a grayscale image (returned as mode ``L``)."""
    out = img.convert("L")
    if strength <= 0:
        return out
    for effect, p in _EFFECTS:
        if rng.random() < p * min(1.0, strength):
            out = effect(out, rng, strength)
    return out


#: presets of :func:`scan_like` and how often each is drawn: mostly issue 15's scan-like ranges,
#: a quarter the harsher ones
SCAN_PRESETS = ((scan.SCAN, 0.75), (scan.HARSH, 0.25))
#: a page's width at the presets' 150 DPI (US letter), over which their light fall-off spreads
PAGE_WIDTH_PX = 1275


def scan_like(img: Image.Image, rng: random.Random) -> Image.Image:
    """A line crop through the page-scan chain of :mod:`.scan`: every effect at once.

    :func:`degrade` draws each effect on its own (with probability 0.25-0.4), so blur, faded ink,
    noise and JPEG came together in about 2 % of degraded lines, while a scanned page has all of
    them on every line. Here one preset's values are drawn and all applied, as
    :func:`.scan.scan_page` does to a page -- but with no rotation or coloured bar: the reader
    deskews a page before it cuts lines, and bars lie in the margins; and the light's fall-off
    is scaled to the crop's share of a page width. The crop should be at its page's resolution (real lines are 150-DPI crops, as the scan presets' pixel sizes assume).
    """
    params = rng.choices([p for p, _ in SCAN_PRESETS], weights=[w for _, w in SCAN_PRESETS])[0]
    d = scan.draw(params, rng)
    # the light falls off across a whole page: a line gets its share of the width
    d = replace(d, angle_deg=0.0, bar=None, falloff=d.falloff * min(1.0, img.width / PAGE_WIDTH_PX))
    page = scan.degrade(img.convert("L"), d)
    return Image.open(io.BytesIO(scan.to_jpeg(page, d.jpeg_quality))).convert("L")
