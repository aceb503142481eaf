"""One whole document: its style drawn from the config, then title block and body until the page
budget is spent.

Everything (style, content, DPI) is a function of the seed: one :class:`random.Random` seeded
with ``pdfgen-<seed>`` makes every choice, in a fixed order, so the same seed gives the same PDF
bytes (reportlab's ``invariant`` mode leaves out dates and ids).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Optional, Sequence

from docencoder.pdf.document import POINTS_PER_INCH

from .config import PAGE_SIZES, PdfGenConfig
from .content import Content, default_paragraphs
from .elements import ELEMENTS, DocumentState, title_block
from .faces import Family, truetype_families
from .typeset import DocumentFull, DocumentStyle, Typesetter

#: two-column documents are set no larger than this, points (one-column ones use the whole range)
TWO_COLUMN_MAX_PT = 10.5
#: the most common body size, points (the mode of the triangular draw)
BODY_MODE_PT = 10.0


@dataclass
class GeneratedPdf:
    """A generated document: the PDF bytes and, per page, the text pieces in drawing order."""

    pdf: bytes
    pages: list[list[str]]  # per page, what the typesetter drew, in reading order
    dpi: int  # the resolution it is to be rasterised at
    seed: int
    style: dict[str, Any]  # a summary of the look: columns, size, body, heading, justified, ...

    def page_text(self, index: int) -> str:
        """What the generator drew on page ``index``, pieces joined by newlines."""
        return "\n".join(self.pages[index])


def sample_style(cfg: PdfGenConfig, rng: random.Random) -> DocumentStyle:
    """Draw a document's look from the config's ranges (the running header is set later)."""
    fams = truetype_families()

    def pick(kinds: dict[str, float]) -> Family:
        kind = rng.choices(list(kinds), weights=list(kinds.values()))[0]
        return rng.choice([f for f in fams if f.kind == kind] or list(fams))

    body = pick(cfg.body_kinds)
    heading = body if rng.random() < 0.7 else pick({"helvetica": 1.0})
    mono = pick({"monospace": 1.0})
    columns = 2 if rng.random() < cfg.two_column_prob else 1
    # two-column papers use small type; one-column documents the whole range
    lo, hi = cfg.body_pt
    size = round(rng.triangular(lo, min(hi, TWO_COLUMN_MAX_PT) if columns == 2 else hi, BODY_MODE_PT), 1)
    justified = rng.random() < cfg.justified_prob
    page_number = rng.choices(["footer", "header", "none"], weights=[0.6, 0.25, 0.15])[0]
    return DocumentStyle(
        page=PAGE_SIZES[rng.choice(cfg.page_sizes)],
        margin=rng.uniform(*cfg.margin_in) * POINTS_PER_INCH,
        columns=columns, gutter=rng.uniform(*cfg.gutter_pt), body=body, heading=heading, mono=mono,
        size=size, leading=rng.uniform(*cfg.leading), justified=justified,
        hyphenate=justified and rng.random() < cfg.hyphenate_prob,
        indent_paragraphs=rng.random() < 0.6,
        header=None, header_rule=rng.random() < 0.5, page_number=page_number,
        table_grid=rng.random() < 0.3)


def body(st: DocumentState) -> None:
    """Elements drawn by the config's weights (never two headings in a row) until the typesetter
    raises :class:`.typeset.DocumentFull`."""
    kinds = list(st.cfg.element_weights)
    weights = list(st.cfg.element_weights.values())
    last = "heading"
    while True:
        kind = st.rng.choices(kinds, weights=weights)[0]
        if kind == "heading" and last == "heading":
            kind = "paragraph"
        ELEMENTS[kind](st)
        last = kind


def generate_pdf(paragraphs: Optional[Sequence[str]] = None, seed: int = 0,
                 cfg: Optional[PdfGenConfig] = None) -> GeneratedPdf:
    """Typeset one random whitepaper-like document.

    Args:
        paragraphs: prose to draw from (default: the project corpus, else a few fixed ones).
        seed: everything (style, content, DPI) is a function of the seed.
        cfg: sampling ranges.

    Returns:
        The PDF bytes and the drawn text per page (in drawing = reading order).
    """
    cfg = cfg or PdfGenConfig()
    paragraphs = paragraphs if paragraphs is not None else default_paragraphs()
    if not paragraphs:
        raise ValueError("no paragraphs to typeset")
    rng = random.Random(f"pdfgen-{seed}")  # the old module's name: changing it changes every document
    s = sample_style(cfg, rng)
    content = Content(paragraphs, rng)
    title = content.title_words(4, 10)
    if rng.random() < 0.7:
        s.header = " ".join(title.split()[: rng.randint(2, 5)])
    n_pages = rng.randint(*cfg.pages)
    dpi = rng.randint(*cfg.dpi)
    ts = Typesetter(s, n_pages, title)
    st = DocumentState(ts, content, rng, cfg)
    try:
        title_block(st, title)
        body(st)
    except DocumentFull:  # the only way out of body(): the page budget is used up
        pass
    pdf = ts.finish()
    style = {"columns": s.columns, "size": s.size, "body": s.body.family, "heading": s.heading.family,
             "justified": s.justified, "hyphenate": s.hyphenate, "page": list(s.page)}
    return GeneratedPdf(pdf, ts.pages, dpi, seed, style)
