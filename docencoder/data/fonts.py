"""The fonts whitepapers are set in, found among Debian's font packages.

``make run`` / ``make test`` install the packages (fonts-lmodern, fonts-cmu, fonts-texgyre,
fonts-linuxlibertine, fonts-liberation, fonts-freefont-ttf, fonts-dejavu-core, fonts-urw-base35);
this module only looks for their files, so a missing package shrinks the set instead of failing.
"""

from __future__ import annotations

import functools
import glob
from dataclasses import dataclass
from pathlib import Path

#: (family, look-alike class, {style: glob}) — the classes are what whitepapers use
_CANDIDATES: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("Latin Modern Roman", "computer-modern", {
        "regular": "/usr/share/texmf/fonts/opentype/public/lm/lmroman10-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/lm/lmroman10-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/lm/lmroman10-italic.otf",
        "bolditalic": "/usr/share/texmf/fonts/opentype/public/lm/lmroman10-bolditalic.otf"}),
    ("CMU Serif", "computer-modern", {
        "regular": "/usr/share/fonts/truetype/cmu/cmunrm.ttf",
        "bold": "/usr/share/fonts/truetype/cmu/cmunbx.ttf",
        "italic": "/usr/share/fonts/truetype/cmu/cmunti.ttf",
        "bolditalic": "/usr/share/fonts/truetype/cmu/cmunbi.ttf"}),
    ("TeX Gyre Termes", "times", {
        "regular": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyretermes-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyretermes-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyretermes-italic.otf",
        "bolditalic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyretermes-bolditalic.otf"}),
    ("Liberation Serif", "times", {
        "regular": "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
        "bold": "/usr/share/fonts/truetype/liberation/LiberationSerif-Bold.ttf",
        "italic": "/usr/share/fonts/truetype/liberation/LiberationSerif-Italic.ttf",
        "bolditalic": "/usr/share/fonts/truetype/liberation/LiberationSerif-BoldItalic.ttf"}),
    ("FreeSerif", "times", {
        "regular": "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
        "bold": "/usr/share/fonts/truetype/freefont/FreeSerifBold.ttf",
        "italic": "/usr/share/fonts/truetype/freefont/FreeSerifItalic.ttf",
        "bolditalic": "/usr/share/fonts/truetype/freefont/FreeSerifBoldItalic.ttf"}),
    ("TeX Gyre Heros", "helvetica", {
        "regular": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyreheros-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyreheros-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyreheros-italic.otf",
        "bolditalic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyreheros-bolditalic.otf"}),
    ("Liberation Sans", "helvetica", {
        "regular": "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "bold": "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
        "italic": "/usr/share/fonts/truetype/liberation/LiberationSans-Italic.ttf",
        "bolditalic": "/usr/share/fonts/truetype/liberation/LiberationSans-BoldItalic.ttf"}),
    ("DejaVu Sans", "helvetica", {
        "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "bold": "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"}),
    ("TeX Gyre Pagella", "palatino", {
        "regular": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrepagella-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrepagella-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrepagella-italic.otf",
        "bolditalic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrepagella-bolditalic.otf"}),
    ("Linux Libertine", "libertine", {
        "regular": "/usr/share/fonts/opentype/linux-libertine/LinLibertine_R.otf",
        "bold": "/usr/share/fonts/opentype/linux-libertine/LinLibertine_RB.otf",
        "italic": "/usr/share/fonts/opentype/linux-libertine/LinLibertine_RI.otf",
        "bolditalic": "/usr/share/fonts/opentype/linux-libertine/LinLibertine_RBI.otf"}),
    ("TeX Gyre Bonum", "bookman", {
        "regular": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrebonum-italic.otf"}),
    ("Latin Modern Mono", "monospace", {
        "regular": "/usr/share/texmf/fonts/opentype/public/lm/lmmono10-regular.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/lm/lmmono10-italic.otf"}),
    ("Liberation Mono", "monospace", {
        "regular": "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
        "bold": "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf"}),
    ("DejaVu Sans Mono", "monospace", {
        "regular": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"}),
    # Courier look-alikes: manuals set program output and code in Courier (MrBayes, normaliz), thin
    # serifed strokes that the three faces above do not have (from leg 5 of the CPU recipe)
    ("TeX Gyre Cursor", "monospace", {
        "regular": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrecursor-regular.otf",
        "bold": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrecursor-bold.otf",
        "italic": "/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyrecursor-italic.otf"}),
    ("Nimbus Mono PS", "monospace", {
        "regular": "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Regular.otf",
        "bold": "/usr/share/fonts/opentype/urw-base35/NimbusMonoPS-Bold.otf"}),
    ("FreeMono", "monospace", {
        "regular": "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
        "bold": "/usr/share/fonts/truetype/freefont/FreeMonoBold.ttf"}),
)

#: Debian packages that provide the fonts above (installed by the Makefile)
FONT_PACKAGES = ("fonts-lmodern", "fonts-cmu", "fonts-texgyre", "fonts-linuxlibertine",
                 "fonts-liberation", "fonts-freefont-ttf", "fonts-dejavu-core", "fonts-urw-base35")


@dataclass(frozen=True)
class Font:
    """One font file: family, look-alike class, style and path."""

    family: str
    kind: str  # computer-modern, times, helvetica, palatino, libertine, bookman, monospace
    style: str  # regular, bold, italic, bolditalic
    path: Path

    def covers(self, text: str) -> bool:
        """True when the font has a glyph for every non-space character of ``text``.

        A missing glyph renders as nothing (or a box) while the label keeps the character, which
        teaches the model to write what it cannot see.
        """
        cmap = _cmap(self.path)
        return all(ord(ch) in cmap for ch in text if not ch.isspace())

    @property
    def truetype(self) -> bool:
        """True for TrueType outlines, which reportlab can embed in a PDF (CFF .otf it cannot)."""
        return self.path.suffix.lower() == ".ttf"


@functools.lru_cache(maxsize=None)
def _cmap(path: Path) -> frozenset[int]:
    """Code points a font file maps to glyphs."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as f:
        return frozenset(f.getBestCmap() or {})


@functools.lru_cache(maxsize=1)
def available_fonts() -> tuple[Font, ...]:
    """Every known font whose file exists on this machine."""
    found = []
    for family, kind, styles in _CANDIDATES:
        for style, pattern in styles.items():
            for path in sorted(glob.glob(pattern)):
                found.append(Font(family, kind, style, Path(path)))
    if not found:
        raise RuntimeError("no whitepaper fonts found: install " + " ".join(FONT_PACKAGES))
    return tuple(found)
