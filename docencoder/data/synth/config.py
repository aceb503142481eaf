"""The sampling ranges of the synthetic whitepaper generator.

Every document draws its look (page size, columns, type size, justification, fonts, DPI) and its
mix of elements from these ranges, so one config describes a whole population of documents; the
seed picks one member. The ranges were chosen to span what arXiv-style papers and manuals use.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: page sizes a document may be set on, ``(width, height)`` in PDF points
PAGE_SIZES: dict[str, tuple[float, float]] = {"letter": (612.0, 792.0), "a4": (595.2756, 841.8898)}

#: the elements of the running text; :data:`.elements.ELEMENTS` draws each of them
ELEMENT_KINDS: tuple[str, ...] = ("paragraph", "heading", "list", "math", "figure", "table", "code",
                                  "footnote_paragraph")


def _check_range(name: str, lo_hi: tuple[float, float], low: float = 0.0) -> None:
    lo, hi = lo_hi
    if not low <= lo <= hi:
        raise ValueError(f"{name} must be a range ({low} <= low <= high), got {lo_hi}")


def _check_weights(name: str, weights: dict[str, float]) -> None:
    if not weights or any(v < 0 for v in weights.values()) or sum(weights.values()) <= 0:
        raise ValueError(f"{name} needs non-negative weights with a positive sum, got {weights}")


@dataclass
class PdfGenConfig:
    """Sampling ranges of the whitepaper generator (per document unless noted)."""

    pages: tuple[int, int] = (1, 2)  # pages per document
    body_pt: tuple[float, float] = (7.0, 12.0)  # body text size; headings go up to ``max_pt``
    max_pt: float = 14.0  # largest heading size (the title may reach 1.3x this)
    two_column_prob: float = 0.5  # share of two-column documents
    justified_prob: float = 0.65  # share of justified documents (the others are ragged right)
    hyphenate_prob: float = 0.6  # share of justified documents that hyphenate
    page_sizes: tuple[str, ...] = ("letter", "a4")  # names in :data:`PAGE_SIZES`, drawn uniformly
    margin_in: tuple[float, float] = (0.6, 1.2)  # page margins, inches
    gutter_pt: tuple[float, float] = (12.0, 26.0)  # column gap
    leading: tuple[float, float] = (1.12, 1.3)  # baseline distance / font size
    dpi: tuple[int, int] = (100, 300)  # rasterisation resolution (per document)
    #: look-alike classes (:attr:`docencoder.data.fonts.Font.kind`) for the body text and how
    #: often each is drawn; a class with no installed family falls back to any family
    body_kinds: dict[str, float] = field(default_factory=lambda: {
        "computer-modern": 0.45, "times": 0.35, "helvetica": 0.2})
    #: element mix of the running text (keys from :data:`ELEMENT_KINDS`)
    element_weights: dict[str, float] = field(default_factory=lambda: {
        "paragraph": 0.56, "heading": 0.09, "list": 0.07, "math": 0.09, "figure": 0.05,
        "table": 0.07, "code": 0.04, "footnote_paragraph": 0.03})

    def __post_init__(self) -> None:
        _check_range("pages", self.pages, low=1)
        _check_range("body_pt", self.body_pt, low=1.0)
        if self.max_pt < self.body_pt[0]:
            raise ValueError(f"max_pt ({self.max_pt}) is below the smallest body size {self.body_pt[0]}")
        for name in ("two_column_prob", "justified_prob", "hyphenate_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be a probability, got {getattr(self, name)}")
        unknown = [p for p in self.page_sizes if p not in PAGE_SIZES]
        if not self.page_sizes or unknown:
            raise ValueError(f"page_sizes must name some of {sorted(PAGE_SIZES)}, got {self.page_sizes}")
        _check_range("margin_in", self.margin_in)
        _check_range("gutter_pt", self.gutter_pt)
        _check_range("leading", self.leading, low=1.0)
        _check_range("dpi", self.dpi, low=1)
        _check_weights("body_kinds", self.body_kinds)
        _check_weights("element_weights", self.element_weights)
        unknown = [k for k in self.element_weights if k not in ELEMENT_KINDS]
        if unknown:
            raise ValueError(f"unknown element kinds {unknown}; known: {list(ELEMENT_KINDS)}")
