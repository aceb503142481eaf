"""Synthetic whitepaper-like PDFs with exact ground truth, rasterised like the CLI's pages.

Why generate PDFs rather than draw text images directly: inference reads PDFs rendered by
:func:`docencoder.pdf.render.render_page`, so training pages should come out of the same renderer,
with the same hinting, anti-aliasing and layout conventions (columns, justified text with
hyphenation, footnotes, captions, ruled tables, display math, running headers, page numbers).

Ground truth is taken from the generated PDF's own text layer (:mod:`docencoder.pdf.textlayer`),
exactly as for real digital PDFs; the generator also records the text it drew, in drawing order,
so a test can prove that both agree.

The modules, in the order they build on each other:

- :mod:`.config`: :class:`PdfGenConfig`, the sampling ranges.
- :mod:`.faces`: the TrueType families registered with reportlab, the standard PDF fonts;
  :func:`fit_text`.
- :mod:`.linebreak`: words, widths, greedy line breaking and hyphenation.
- :mod:`.typeset`: the :class:`~.typeset.Typesetter` (pages, columns, footnotes), no randomness.
- :mod:`.content`: corpus prose cut into titles, sentences, cells, code, formulas.
- :mod:`.elements`: one function per element (heading, paragraph, list, code, math, figure, table).
- :mod:`.document`: :func:`generate_pdf`, one whole document from a seed.
- :mod:`.samples`: :func:`document_samples`, :class:`PdfGenerator` (rendered and cut).
- :mod:`.shards`: :func:`synth_to_shards` (``docencoder data synth-pdf``).
"""

from .config import ELEMENT_KINDS, PAGE_SIZES, PdfGenConfig
from .content import FALLBACK_PARAGRAPHS, default_paragraphs
from .document import GeneratedPdf, generate_pdf
from .faces import Face, Family, fit_text, standard_face, truetype_families
from .samples import PdfGenerator, PdfSample, document_samples
from .shards import synth_to_shards

__all__ = [
    "ELEMENT_KINDS", "FALLBACK_PARAGRAPHS", "PAGE_SIZES", "Face", "Family", "GeneratedPdf",
    "PdfGenConfig", "PdfGenerator", "PdfSample", "default_paragraphs", "document_samples",
    "fit_text", "generate_pdf", "standard_face", "synth_to_shards", "truetype_families",
]
