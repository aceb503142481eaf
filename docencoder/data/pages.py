"""Whole-page samples for the page geometries (tiny ... large, and Gundam's global view).

DeepSeek-OCR feeds a page resized to the geometry with its aspect ratio kept and the rest padded;
:func:`fit_page` does that. Page sources: page shards (``docencoder data from-pdfs`` /
``data synth-pdf``) or, without shards, documents generated on the fly by ``pdfgen``.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Sequence

from PIL import Image

from .shards import iter_tar, read_manifest
from .tokenizer import normalize_text


def fit_page(img: Image.Image, height: int, width: int) -> Image.Image:
    """Scale a page to fit ``height x width`` (aspect kept), top-left on white; grayscale."""
    page = img.convert("L")
    s = min(height / page.height, width / page.width)
    w, h = max(1, round(page.width * s)), max(1, round(page.height * s))
    canvas = Image.new("L", (width, height), 255)
    canvas.paste(page.resize((w, h), Image.Resampling.BICUBIC), (0, 0))  # top-left, as the OCR page path
    return canvas


class PageSource:
    """Random-access ``(page image, text)`` pairs fitted to a geometry."""

    def __init__(self, height: int, width: int, shard_dirs: Sequence[str | Path] = (),
                 paragraphs: Sequence[str] | None = None) -> None:
        self.height, self.width = height, width
        self.items: list[tuple[bytes, str]] = []
        for d in shard_dirs:
            for shard in read_manifest(d)["shards"]:
                for s in iter_tar(Path(d) / shard["name"], decode=False):
                    if s.meta.get("kind") == "page" and s.text.strip():
                        self.items.append((s.image, normalize_text(s.text)))  # type: ignore[arg-type]
        self.paragraphs = paragraphs

    def sample(self, rng: random.Random) -> tuple[Image.Image, str]:
        if self.items:
            png, text = self.items[rng.randrange(len(self.items))]
            return fit_page(Image.open(io.BytesIO(png)), self.height, self.width), text
        from .pdfgen import PdfGenConfig, document_samples, generate_pdf
        doc = generate_pdf(self.paragraphs, seed=rng.getrandbits(31), cfg=PdfGenConfig(pages=(1, 1)))
        page = document_samples(doc, kinds=("page",))[0]
        return fit_page(page.image, self.height, self.width), normalize_text(page.text)
