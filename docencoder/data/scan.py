"""Page-level scan simulation: what printing, a scanner and JPEG storage do to a whole page.

``docencoder.data.degrade`` roughens single line crops for training; this module degrades a full
page *before* layout, so that rotation, fading, a coloured bar in the margin and uneven light reach
the column finder and the line cutter the way they do on a real scan. The benchmark's scan-like
dev pages (``data/devset_wp``) are made with it, and training can draw from the same presets.

Physical order of the effects (each is one small function, drawn once per page):

1. **ink fade** — toner/ink at 75-95 % of its contrast to the paper (printing, photocopying);
2. **coloured bar / sidebar** (harsh preset, some pages) — a journal's printed margin stripe or a
   tinted box, painted before the page is skewed because it is part of the print;
3. **rotation** — the sheet lies skewed on the glass (``±max_rotation_deg``), corners filled
   with paper;
4. **Gaussian blur** — scanner optics (σ in pixels at the page's resolution);
5. **illumination fall-off** — a linear ramp across the page in a random direction, the far side
   ``falloff`` darker (lid not closed, book spine);
6. **sensor noise** — additive Gaussian, σ in grey levels;
7. **JPEG** at the drawn quality — how scans are stored.

The ranges of :data:`SCAN` are those of issue 15's scan-like pages; :data:`HARSH` widens each.
Every value drawn is returned as a :class:`ScanDraw`, so a manifest can record what a page got.
"""

from __future__ import annotations

import hashlib
import io
import math
import random
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np
from PIL import Image, ImageFilter

PathLike = Union[str, Path]
#: points per inch in PDF user space
POINTS_PER_INCH = 72.0
#: paper grey level (white) used to fill the corners a rotation uncovers
PAPER = 255
#: colours of printed margin bars (saturated, as journal branding stripes are)
BAR_COLOURS = ((196, 32, 38), (0, 94, 162), (0, 128, 96), (232, 146, 20), (92, 44, 138))
#: the creation date written into saved PDFs (pdfium writes the clock's; fixed, same length)
PDF_DATE = b"D:20250301000000+00'00'"
_PDF_DATE_RE = re.compile(rb"D:\d{14}[+\-Z]\d{2}'\d{2}'")
_PDF_ID_RE = re.compile(rb"/ID\s*\[\s*<([0-9A-Fa-f]{32})>\s*<([0-9A-Fa-f]{32})>\s*\]")
#: stripes lie within this share of the page width from an edge (0.055 of a letter page is
#: 0.47 in, inside the narrowest publisher margins of ~0.6 in), at least this far from it
BAR_ZONE, BAR_MARGIN_GAP = 0.055, 0.008
#: colours of tinted sidebars (pale, as boxes printed under text are)
SIDEBAR_COLOURS = ((214, 230, 246), (250, 236, 204), (226, 240, 222), (238, 226, 240))


@dataclass(frozen=True)
class ScanParams:
    """Ranges a page's degradations are drawn from (uniformly); one value of each per page."""

    max_rotation_deg: float = 1.2  # skew angle drawn from [-max, +max] degrees
    blur_sigma: tuple[float, float] = (0.5, 0.9)  # Gaussian σ, pixels
    contrast: tuple[float, float] = (0.75, 0.95)  # ink kept at this share of its contrast
    falloff: tuple[float, float] = (0.05, 0.15)  # share of light lost across the page
    noise_sigma: tuple[float, float] = (6.0, 12.0)  # additive Gaussian σ, grey levels (0-255)
    jpeg_quality: tuple[int, int] = (55, 75)  # stored JPEG quality
    bar_probability: float = 0.0  # share of pages given a coloured bar or sidebar

    def __post_init__(self) -> None:
        for name in ("blur_sigma", "contrast", "falloff", "noise_sigma", "jpeg_quality"):
            lo, hi = getattr(self, name)
            if not 0 <= lo <= hi:
                raise ValueError(f"{name}: need 0 <= low <= high, got {(lo, hi)}")
        if not 0 < self.contrast[1] <= 1:
            raise ValueError("contrast is a share of the ink's contrast: at most 1")
        if self.falloff[1] >= 1:
            raise ValueError("falloff must stay below 1 (1 = a black far edge)")
        if not 1 <= self.jpeg_quality[0] <= self.jpeg_quality[1] <= 95:
            raise ValueError("jpeg_quality must lie in 1..95 (PIL's useful range)")
        if self.max_rotation_deg < 0 or not 0 <= self.bar_probability <= 1:
            raise ValueError("max_rotation_deg must be >= 0 and bar_probability in [0, 1]")


