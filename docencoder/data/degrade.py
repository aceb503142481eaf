"""Scan-like degradations: what a photocopier or a cheap scanner does to a clean render.

Each effect is drawn independently so that training sees clean pages, lightly and heavily degraded
ones; ``strength`` scales all of them (0 = untouched).
"""

from __future__ import annotations

import io
import random

import numpy as np
from PIL import Image, ImageFilter


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
