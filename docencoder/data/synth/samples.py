"""Training samples cut from generated documents, and an endless deterministic stream of them.

A generated PDF is rendered and cut exactly as a real digital PDF is
(:func:`docencoder.data.pdf_shards.pdf_samples`: pages rendered by
:func:`docencoder.pdf.render.render_page`, ground truth from the text layer), so synthetic and
real samples differ only in where the PDF came from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Optional, Sequence

from PIL import Image

from .config import PdfGenConfig
from .content import default_paragraphs
from .document import GeneratedPdf, generate_pdf

#: the ``generator`` recorded in every sample's metadata, and the stem of source and shard names
#: (the generator's first module was ``pdfgen.py``; existing shard sets carry the name)
GENERATOR = "pdfgen"


def source_name(seed: int) -> str:
    """The ``source`` of the document generated with ``seed`` (its shard resume key)."""
    return f"{GENERATOR}-{seed}"


@dataclass
class PdfSample:
    """One (image, text) pair cut from a rendered PDF."""

    kind: str  # "page", "block" or "line"
    image: Image.Image  # grayscale
    text: str
    meta: dict[str, Any]


def document_samples(doc: GeneratedPdf, kinds: Sequence[str] = ("page", "line"),
                     source: str = "synthetic") -> list[PdfSample]:
    """Render a generated document (:func:`docencoder.pdf.render.render_page`) and cut its
    (page|block|line image, text) pairs."""
    from ..pdf_shards import pdf_samples

    out = []
    for page in pdf_samples(doc.pdf, dpi=doc.dpi, kinds=kinds):
        for kind, image, text, meta in page.samples:
            meta.update(source=source, seed=doc.seed, generator=GENERATOR)
            out.append(PdfSample(kind, image, text, meta))
    return out


class PdfGenerator:
    """An endless, deterministic stream of synthetic PDF samples (document ``i`` = seed + i)."""

    def __init__(self, paragraphs: Optional[Sequence[str]] = None, cfg: Optional[PdfGenConfig] = None,
                 seed: int = 0, kinds: Sequence[str] = ("page", "line")) -> None:
        self.paragraphs = paragraphs if paragraphs is not None else default_paragraphs()
        self.cfg = cfg or PdfGenConfig()
        self.seed = seed
        self.kinds = tuple(kinds)

    def document(self, index: int) -> list[PdfSample]:
        """The samples of document ``index`` (seed ``seed + index``)."""
        doc = generate_pdf(self.paragraphs, seed=self.seed + index, cfg=self.cfg)
        return document_samples(doc, self.kinds, source=source_name(self.seed + index))

    def __iter__(self) -> Iterator[PdfSample]:
        index = 0
        while True:
            yield from self.document(index)
            index += 1