#: issue 15's scan-like pages
SCAN = ScanParams()
#: harsher scans: more skew, blur, noise, lower JPEG quality, a coloured bar on half the pages
HARSH = ScanParams(max_rotation_deg=2.5, blur_sigma=(0.7, 1.3), contrast=(0.65, 0.9),
                   falloff=(0.10, 0.25), noise_sigma=(10.0, 18.0), jpeg_quality=(40, 55),
                   bar_probability=0.5)
PRESETS: dict[str, ScanParams] = {"scan": SCAN, "harsh": HARSH}


@dataclass(frozen=True)
class Bar:
    """A printed coloured element, in fractions of the page width (so it scales with DPI)."""

    kind: str  # "bar": a solid stripe; "sidebar": a pale box the text is printed over
    left: float  # left edge, share of the page width
    width: float  # share of the page width
    top: float  # share of the page height
    bottom: float
    colour: tuple[int, int, int]


@dataclass(frozen=True)
class ScanDraw:
    """The values one page was degraded with (what a manifest records)."""

    angle_deg: float
    blur_sigma: float
    contrast: float
    falloff: float
    falloff_direction_deg: float  # direction in which the light falls off (0 = to the right)
    noise_sigma: float
    jpeg_quality: int
    noise_seed: int
    bar: Optional[Bar] = None

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def _draw_bar(rng: random.Random) -> Bar:
    """A stripe in the left or right margin, or a tinted sidebar reaching into the text.

    Stripes stay in the margins (never over text: the ground truth must still be on the page).
    """
    if rng.random() < 0.6:
        width = rng.uniform(0.012, 0.03)
        left = rng.choice((rng.uniform(BAR_MARGIN_GAP, BAR_ZONE - width),
                           rng.uniform(1 - BAR_ZONE, 1 - BAR_MARGIN_GAP - width)))
        return Bar("bar", left, width, rng.uniform(0.0, 0.1), rng.uniform(0.85, 1.0),
                   rng.choice(BAR_COLOURS))
    width = rng.uniform(0.18, 0.3)
    left = rng.choice((rng.uniform(0.0, 0.05), rng.uniform(0.95, 1.0) - width))
    top = rng.uniform(0.1, 0.5)
    return Bar("sidebar", left, width, top, min(1.0, top + rng.uniform(0.2, 0.45)),
               rng.choice(SIDEBAR_COLOURS))


def draw(params: ScanParams, rng: random.Random) -> ScanDraw:
    """Draw one page's degradation values from ``params``' ranges."""
    angle = rng.uniform(-params.max_rotation_deg, params.max_rotation_deg)
    blur = rng.uniform(*params.blur_sigma)
    contrast = rng.uniform(*params.contrast)
    falloff = rng.uniform(*params.falloff)
    direction = rng.uniform(0.0, 360.0)
    noise = rng.uniform(*params.noise_sigma)
    quality = rng.randint(*params.jpeg_quality)
    seed = rng.getrandbits(32)
    bar = _draw_bar(rng) if rng.random() < params.bar_probability else None
    return ScanDraw(angle, blur, contrast, falloff, direction, noise, quality, seed, bar)


def fade_ink(a: np.ndarray, contrast: float) -> np.ndarray:
    """Bring ink towards white paper: ``255 - contrast * (255 - a)`` (float array, any shape)."""
    return PAPER - contrast * (PAPER - a)


def paint_bar(a: np.ndarray, bar: Bar) -> np.ndarray:
    """Print ``bar`` onto an RGB page (float ``(H, W, 3)``); a grey page gains colour channels.

    A solid bar covers what is under it; a sidebar is multiplied in, as a tint printed under the
    text, so the ink stays dark on it.
    """
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)  # (H, W, 3)
    H, W = a.shape[:2]
    x0, x1 = round(bar.left * W), round((bar.left + bar.width) * W)
    y0, y1 = round(bar.top * H), round(bar.bottom * H)
    colour = np.asarray(bar.colour, dtype=np.float32)
    if bar.kind == "bar":
        a[y0:y1, x0:x1] = colour
    else:
        a[y0:y1, x0:x1] *= colour / 255.0
    return a


def illumination(shape: tuple[int, int], falloff: float, direction_deg: float) -> np.ndarray:
    """``(H, W)`` light factors: 1 on the lit edge, ``1 - falloff`` on the far one, linear between."""
    H, W = shape
    theta = math.radians(direction_deg)
    ys, xs = np.mgrid[0:H, 0:W].astype(np.float32)  # (H, W) each
    t = xs * math.cos(theta) + ys * math.sin(theta)  # projection on the fall-off direction
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)  # (H, W) in [0, 1]
    return 1.0 - falloff * t


def _rotate(img: Image.Image, angle: float) -> Image.Image:
    fill = PAPER if img.mode == "L" else (PAPER,) * 3
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=fill)


