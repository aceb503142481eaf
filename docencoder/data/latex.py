"""Training lines typeset by pdfLaTeX: publisher classes, text faces, 7-12 pt, 1-2 columns.

Why: users OCR whitepapers, and those are made by LaTeX — its line breaking and hyphenation,
ligatures, kerning, math, small tables, footnotes and reference lists in the faces publisher
classes use. The PIL lines (:mod:`.lines`) and the reportlab documents (:mod:`.synth`) look
different, and the Debian PDFs (``data from-pdfs``) hold few journal pages. This module writes
random LaTeX papers, typesets them and cuts line samples from their text layer with the existing
pipeline (:func:`docencoder.data.pdf_shards.from_pdfs`), so the labels are what is printed and
pass the same trust check as every other PDF line.

Text comes ONLY from the project corpus (``data/corpus/corpus.txt.gz``) and the training split of
the unpredictable-text word list (:mod:`.vocab`; its probe split stays unseen). No package
description, no ``-doc`` package, nothing of ``data/devset_wp`` is read: those are evaluation data.

Usage::

    docencoder data latex -o data/shards/latex --docs 200 --seed 7   # PDFs in data/cache/latex/

Deterministic for ``--seed`` (document ``i`` uses ``seed + i``; pdfLaTeX runs with a fixed
``SOURCE_DATE_EPOCH``); re-running resumes (PDFs already made are kept, shards resume).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .corpus import REPO_ROOT, load_corpus

#: default folder of the typeset PDFs (git-ignored)
DEFAULT_PDF_DIR = REPO_ROOT / "data" / "cache" / "latex"
#: pdfLaTeX's clock (2025-06-01 UTC): fixed so rebuilds are byte-identical
LATEX_DATE_EPOCH = 1748736000
#: make pdfTeX write a ToUnicode map for every font, so the text layer spells the glyphs
TO_UNICODE = r"\input{glyphtounicode}\pdfgentounicode=1"

# ---------------------------------------------------------------------- escaping
_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}", '"': r"\textquotedbl{}", "`": r"\textasciigrave{}"}
_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _ESCAPES))
#: non-ASCII characters pdfLaTeX sets with T1 + utf8 in every face used here; a paragraph or
#: word holding anything else is not used (no missing-glyph boxes, no fallback glyphs)
_EXTRA_OK = frozenset("’‘“”–—©°§±·«»ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßŁł")


def printable(text: str) -> bool:
    """True when every character of ``text`` is printable ASCII or in :data:`_EXTRA_OK`."""
    return all(" " <= c <= "~" or c in _EXTRA_OK for c in text)


def escape(text: str) -> str:
    """Plain text -> LaTeX that prints exactly these characters.

    Besides the special characters, T1 fonts have ligatures that would change what is printed:
    ``--``/``---`` (dashes: man-page options like ``--verbose`` must keep two hyphens), ``''``
    and ``,,`` (quotes), ``<<``/``>>`` (guillemets, avoided by the escapes); an empty group
    breaks them. Ligatures of letters (fi, fl, ff) stay: they are decomposed in the labels.
    """
    s = _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)
    s = re.sub(r"-(?=-)", "-{}", s)
    s = re.sub(r"'(?=')", "'{}", s)
    return re.sub(r",(?=,)", ",{}", s)


# ---------------------------------------------------------------------- styles
@dataclass(frozen=True)
class ClassStyle:
    """A document class: how to load it at a size, in one or two columns, and its title block.

    ``sizes`` are the point sizes the class offers (``None``: any, as KOMA's ``fontsize=``);
    ``fonts``: whether other text faces may be loaded (acmart sets its own).
    """

    name: str
    cls: str
    sizes: Optional[tuple[int, ...]]
    columns: tuple[int, ...]
    options: Callable[[int, int], str]  # (size, columns) -> option list
    front: str = "plain"  # title-block flavour, see _front
    fonts: bool = True
    geometry: bool = False  # the class leaves margins to geometry.sty


def _opt_size(size: int, cols: int) -> str:
    return f"{size}pt" + (",twocolumn" if cols == 2 else "")


CLASSES: tuple[ClassStyle, ...] = (
    ClassStyle("article", "article", (10, 11, 12), (1, 2), _opt_size, geometry=True),
    ClassStyle("extarticle", "extarticle", (8, 9, 10, 11, 12), (1, 2), _opt_size, geometry=True),
    ClassStyle("scrartcl", "scrartcl", None, (1, 2),
               lambda s, c: f"fontsize={s}pt" + (",twocolumn" if c == 2 else ""), geometry=True),
    ClassStyle("ieeetran", "IEEEtran", (9, 10, 11, 12), (1, 2),
               lambda s, c: f"{s}pt," + ("conference" if c == 2 else "journal,onecolumn"),
               front="ieee"),
    ClassStyle("elsarticle", "elsarticle", (10, 11, 12), (1, 2),
               lambda s, c: f"{s}pt," + ("5p,twocolumn" if c == 2 else "preprint"), front="els"),
    ClassStyle("revtex", "revtex4-2", (10, 11, 12), (1, 2),
               lambda s, c: f"{s}pt,aps,prl,nofootinbib," + ("reprint" if c == 2 else "preprint"),
               front="revtex"),
    ClassStyle("amsart", "amsart", (8, 9, 10, 11, 12), (1,), lambda s, c: f"{s}pt", front="ams"),
    ClassStyle("acmart", "acmart", (9, 10), (1, 2),
               lambda s, c: ("sigconf" if c == 2 else "acmsmall") + ",nonacm", front="acm",
               fonts=False),
    ClassStyle("llncs", "llncs", (10,), (1,), lambda s, c: "runningheads", front="llncs"),
    ClassStyle("mnras", "mnras", (9,), (2,), lambda s, c: "", front="plain"),
)

#: text faces with their math: (name, preamble)
FONTS: tuple[tuple[str, str], ...] = (
    ("cm-super", ""),
    ("lmodern", r"\usepackage{lmodern}"),
    ("mathptmx", r"\usepackage{mathptmx}"),
    ("newtx", r"\usepackage{newtxtext,newtxmath}"),
    ("mathpazo", r"\usepackage{mathpazo}"),
    ("newpx", r"\usepackage{newpxtext,newpxmath}"),
    ("libertine", r"\usepackage{libertine}\usepackage[libertine]{newtxmath}"),
    ("charter", r"\usepackage{charter}"),
    ("helvet", r"\usepackage[scaled]{helvet}\renewcommand{\familydefault}{\sfdefault}"),
    ("fourier", r"\usepackage{fourier}"),
    ("bookman", r"\usepackage{bookman}"),
    ("tgtermes", r"\usepackage{tgtermes}"),
    ("tgpagella", r"\usepackage{tgpagella}"),
    ("tgschola", r"\usepackage{tgschola}"),
    ("kpfonts", r"\usepackage{kpfonts}"),
)


@dataclass(frozen=True)
class LatexConfig:
    """What a document may hold; every choice is drawn per document from its seed.

    ``sizes``: body sizes in points (a class that lacks one takes its nearest); ``two_column``:
    share of two-column documents (where the class has both); ``random_word_prob``: share of
    prose words replaced by a word-list word (names, chemistry terms: words the decoder cannot
    guess, in running text); ``paragraphs``: body paragraphs (about 2-4 pages).
    """

    sizes: tuple[int, ...] = (7, 8, 9, 9, 10, 10, 10, 11, 11, 12)
    two_column: float = 0.55
    paragraphs: tuple[int, int] = (7, 14)
    random_word_prob: float = 0.06
    classes: tuple[str, ...] = tuple(c.name for c in CLASSES)
    fonts: tuple[str, ...] = tuple(f[0] for f in FONTS)
    latex_runs: int = 2  # the second resolves citations (no "[?]" printed)
    timeout_s: int = 120


# ---------------------------------------------------------------------- text
@dataclass
class TextSource:
    """Corpus paragraphs and training-split words, filtered to what the faces can print."""

    paragraphs: list[str]
    words: list[str]
    proper: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, corpus: Optional[str] = None, words: Optional[Sequence[str]] = None) -> "TextSource":
        """The corpus and the word list's training split (``vocab.load_words("train")``);
        falls back to corpus words when the word list is not installed."""
        paras = [p for p in load_corpus(corpus) if printable(p)]
        if words is None:
            try:
                from .vocab import load_words

                words = load_words("train")
            except FileNotFoundError:
                words = sorted({w.strip(".,;:()") for p in paras[:5000] for w in p.split()})
        ws = [w for w in words if w and printable(w) and len(w) < 24]
        return cls(paras, ws, [w for w in ws if w[:1].isupper()] or ws)


class _Doc:
    """Draws one document's content from a seeded RNG."""

    def __init__(self, src: TextSource, rng: random.Random, cfg: LatexConfig) -> None:
        self.src, self.rng, self.cfg = src, rng, cfg
        self.n_refs = rng.randint(6, 14)

    # plain pieces -------------------------------------------------------
    def word(self) -> str:
        return self.rng.choice(self.src.words)

    def name(self) -> str:
        r = self.rng
        return f"{r.choice(self.src.proper)} {r.choice('ABCDEFGHJKLMNPRSTVW')}. {r.choice(self.src.proper)}" \
            if r.random() < 0.3 else f"{r.choice(self.src.proper)} {r.choice(self.src.proper)}"

    def phrase(self, lo: int = 3, hi: int = 9) -> str:
        """A few words cut from a corpus paragraph (titles, captions, headings)."""
        words = self.rng.choice(self.src.paragraphs).split()
        n = min(len(words), self.rng.randint(lo, hi))
        i = self.rng.randrange(0, len(words) - n + 1)
        out = " ".join(words[i:i + n]).strip(" ,;:.")
        return out[:1].upper() + out[1:] if out else self.word()

    def identifier(self) -> str:
        parts = [self.rng.choice(self.src.words).lower().replace("'", "")[:8] for _ in range(2)]
        return self.rng.choice(("_".join(parts), parts[0] + parts[1].capitalize(),
                                "--" + "-".join(parts), parts[0] + "()"))

    def email(self) -> str:
        a = re.sub(r"[^a-z]", "", self.word().lower())[:10] or "info"
        b = re.sub(r"[^a-z]", "", self.word().lower())[:10] or "lab"
        return f"{a}@{b}.{self.rng.choice(('org', 'edu', 'de', 'ac.uk', 'fr', 'jp', 'com'))}"

    # LaTeX pieces -------------------------------------------------------
    def inline_math(self) -> str:
        r = self.rng
        a, b = r.sample(("x", "y", "z", "n", "k", "t", r"\alpha", r"\beta", r"\lambda",
                         r"\sigma", r"\mu", r"\varepsilon", "N", "T"), 2)
        return r.choice((
            f"${a}_{{{r.randint(0, 9)}}} = {r.uniform(0, 99):.{r.randint(1, 3)}f}$",
            f"${a} \\leq {r.randint(2, 500)}$", f"${a}^{{{r.randint(2, 4)}}} + {b}$",
            f"$O({a} \\log {a})$", f"${a} \\in [0, {r.randint(1, 9)}]$",
            f"${a}/{b} \\approx {r.uniform(0, 3):.2f}$", f"$p < 0.0{r.randint(1, 5)}$",
            f"${r.randint(2, 99)}\\times {r.randint(2, 99)}$", f"${a} \\to \\infty$"))

    def display_math(self) -> str:
        r = self.rng
        s = r.sample(("x", "y", "u", "v", "w", r"\theta", r"\phi", r"\psi", r"\rho", "f", "g"), 3)
        n = r.randint(2, 40)
        eqs = (
            f"{s[0]}_{{t+1}} = {s[0]}_t - \\eta \\nabla {s[1]}({s[0]}_t) + {r.uniform(0, 1):.3f}",
            f"\\sum_{{i=1}}^{{{n}}} {s[0]}_i {s[1]}_i \\le \\Bigl(\\sum_i {s[0]}_i^2\\Bigr)^{{1/2}}"
            f" \\Bigl(\\sum_i {s[1]}_i^2\\Bigr)^{{1/2}}",
            f"{s[2]}({s[0]}) = \\frac{{1}}{{\\sqrt{{2\\pi}}\\,\\sigma}} "
            f"\\exp\\left(-\\frac{{({s[0]}-\\mu)^2}}{{2\\sigma^2}}\\right)",
            f"\\|{s[0]} - {s[1]}\\|_2 \\le {r.randint(2, 9)}\\,\\epsilon, \\quad "
            f"{s[2]} \\in \\mathbb{{R}}^{{{n}}}",
            f"L = -\\sum_{{k=1}}^{{{n}}} y_k \\log \\hat{{y}}_k + \\lambda \\lVert {s[0]} \\rVert^2",
            f"\\int_0^{{{n}}} {s[0]}(t)\\, dt = {r.uniform(1, 99):.2f}",
        )
        eq = r.choice(eqs)
        return (r"\begin{equation}" f"\n{eq}\n" r"\end{equation}") if r.random() < 0.7 else \
            (r"\[" f"{eq}" r"\]")

    def sentence_markup(self, text: str) -> str:
        """An escaped paragraph with random words, emphasis, code, math, citations, a footnote."""
        r = self.rng
        words = text.split()
        out = []
        for w in words:
            if r.random() < self.cfg.random_word_prob:
                trail = re.match(r".*?([.,;:]*)$", w).group(1)
                w = self.word() + trail
            e = escape(w)
            x = r.random()
            if x < 0.015:
                e = rf"\emph{{{e}}}"
            elif x < 0.022:
                e = rf"\textbf{{{e}}}"
            elif x < 0.03:
                e = rf"\texttt{{{escape(self.identifier())}}}"
            out.append(e)
            if x > 0.985:
                out.append(self.inline_math())
            elif x > 0.975 and w.endswith("."):
                out[-1] = e[:-1] + rf"~\cite{{r{r.randint(1, self.n_refs)}}}."
        if r.random() < 0.15:
            note = escape(self.phrase(5, 16)) + "."
            if r.random() < 0.4:
                note += rf" See \url{{https://{self.email().split('@')[1]}/{self.word().lower()}}}."
            out.insert(r.randint(1, len(out)), rf"\footnote{{{note}}}")
        return " ".join(out)

    def table(self) -> str:
        r = self.rng
        ncol = r.randint(3, 5)
        head = " & ".join(escape(self.word().capitalize()[:14]) for _ in range(ncol))
        rows = []
        for _ in range(r.randint(3, 7)):
            cells = [escape(self.word()[:16])] + [
                r.choice((f"{r.uniform(0, 100):.{r.randint(1, 3)}f}", str(r.randint(1, 99999)),
                          f"{r.uniform(0, 1):.3f}", escape(self.word()[:10])))
                for _ in range(ncol - 1)]
            rows.append(" & ".join(cells) + r" \\")
        body = "\n".join(rows)
        return (rf"\begin{{table}}[{r.choice('thb')}]\centering\small"
                rf"\caption{{{escape(self.phrase(4, 14))}.}}" "\n"
                rf"\begin{{tabular}}{{l{'r' * (ncol - 1)}}}\toprule" "\n"
                rf"{head} \\ \midrule" "\n" f"{body}\n" r"\bottomrule\end{tabular}\end{table}")

    def figure(self) -> str:
        label = escape(self.phrase(1, 3))
        return (r"\begin{figure}[t]\centering\fbox{\parbox[c][2.2cm][c]{0.8\columnwidth}"
                rf"{{\centering\footnotesize {label}}}}}"
                rf"\caption{{{escape(self.phrase(6, 20))}.}}\end{{figure}}")

    def itemize(self) -> str:
        env = self.rng.choice(("itemize", "enumerate"))
        items = "\n".join(rf"\item {escape(self.phrase(4, 14))}." for _ in range(self.rng.randint(2, 5)))
        return rf"\begin{{{env}}}" f"\n{items}\n" rf"\end{{{env}}}"

    def reference(self) -> str:
        r = self.rng
        names = ", ".join(f"{r.choice('ABCDEFGHJKLMNPRSTVW')}. {r.choice(self.src.proper)}"
                          for _ in range(r.randint(1, 4)))
        year = r.randint(1975, 2025)
        venue = f"{r.choice(self.src.proper)} {r.choice(('J.', 'Trans.', 'Proc.', 'Lett.', 'Rev.'))}"
        tail = (rf", vol.~{r.randint(1, 120)}, pp.~{(p := r.randint(1, 2000))}--{p + r.randint(2, 40)}, "
                rf"{year}.")
        if r.random() < 0.3:
            tail += rf" doi:10.{r.randint(1000, 9999)}/{escape(self.word().lower()[:6])}.{r.randint(1, 9999)}"
        return rf"{escape(names)}. {escape(self.phrase(4, 12))}. \emph{{{escape(venue)}}}{tail}"


# ---------------------------------------------------------------------- documents
def _front(style: ClassStyle, d: _Doc, title: str, abstract: str) -> tuple[str, str]:
    """(preamble part, body part) of the title block in the class's own commands."""
    r = d.rng
    authors = [d.name() for _ in range(r.randint(1, 4))]
    inst = [f"{escape(d.phrase(2, 4))}, University of {escape(r.choice(d.src.proper))}"
            for _ in range(r.randint(1, 2))]
    kw = ", ".join(escape(d.word()) for _ in range(4))
    ab = rf"\begin{{abstract}}{abstract}\end{{abstract}}"
    t = escape(title)
    if style.front == "ieee":
        blocks = r" \and ".join(rf"\IEEEauthorblockN{{{escape(a)}}}\IEEEauthorblockA{{{inst[0]}\\"
                                rf"\texttt{{{escape(d.email())}}}}}" for a in authors[:3])
        return "", (rf"\title{{{t}}}\author{{{blocks}}}\maketitle{ab}"
                    rf"\begin{{IEEEkeywords}}{kw}\end{{IEEEkeywords}}")
    if style.front == "els":
        au = "".join(rf"\author{{{escape(a)}}}" for a in authors)
        kws = kw.replace(", ", r" \sep ")
        return "", (rf"\begin{{frontmatter}}\title{{{t}}}{au}\affiliation{{organization={{{inst[0]}}}}}"
                    rf"{ab}\begin{{keyword}}{kws}\end{{keyword}}\end{{frontmatter}}")
    if style.front == "revtex":
        au = "".join(rf"\author{{{escape(a)}}}\email{{{escape(d.email())}}}" for a in authors)
        return "", rf"\title{{{t}}}{au}\affiliation{{{inst[0]}}}{ab}\maketitle"
    if style.front == "ams":
        au = "".join(rf"\author{{{escape(a)}}}\address{{{inst[0]}}}\email{{{escape(d.email())}}}"
                     for a in authors)
        return "", rf"\title{{{t}}}{au}{ab}\maketitle"
    if style.front == "acm":
        au = "".join(rf"\author{{{escape(a)}}}\affiliation{{\institution{{{inst[0]}}}"
                     rf"\country{{{escape(r.choice(d.src.proper))}}}}}\email{{{escape(d.email())}}}"
                     for a in authors)
        return rf"\title{{{t}}}{au}{ab}\keywords{{{kw}}}", r"\maketitle"
    if style.front == "llncs":
        au = r" \and ".join(escape(a) for a in authors)
        return "", (rf"\title{{{t}}}\author{{{au}}}\institute{{{inst[0]}\\\email{{{escape(d.email())}}}}}"
                    rf"\maketitle\begin{{abstract}}{abstract}\keywords{{{kw}}}\end{{abstract}}")
    au = ", ".join(escape(a) for a in authors)
    pre = rf"\title{{{t}}}\author{{{au}\\ \small {inst[0]}\\ \small\texttt{{{escape(d.email())}}}}}\date{{}}"
    return pre, rf"\maketitle{ab}"


@dataclass(frozen=True)
class DocPlan:
    """What document ``seed`` is: class, face, size, columns (recorded beside its PDF)."""

    seed: int
    style: str
    font: str
    size: int
    columns: int


def document_tex(src: TextSource, seed: int, cfg: LatexConfig = LatexConfig()) -> tuple[str, DocPlan]:
    """The LaTeX source of document ``seed`` and its plan (deterministic in ``seed``)."""
    rng = random.Random(f"latex:{seed}")
    styles = [c for c in CLASSES if c.name in cfg.classes]
    style = rng.choice(styles)
    want = rng.random() < cfg.two_column
    cols = 2 if want and 2 in style.columns else (1 if 1 in style.columns else 2)
    size = rng.choice(cfg.sizes)
    if style.sizes is not None:
        size = min(style.sizes, key=lambda s: (abs(s - size), s))
    fonts = [f for f in FONTS if f[0] in cfg.fonts]
    font = rng.choice(fonts) if style.fonts else ("class", "")
    d = _Doc(src, rng, cfg)
    geometry = ""
    if style.geometry:
        geometry = (rf"\usepackage[margin={rng.uniform(0.6, 1.2):.2f}in]{{geometry}}"
                    rf"\setlength{{\columnsep}}{{{rng.uniform(0.12, 0.35):.2f}in}}")
    title = d.phrase(4, 12)
    abstract = d.sentence_markup(rng.choice(src.paragraphs))
    pre_front, front = _front(style, d, title, abstract)
    body: list[str] = []
    n_par = rng.randint(*cfg.paragraphs)
    n_sec = max(2, n_par // 3)
    extras = ["table", "math", "math", "figure", "list", "table", "math"][:rng.randint(3, 7)]
    for i in range(n_par):
        if i % max(1, n_par // n_sec) == 0:
            cmd = r"\section" if i == 0 or rng.random() < 0.7 else r"\subsection"
            body.append(rf"{cmd}{{{escape(d.phrase(1, 5))}}}")
        body.append(d.sentence_markup(rng.choice(src.paragraphs)) + "\n")
        if extras and rng.random() < 0.5:
            kind = extras.pop(rng.randrange(len(extras)))
            body.append({"table": d.table, "math": d.display_math, "figure": d.figure,
                         "list": d.itemize}[kind]())
    refs = "\n".join(rf"\bibitem{{r{i + 1}}} {d.reference()}" for i in range(d.n_refs))
    encoding = "" if style.name == "acmart" else r"\usepackage[T1]{fontenc}\usepackage[utf8]{inputenc}"
    tex = "\n".join((
        rf"\documentclass[{style.options(size, cols)}]{{{style.cls}}}", encoding, font[1],
        # newtxmath / newpxmath define the AMS symbols themselves (amssymb would clash)
        "" if style.name == "acmart" else (r"\usepackage{amsmath}" if "math}" in font[1] and "new" in font[1]
                                          else r"\usepackage{amsmath,amssymb}"),
        r"\usepackage{booktabs}\usepackage{url}", geometry, TO_UNICODE,
        r"\sloppy\setlength{\emergencystretch}{3em}", pre_front,
        r"\begin{document}", front, "\n\n".join(body),
        r"\begin{thebibliography}{99}", refs, r"\end{thebibliography}", r"\end{document}", ""))
    return tex, DocPlan(seed, style.name, font[0], size, cols)


def latex_env(epoch: int = LATEX_DATE_EPOCH) -> dict[str, str]:
    """pdfLaTeX's environment for byte-stable output (fixed dates and trailer IDs)."""
    return dict(os.environ, SOURCE_DATE_EPOCH=str(epoch), FORCE_SOURCE_DATE="1")


def run_pdflatex(work: Path, stem: str, runs: int, timeout_s: int,
                 epoch: int = LATEX_DATE_EPOCH) -> Path:
    """pdfLaTeX ``work/stem.tex`` ``runs`` times (references resolve on the second); the PDF's path.
    The one pdfLaTeX runner of the package: training documents and the whitepaper dev set.

    Raises:
        RuntimeError: pdfLaTeX failed (the log's first errors in the message).
    """
    for _ in range(runs):
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{stem}.tex"],
                              cwd=work, capture_output=True, text=True, errors="replace",
                              env=latex_env(epoch), timeout=timeout_s)
        if proc.returncode != 0:
            errors = [line for line in proc.stdout.splitlines() if line.startswith("!")]
            raise RuntimeError(f"pdflatex failed in {work}: {errors[:3] or proc.stdout[-400:]}")
    return work / f"{stem}.pdf"


def typeset(tex: str, out_pdf: Path, runs: int = 2, timeout_s: int = 120) -> Path:
    """pdfLaTeX ``tex`` in a temporary folder and move the PDF to ``out_pdf``.

    Raises:
        RuntimeError: pdfLaTeX failed (the log's first errors in the message).
    """
    with tempfile.TemporaryDirectory(prefix="latex-") as tmp:
        work = Path(tmp)
        (work / "doc.tex").write_text(tex, encoding="utf-8")
        pdf = run_pdflatex(work, "doc", runs, timeout_s)
        out_pdf.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = out_pdf.with_suffix(".pdf.tmp")
        shutil.move(str(pdf), tmp_out)
        os.replace(tmp_out, out_pdf)  # a PDF exists only once complete
    return out_pdf


def make_pdfs(pdf_dir: Path, docs: int, seed: int = 0, cfg: LatexConfig = LatexConfig(),
              src: Optional[TextSource] = None, log: Callable[[str], None] = print) -> dict:
    """Typeset documents ``seed .. seed + docs - 1`` into ``pdf_dir`` (existing ones are kept).

    Each ``doc-<seed>.pdf`` has its source beside it (``.tex``) and its plan in the name's
    record (``plans.tsv``), so a page can be traced to class, face and size.
    """
    src = src or TextSource.load()
    pdf_dir.mkdir(parents=True, exist_ok=True)
    counts = {"typeset": 0, "kept": 0, "failed": 0}
    plans = []
    for s in range(seed, seed + docs):
        tex, plan = document_tex(src, s, cfg)
        name = f"doc-{s:06d}-{plan.style}-{plan.font}-{plan.size}pt-{plan.columns}col"
        out = pdf_dir / f"{name}.pdf"
        plans.append(plan)
        if out.is_file():
            counts["kept"] += 1
            continue
        (pdf_dir / f"{name}.tex").write_text(tex, encoding="utf-8")
        try:
            typeset(tex, out, cfg.latex_runs, cfg.timeout_s)
            counts["typeset"] += 1
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            counts["failed"] += 1
            log(f"doc {s} ({plan}): {str(e)[:300]}")
    with (pdf_dir / "plans.tsv").open("w", encoding="utf-8") as f:
        f.write("seed\tstyle\tfont\tsize\tcolumns\n")
        for p in plans:
            f.write(f"{p.seed}\t{p.style}\t{p.font}\t{p.size}\t{p.columns}\n")
    return counts


def text_layer_lines(pdf_dir: Path) -> int:
    """Lines with a letter or digit in the text layers of every PDF of ``pdf_dir`` (no
    rendering): the denominator of the share of lines the trust checks keep."""
    from docencoder.pdf.textlayer import read_pages

    from .pdf_shards import find_pdfs

    n = 0
    for path in find_pdfs(pdf_dir):
        for layout in read_pages(path):
            n += sum(1 for line in layout.lines if any(c.isalnum() for c in line.text))
    return n


def latex_to_shards(out_dir: Path, docs: int, seed: int = 0, pdf_dir: Path = DEFAULT_PDF_DIR,
                    cfg: LatexConfig = LatexConfig(), dpi: int = 150,  # noqa: B008
                    kinds: Sequence[str] = ("line",), log: Callable[[str], None] = print,
                    src: Optional[TextSource] = None) -> dict:
    """Typeset ``docs`` documents into ``pdf_dir``, then cut shards with
    :func:`~docencoder.data.pdf_shards.from_pdfs` (the same trust check and crops as the Debian
    PDFs). Returns from_pdfs' summary plus typesetting counts, seconds and the share of
    text-layer lines kept as samples."""
    from .pdf_shards import from_pdfs

    t0 = time.time()
    typeset_counts = make_pdfs(Path(pdf_dir), docs, seed, cfg, src=src, log=log)
    t1 = time.time()
    summary = from_pdfs(pdf_dir, out_dir, dpi=dpi, kinds=kinds, log=log)
    summary["typeset"] = typeset_counts
    summary["seconds"] = {"typeset": round(t1 - t0, 1), "shards": round(time.time() - t1, 1)}
    if "line" in kinds:
        total = text_layer_lines(Path(pdf_dir))
        summary["text_layer_lines"] = total
    return summary


def add_latex_command(sub) -> None:
    """``docencoder data latex``."""
    p = sub.add_parser("latex", help="typeset random papers with pdfLaTeX -> line shards",
                       description="Typeset N random papers (publisher classes, faces, 7-12 pt, "
                       "1-2 columns; corpus + word-list text) with pdfLaTeX into --pdf-dir, then "
                       "cut line shards from their text layer as `data from-pdfs` does. "
                       "Deterministic for --seed; re-running resumes.")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="shard directory")
    p.add_argument("--docs", type=int, default=100, help="documents (default 100)")
    p.add_argument("--seed", type=int, default=0, help="document i uses seed + i (default 0)")
    p.add_argument("--pdf-dir", default=str(DEFAULT_PDF_DIR), help="where the PDFs go")
    p.add_argument("--dpi", type=int, default=150, help="render resolution (default 150)")
    p.add_argument("--kinds", default="line", help="sample kinds: page, block, line (default line)")
    p.set_defaults(func=_run_latex)


def _run_latex(args) -> int:
    import json
    import sys

    if shutil.which("pdflatex") is None:
        print("error: pdflatex not found (install texlive-latex-extra)", file=sys.stderr)
        return 2
    kinds = tuple(k for k in args.kinds.split(",") if k)
    summary = latex_to_shards(Path(args.out), args.docs, args.seed, Path(args.pdf_dir),
                              dpi=args.dpi, kinds=kinds, log=lambda m: print(m, file=sys.stderr))
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 1 if summary["failed"] else 0
