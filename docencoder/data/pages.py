"""Whole-page samples for the page geometries (tiny ... large, and Gundam's global view).

DeepSeek-OCR feeds a page resized to the geometry with its aspect ratio kept and the rest padded;
:func:`docencoder.pdf.render.fit_page` does that (the reader's page path calls it too). Page
sources: page shards (``docencoder data from-pdfs`` / ``data synth-pdf``) or, without shards,
documents generated on the fly by :mod:`.synth`.
"""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Sequence

from PIL import Image

from docencoder.pdf.render import fit_page

from .shards import iter_tar, read_manifest
from .tokenizer import normalize_text


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
            return fit_page(Image.open(io.BytesIO(png)), width=self.width, height=self.height), text
        from .synth import PdfGenConfig, document_samples, generate_pdf
        doc = generate_pdf(self.paragraphs, seed=rng.getrandbits(31), cfg=PdfGenConfig(pages=(1, 1)))
        page = document_samples(doc, kinds=("page",))[0]
        return fit_page(page.image, width=self.width, height=self.height), normalize_text(page.text)