def degrade(img: Image.Image, d: ScanDraw) -> Image.Image:
    """Apply the drawn degradations (all but JPEG) to a page image.

    Args:
        img: the clean page, ``L`` or ``RGB`` (e.g. a 150-DPI render).
        d: the values from :func:`draw`.

    Returns:
        An image of the same size: ``L`` if the page was grey and got no bar, else ``RGB``.
    """
    a = np.asarray(img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode),
                   dtype=np.float32)
    a = fade_ink(a, d.contrast)
    if d.bar is not None:
        a = paint_bar(a, d.bar)
    page = Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))
    page = _rotate(page, d.angle_deg).filter(ImageFilter.GaussianBlur(radius=d.blur_sigma))
    a = np.asarray(page, dtype=np.float32)
    light = illumination(a.shape[:2], d.falloff, d.falloff_direction_deg)  # (H, W)
    a = a * (light if a.ndim == 2 else light[:, :, None])
    gen = np.random.default_rng(d.noise_seed)
    a = a + gen.normal(0.0, d.noise_sigma, a.shape[:2])[(...,) + (None,) * (a.ndim - 2)]
    return Image.fromarray(np.clip(a, 0, 255).round().astype(np.uint8))


def to_jpeg(img: Image.Image, quality: int, dpi: Optional[int] = None) -> bytes:
    """The JPEG bytes of ``img`` (baseline, as scanners write them), with its DPI if given."""
    buf = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    img.save(buf, format="JPEG", quality=int(quality), optimize=True, **extra)
    return buf.getvalue()


def scan_page(img: Image.Image, rng: random.Random, params: ScanParams = SCAN,
              dpi: Optional[int] = None) -> tuple[bytes, ScanDraw]:
    """A scan-like JPEG of a clean page: draw the degradations, apply them, store as JPEG.

    Args:
        img: the clean page image.
        rng: the page's random source (seed it with the page id for a reproducible scan).
        params: the ranges (:data:`SCAN`, :data:`HARSH` or your own).
        dpi: resolution written into the JPEG header.

    Returns:
        (the JPEG file's bytes, what was drawn).
    """
    d = draw(params, rng)
    return to_jpeg(degrade(img, d), d.jpeg_quality, dpi), d


def image_pdf(jpeg: bytes, out: PathLike, dpi: float) -> Path:
    """Write an image-only one-page PDF around a JPEG (embedded as is, not re-encoded).

    The page is the image's size at ``dpi``, so rendering it at ``dpi`` gives back its pixels:
    the scanned PDF a user would OCR.
    """
    import pypdfium2 as pdfium

    with Image.open(io.BytesIO(jpeg)) as im:
        w_px, h_px = im.size
    w_pt, h_pt = w_px * POINTS_PER_INCH / dpi, h_px * POINTS_PER_INCH / dpi
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    pdf = pdfium.PdfDocument.new()
    try:
        page = pdf.new_page(w_pt, h_pt)
        obj = pdfium.PdfImage.new(pdf)
        obj.load_jpeg(io.BytesIO(jpeg), inline=True)
        obj.set_matrix(pdfium.PdfMatrix().scale(w_pt, h_pt))
        page.insert_obj(obj)
        page.gen_content()
        page.close()
        save_pdf(pdf, out)
    finally:
        pdf.close()
    return out


def stable_pdf_bytes(data: bytes) -> bytes:
    """pdfium's output with its clock-dependent parts fixed: the creation date becomes
    :data:`PDF_DATE` and the file ID a hash of the rest, so rebuilding a file gives the same bytes.
    Both keep their length, so the cross-reference offsets stay valid."""
    data = _PDF_DATE_RE.sub(PDF_DATE, data)
    digest = hashlib.md5(_PDF_ID_RE.sub(b"", data)).hexdigest().upper().encode()
    return _PDF_ID_RE.sub(b"/ID[<" + digest + b"><" + digest + b">]", data)


def save_pdf(pdf, out: PathLike) -> Path:
    """Save an open ``pypdfium2.PdfDocument`` to ``out`` byte-reproducibly (see
    :func:`stable_pdf_bytes`)."""
    buf = io.BytesIO()
    pdf.save(buf)
    out = Path(out)
    out.write_bytes(stable_pdf_bytes(buf.getvalue()))
    return out


def pdf_jpeg(path: PathLike) -> bytes:
    """The JPEG inside an image-only one-page PDF made by :func:`image_pdf` (bytes as stored).

    Raises:
        ValueError: the first page holds no single DCT-encoded image.
    """
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    pdf = pdfium.PdfDocument(str(path))
    try:
        page = pdf[0]
        images = list(page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,)))
        if len(images) != 1 or "DCTDecode" not in images[0].get_filters():
            raise ValueError(f"{path}: expected one JPEG image on the page, found "
                             f"{[o.get_filters() for o in images]}")
        data = bytes(images[0].get_data(decode_simple=False))
        page.close()
    finally:
        pdf.close()
    return data
