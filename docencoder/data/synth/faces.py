"""The installed TrueType families, registered with reportlab, and what each face can draw.

reportlab embeds TrueType fonts only (the OpenType/CFF files of :mod:`docencoder.data.fonts` are
skipped), and a character the font lacks would be drawn as a missing-glyph box while the text says
the character: ground truth and image would disagree. So every text is first restricted to the
face's cmap by :func:`fit_text`. The standard PDF fonts (:func:`standard_face`) need no file; the
test and sample PDFs of :mod:`docencoder.ocr.samples` are set in them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..fonts import Font, available_fonts

#: ASCII stand-ins for math symbols a font lacks (applied before dropping what still is missing)
ASCII_MATH: dict[str, str] = {
    "Σ": "sum", "∑": "sum", "∫": "int", "≤": "<=", "≥": ">=", "≈": "~", "∈": "in",
    "−": "-", "‖": "||", "∇": "grad", "ε": "eps", "η": "eta", "θ": "theta",
    "λ": "lambda", "μ": "mu", "σ": "sigma", "α": "alpha", "β": "beta", "γ": "gamma",
    "π": "pi", "×": "x", "·": "*", "…": "...", "→": "->", "∞": "inf", "²": "^2",
    "•": "-", "–": "-", "—": "-", "∂": "d", "√": "sqrt", "δ": "delta", "φ": "phi",
    "ω": "omega", "Δ": "Delta", "Ω": "Omega", "ρ": "rho", "τ": "tau", "ξ": "xi"}


@dataclass(frozen=True)
class Face:
    """One registered reportlab font and the code points it can draw."""

    name: str  # the reportlab font name (``dx-<family>-<style>``), as written into the PDF
    cmap: frozenset[int]  # code points with a glyph


@functools.lru_cache(maxsize=None)
def register(font: Font) -> Face:
    """Register ``font`` with reportlab once (registration is process-global) and return its face."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    name = f"dx-{font.family.replace(' ', '')}-{font.style}"
    tt = TTFont(name, str(font.path))
    pdfmetrics.registerFont(tt)
    return Face(name, frozenset(tt.face.charToGlyph))


@functools.lru_cache(maxsize=None)
def standard_face(name: str) -> Face:
    """One of the standard PDF fonts every viewer has (``Times-Roman``, ``Helvetica-Bold``, ...):
    nothing to register or embed. reportlab draws them in WinAnsi encoding (cp1252), so those are
    the code points they can draw; Symbol and ZapfDingbats, with encodings of their own, are refused."""
    from reportlab.pdfbase import pdfmetrics

    if name not in pdfmetrics.standardFonts:
        raise ValueError(f"{name!r} is not a standard PDF font: {', '.join(pdfmetrics.standardFonts)}")
    encoding = pdfmetrics.getFont(name).encoding
    if encoding.name != "WinAnsiEncoding":
        raise ValueError(f"{name!r} is drawn in {encoding.name}, not in WinAnsi")
    chars = (bytes([i]).decode("cp1252", errors="ignore") for i, glyph in enumerate(encoding.vector) if glyph)
    return Face(name, frozenset(ord(c) for c in chars if c))  # cp1252's five unused bytes decode to ""


@dataclass(frozen=True)
class Family:
    """Regular/bold/italic faces of one family (missing styles fall back to regular)."""

    family: str  # e.g. "Liberation Serif"
    kind: str  # look-alike class, e.g. "times" (:attr:`docencoder.data.fonts.Font.kind`)
    faces: dict[str, Face]  # by style: "regular", "bold", "italic", "bolditalic"

    def face(self, style: str) -> Face:
        """The face of ``style``, else bold for a bold style, else regular."""
        return self.faces.get(style) or self.faces.get("bold" if "bold" in style else "regular") \
            or self.faces["regular"]


@functools.lru_cache(maxsize=1)
def truetype_families() -> tuple[Family, ...]:
    """Every family with a TrueType regular face, registered with reportlab."""
    by_family: dict[str, dict[str, Face]] = {}
    kinds: dict[str, str] = {}
    for font in available_fonts():
        if font.truetype:
            by_family.setdefault(font.family, {})[font.style] = register(font)
            kinds[font.family] = font.kind
    fams = tuple(Family(f, kinds[f], faces) for f, faces in by_family.items() if "regular" in faces)
    if not fams:
        raise RuntimeError("no TrueType fonts found for reportlab: install fonts-cmu, "
                           "fonts-liberation, fonts-freefont-ttf or fonts-dejavu-core")
    return fams


def fit_text(text: str, face: Face) -> str:
    """``text`` restricted to what ``face`` can draw: ASCII stand-ins first, then dropped words."""
    if all(ord(c) in face.cmap or c == " " for c in text):
        return text
    text = "".join(c if ord(c) in face.cmap else ASCII_MATH.get(c, c) for c in text)
    words = [w for w in text.split(" ") if all(ord(c) in face.cmap for c in w)]
    return " ".join(w for w in words if w)
