"""Typeset dev-set papers: LaTeX sources in the publisher classes TeX Live ships.

Why typeset our own: users OCR journal and conference papers (issue 15), whose layout — two
columns, a title block with authors, affiliations and e-mail addresses, display math, tables,
footnotes, figure captions, a reference list — is made by a handful of publisher classes. Setting
text the model has never seen (:mod:`docencoder.eval.wp_text`) in exactly those classes gives pages
that look like users' own, with an exact ground truth (the PDF's text layer) and a licence we
control. Nothing here reads TeX Live's ``-doc`` packages: every source is generated.

A :class:`Style` names a class, its options and how its title block is written; :func:`paper_tex`
turns a style, the text pool and a seed into a complete document. The same seed gives the same
document, so the dev set rebuilds byte-for-byte from the snapshot.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Callable, Sequence

from .wp_text import Description, TextPool, ascii_fold

#: LaTeX's special characters in text and their escapes
_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&",
            "#": r"\#", "%": r"\%", "_": r"\_", "~": r"\textasciitilde{}",
            "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
            "|": r"\textbar{}"}
_ESCAPE_RE = re.compile("|".join(re.escape(c) for c in _ESCAPES))
#: make pdfTeX write a ToUnicode map for every font, so the text layer is the printed text
TO_UNICODE = r"\input{glyphtounicode}\pdfgentounicode=1"
#: departments of the invented affiliations
DEPARTMENTS = ("Department of Geophysics", "Institute of Structural Biology",
               "Department of Physical Chemistry", "School of Electrical Engineering",
               "Laboratory of Computational Genomics", "Department of Applied Mathematics",
               "Centre for Radio Astronomy", "Department of Crystallography",
               "Institute for Microbial Ecology", "Department of Nuclear Physics",
               "Division of Pharmacology", "Department of Limnology and Oceanography",
               "Institute of Computer Algebra", "Department of Materials Science")
INSTITUTIONS = ("University of {p}", "{p} Institute of Technology", "Polytechnic of {p}",
                "{p} Research Centre", "National Laboratory of {p}", "{p} Medical School")
JOURNALS = ("Phys. Rev. B", "J. Chem. Phys.", "Bioinformatics", "Nucleic Acids Res.",
            "Comput. Phys. Commun.", "J. Comput. Chem.", "IEEE Trans. Signal Process.",
            "Mon. Not. R. Astron. Soc.", "Acta Crystallogr. D", "Genome Biol.",
            "SIAM J. Sci. Comput.", "J. Stat. Softw.", "Geophys. J. Int.", "Proc. IEEE",
            "ACM Trans. Math. Softw.", "Astron. Astrophys.", "Mol. Biol. Evol.")
SECTION_TITLES = (("Introduction", "Background and Motivation"),
                  ("Methods", "Materials and Methods", "Model and Implementation"),
                  ("Results", "Experimental Evaluation", "Numerical Experiments"),
                  ("Discussion", "Related Work", "Limitations"),
                  ("Conclusions", "Summary and Outlook"))
#: display equations; {a}..{d} are filled with symbols, {n} with an integer
EQUATIONS = (
    r"E_{{\mathrm{{kin}}}} = \frac{{1}}{{2}} \sum_{{i=1}}^{{{n}}} m_i \, \lVert \mathbf{{v}}_i \rVert^2",
    r"{a}(t) = {a}_0 \exp\!\left(-\frac{{t}}{{\tau_{{{b}}}}}\right) + \sigma_{{{c}}}^2",
    r"\hat{{{a}}} = \operatorname*{{arg\,min}}_{{{b} \in \Theta}} \sum_{{k=1}}^{{{n}}} "
    r"\left( y_k - f({b}; x_k) \right)^2 + \lambda \lVert {b} \rVert_1",
    r"P({a} \mid {b}) = \frac{{P({b} \mid {a})\, P({a})}}{{\int P({b} \mid {c})\, P({c})\, d{c}}}",
    r"\nabla \cdot \mathbf{{{a}}} = \frac{{\rho}}{{\varepsilon_0}}, \qquad "
    r"\nabla \times \mathbf{{{b}}} = \mu_0 \mathbf{{J}} + \mu_0 \varepsilon_0 "
    r"\frac{{\partial \mathbf{{{a}}}}}{{\partial t}}",
    r"\Delta G^{{\circ}} = -R T \ln K_{{{c}}} = {n}.{n}\,\mathrm{{kJ\,mol^{{-1}}}}",
    r"{a}_{{ij}} = \sum_{{k}} {b}_{{ik}} {c}_{{kj}}, \quad 1 \le i, j \le {n}",
)
SYMBOLS = ("x", "y", "z", "u", "w", r"\alpha", r"\beta", r"\gamma", r"\theta", r"\phi",
           r"\psi", r"\omega", r"\xi", r"\eta")
UNITS = (("mK", r"\milli\kelvin"), ("GHz", r"\giga\hertz"), ("um", r"\micro\metre"),
         ("nm", r"\nano\metre"), ("kPa", r"\kilo\pascal"), ("mmol/L", r"\milli\mol\per\litre"),
         ("MiB", r"\mebi\byte"), ("ms", r"\milli\second"), ("keV", r"\kilo\electronvolt"),
         ("dB", r"\deci\bel"), ("mg/kg", r"\milli\gram\per\kilo\gram"), ("K", r"\kelvin"))


def escape(text: str) -> str:
    """Escape LaTeX's special characters in plain text."""
    return _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group(0)], text)


@dataclass(frozen=True)
class Author:
    first: str
    middle: str  # an initial with its dot, or ""
    surname: str
    affiliation: int  # index into the paper's affiliations
    email: str

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.surname) if p)


@dataclass(frozen=True)
class Affiliation:
    department: str
    institution: str
    city: str
    postcode: str


@dataclass
class Paper:
    """What a paper says, before a style typesets it (all fields plain text, unescaped)."""

    title: str
    authors: list[Author]
    affiliations: list[Affiliation]
    abstract: str
    keywords: list[str]
    sections: list[tuple[str, list[str]]]  # (title, paragraphs as LaTeX, already escaped)
    table: list[tuple[str, str, str, str]]  # package, version, size, section
    table_caption: str
    figure_caption: str
    references: list[str]  # LaTeX, escaped
    footnote_url: str
    equations: list[str] = field(default_factory=list)


def _unit(rng: random.Random) -> str:
    value = rng.choice((f"{rng.uniform(0.1, 99):.2f}", f"{rng.randint(2, 4096)}",
                        f"{rng.uniform(1, 9):.1f}"))
    return rf"\SI{{{value}}}{{{rng.choice(UNITS)[1]}}}"


def _inline_math(rng: random.Random) -> str:
    a, b = rng.sample(SYMBOLS, 2)
    return rng.choice((
        rf"${a}_{{{rng.randint(1, 9)}}} = {rng.uniform(0, 5):.3f}$",
        rf"${a} \approx {rng.randint(2, 99)}\,{b}$",
        rf"$p < 10^{{-{rng.randint(2, 8)}}}$",
        r"$\mathcal{O}(n \log n)$",
        rf"$n = {rng.randint(12, 9000)}$",
        rf"${a}/{b} \in [{rng.uniform(0, 1):.2f}, {rng.uniform(1, 3):.2f}]$"))


def _decorate(sentence: str, rng: random.Random, n_refs: int) -> str:
    """An escaped sentence, sometimes followed by a measurement, inline math or a citation."""
    s = escape(sentence)
    r = rng.random()
    if r < 0.25:
        s = s.rstrip(".") + rf", measured at {_unit(rng)} ({_inline_math(rng)})."
    elif r < 0.45:
        s = s.rstrip(".") + rf"~\cite{{r{rng.randint(1, n_refs)}}}."
    elif r < 0.55:
        s = s.rstrip(".") + rf" with {_inline_math(rng)} on a sample of {rng.randint(3, 880)} runs."
    return s


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;:!?])\s+(?=[A-Z(])", text) if s]


def _paragraph(descs: Sequence[Description], rng: random.Random, n_refs: int) -> str:
    """One body paragraph from the long descriptions of one to three packages."""
    sents: list[str] = []
    for d in descs:
        sents.extend(_sentences(" ".join(d.paragraphs)))
    return " ".join(_decorate(s, rng, n_refs) for s in sents)


def _person(pool: TextPool, rng: random.Random, affiliation: int, domains: Sequence[str]) -> Author:
    first, surname = rng.choice(pool.first_names), rng.choice(pool.surnames)
    middle = f"{rng.choice('ABCDEFGHJKLMNPRSTVW')}." if rng.random() < 0.4 else ""
    user = rng.choice((f"{ascii_fold(first)}.{ascii_fold(surname)}",
                       f"{ascii_fold(first)[0]}{ascii_fold(surname)}", ascii_fold(surname)))
    return Author(first, middle, surname, affiliation, f"{user}@{rng.choice(domains)}")


def _host(url: str) -> str:
    m = re.match(r"https?://(?:www\.)?([^/:]+)", url)
    return m.group(1).lower() if m else ""


def _reference(pool: TextPool, d: Description, rng: random.Random) -> str:
    names = ", ".join(f"{rng.choice(pool.first_names)[0]}. {rng.choice(pool.surnames)}"
                      for _ in range(rng.randint(1, 4)))
    year = rng.randint(1987, 2024)
    doi = f"10.{rng.randint(1000, 9999)}/{ascii_fold(d.package)[:6]}.{year}.{rng.randint(10, 999)}"
    if rng.random() < 0.3 and d.homepage:
        return (rf"{escape(names)}, \emph{{{escape(d.package)}: {escape(d.short)}}}, "
                rf"version {escape(d.version)}, {year}. \url{{{d.homepage}}}")
    return (rf"{escape(names)}, ``{escape(d.short[0].upper() + d.short[1:])},'' "
            rf"\emph{{{rng.choice(JOURNALS)}}}, vol.~{rng.randint(2, 140)}, no.~{rng.randint(1, 12)}, "
            rf"pp.~{(p := rng.randint(10, 2900))}--{p + rng.randint(3, 30)}, {year}, "
            rf"doi:{doi}.")


def make_paper(pool: TextPool, rng: random.Random, paragraphs: int = 9) -> Paper:
    """Draw a paper's content: title block, sections of ``paragraphs`` in all, table, figure, refs."""
    descs = rng.sample(pool.descriptions, paragraphs * 2 + 16)
    it = iter(descs)
    lead = next(it)
    n_aff = rng.randint(1, 3)
    affs = [Affiliation(rng.choice(DEPARTMENTS), rng.choice(INSTITUTIONS).format(p=city), city,
                        f"{rng.randint(1000, 99999)}")
            for city in rng.sample(pool.places, n_aff)]
    domains = [h for h in (_host(d.homepage) for d in descs) if h] or ["example.org"]
    authors = [_person(pool, rng, rng.randrange(n_aff), domains) for _ in range(rng.randint(2, 5))]
    refs_descs = [next(it) for _ in range(rng.randint(8, 12))]
    n_refs = len(refs_descs)
    body_descs = list(it)
    sections: list[tuple[str, list[str]]] = []
    counts = [2, 2, 2, 2, 1][:len(SECTION_TITLES)]
    extra = paragraphs - sum(counts)
    for i in range(max(extra, 0)):
        counts[i % 4] += 1
    k = 0
    for titles, n in zip(SECTION_TITLES, counts):
        paras = []
        for _ in range(n):
            take = body_descs[k:k + rng.randint(1, 2)]
            k += len(take)
            paras.append(_paragraph(take, rng, n_refs))
        sections.append((rng.choice(titles), paras))
    table_descs = rng.sample(pool.descriptions, 6)
    table = [(d.package[:18], d.version.split("+")[0][:12], f"{d.installed_size:,}", d.section)
             for d in table_descs]
    sym = rng.sample(SYMBOLS, 4)
    equations = [eq.format(a=sym[0], b=sym[1], c=sym[2], d=sym[3], n=rng.randint(2, 64))
                 for eq in rng.sample(EQUATIONS, 2)]
    return Paper(
        title=f"{lead.package}: {lead.short[0].upper() + lead.short[1:]}",
        authors=authors, affiliations=affs,
        abstract=" ".join(_decorate(s, rng, n_refs) for s in _sentences(" ".join(lead.paragraphs))),
        keywords=[d.package for d in rng.sample(descs, 4)],
        sections=sections, table=table,
        table_caption=f"Packages compared in this study ({rng.choice(table_descs).short}).",
        figure_caption=" ".join(_sentences(" ".join(rng.choice(descs).paragraphs))[:2]),
        references=[_reference(pool, d, rng) for d in refs_descs],
        footnote_url=next((d.homepage for d in descs if d.homepage), "https://example.org/"),
        equations=equations)


# --- body blocks shared by every style ----------------------------------------------------------


def figure_tikz(rng: random.Random, wide: bool) -> str:
    """A small TikZ plot (two curves, labelled axes): no external image, text in the layer."""
    w = 12 if wide else 6.5
    pts1 = " ".join(f"({x * w / 10:.2f},{1.0 + 2.2 * (1 - 2.718 ** (-x / rng.uniform(1.5, 4))):.2f})"
                    for x in range(11))
    pts2 = " ".join(f"({x * w / 10:.2f},{0.6 + 0.18 * x + rng.uniform(-0.2, 0.2):.2f})"
                    for x in range(11))
    xlabel = rng.choice(("time (s)", "threads", "sample size", "frequency (GHz)", "depth (m)"))
    ylabel = rng.choice(("speed-up", "recall", "log-likelihood", "energy (eV)", "coverage"))
    return (rf"\begin{{tikzpicture}}[font=\footnotesize]"
            rf"\draw[->] (0,0) -- ({w + 0.3},0) node[below left] {{{xlabel}}};"
            rf"\draw[->] (0,0) -- (0,3.6) node[above right] {{{ylabel}}};"
            rf"\draw[thick] plot[smooth] coordinates {{{pts1}}};"
            rf"\draw[dashed] plot coordinates {{{pts2}}};"
            rf"\end{{tikzpicture}}")


def table_tex(paper: Paper) -> str:
    rows = "\n".join(rf"{escape(a)} & {escape(b)} & {escape(c)} & {escape(d)} \\"
                     for a, b, c, d in paper.table)
    return (r"\begin{tabular}{@{}llrl@{}}\toprule" "\n"
            r"Package & Version & Size (kB) & Section \\ \midrule" "\n"
            f"{rows}\n" r"\bottomrule\end{tabular}")


def body_tex(paper: Paper, rng: random.Random, two_column: bool, section_cmd: str = r"\section"
             ) -> str:
    """Sections with a footnote, two display equations, a table and a figure placed among them."""
    out = []
    float_env = "figure"
    for i, (title, paras) in enumerate(paper.sections):
        out.append(rf"{section_cmd}{{{escape(title)}}}")
        for j, para in enumerate(paras):
            if i == 0 and j == 0:
                para = para.rstrip() + rf"\footnote{{Source code and data: \protect\url{{{paper.footnote_url}}}.}}"
            out.append(para + "\n")
            if (i, j) in ((1, 0), (2, 1)):
                eq = paper.equations[0 if (i, j) == (1, 0) else 1]
                out.append(r"\begin{equation}" f"\n{eq}\n" r"\end{equation}")
            if (i, j) == (1, 1):
                out.append(r"\begin{table}[t]\centering\small"
                           rf"\caption{{{escape(paper.table_caption)}}}" "\n"
                           f"{table_tex(paper)}\n" r"\end{table}")
            if (i, j) == (2, 0):
                out.append(rf"\begin{{{float_env}}}[t]\centering{figure_tikz(rng, False)}"
                           rf"\caption{{{escape(paper.figure_caption)}}}\end{{{float_env}}}")
    return "\n\n".join(out)


def bibliography_tex(paper: Paper) -> str:
    items = "\n".join(rf"\bibitem{{r{i + 1}}} {ref}" for i, ref in enumerate(paper.references))
    return r"\begin{thebibliography}{99}" f"\n{items}\n" r"\end{thebibliography}"


COMMON_PACKAGES = (r"\usepackage{amsmath}\usepackage{booktabs}\usepackage{tikz}"
                   r"\usepackage{siunitx}\usepackage{url}\sloppy")


# --- styles -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """One publisher class with its options: how it writes the title block and which fonts."""

    name: str
    layout: str  # "1col" | "2col"
    documentclass: str  # the \documentclass line
    fonts: str  # font packages (\usepackage lines), "" for the class's own
    front: Callable[[Paper], str]  # title block through the abstract (after \begin{document})
    preamble_front: Callable[[Paper], str] = lambda p: ""  # title data set in the preamble
    encoding: str = r"\usepackage[T1]{fontenc}\usepackage[utf8]{inputenc}"
    description: str = ""
    paragraphs: int = 9  # body paragraphs (one-column styles need fewer for the same pages)
    #: 1-based pages kept (-1 = the last); empty = the dev set's default plan
    keep: tuple[int, ...] = ()


def _authors_plain(p: Paper) -> str:
    return ", ".join(escape(a.name) for a in p.authors)


def _aff_line(a: Affiliation) -> str:
    return escape(f"{a.department}, {a.institution}, {a.postcode} {a.city}")


def _front_article(p: Paper) -> str:
    marks = {i: "$^{" + str(i + 1) + "}$" for i in range(len(p.affiliations))}
    auth = ", ".join(escape(a.name) + marks[a.affiliation] for a in p.authors)
    affs = r"\\ ".join(marks[i] + _aff_line(a) for i, a in enumerate(p.affiliations))
    mails = ", ".join(r"\texttt{" + escape(a.email) + "}" for a in p.authors[:2])
    return (rf"\title{{{escape(p.title)}}}\author{{{auth}\\ \small {affs}\\ \small {mails}}}"
            r"\date{}\maketitle" rf"\begin{{abstract}}{p.abstract}\end{{abstract}}")


def _front_ieee(p: Paper) -> str:
    blocks = r" \and ".join(
        rf"\IEEEauthorblockN{{{escape(a.name)}}}\IEEEauthorblockA{{{escape(p.affiliations[a.affiliation].department)}\\"
        rf"{escape(p.affiliations[a.affiliation].institution)}\\{escape(p.affiliations[a.affiliation].city)}\\"
        rf"\texttt{{{escape(a.email)}}}}}" for a in p.authors[:3])
    return (rf"\title{{{escape(p.title)}}}\author{{{blocks}}}\maketitle"
            rf"\begin{{abstract}}{p.abstract}\end{{abstract}}"
            rf"\begin{{IEEEkeywords}}{escape(', '.join(p.keywords))}\end{{IEEEkeywords}}")


def _front_ieee_journal(p: Paper) -> str:
    names = r", ".join(escape(a.name) for a in p.authors)
    a0 = p.authors[0]
    aff = p.affiliations[a0.affiliation]
    return (rf"\title{{{escape(p.title)}}}\author{{{names}% " "\n"
            rf"\thanks{{{escape(a0.name)} is with the {escape(aff.department)}, "
            rf"{escape(aff.institution)}, {escape(aff.city)} {escape(aff.postcode)} "
            rf"(e-mail: \texttt{{{escape(a0.email)}}}).}}}}\maketitle"
            rf"\begin{{abstract}}{p.abstract}\end{{abstract}}"
            rf"\begin{{IEEEkeywords}}{escape(', '.join(p.keywords))}\end{{IEEEkeywords}}")


def _front_acm(p: Paper) -> str:
    return r"\maketitle"


def _pre_acm(p: Paper) -> str:
    auth = "".join(
        rf"\author{{{escape(a.name)}}}\affiliation{{\institution{{{escape(p.affiliations[a.affiliation].institution)}}}"
        rf"\city{{{escape(p.affiliations[a.affiliation].city)}}}\country{{{escape(p.affiliations[a.affiliation].postcode)}}}}}"
        rf"\email{{{escape(a.email)}}}" for a in p.authors)
    return (rf"\title{{{escape(p.title)}}}{auth}\begin{{abstract}}{p.abstract}\end{{abstract}}"
            rf"\keywords{{{escape(', '.join(p.keywords))}}}")


def _front_elsarticle(p: Paper) -> str:
    auth = "".join(rf"\author[a{a.affiliation + 1}]{{{escape(a.name)}}}" for a in p.authors)
    keywords = r" \sep ".join(escape(k) for k in p.keywords)
    affs = "".join(rf"\affiliation[a{i + 1}]{{organization={{{escape(a.department)}, "
                   rf"{escape(a.institution)}}}, postcode={{{a.postcode}}}, city={{{escape(a.city)}}}}}"
                   for i, a in enumerate(p.affiliations))
    return (rf"\begin{{frontmatter}}\title{{{escape(p.title)}}}{auth}{affs}"
            rf"\begin{{abstract}}{p.abstract}\end{{abstract}}"
            rf"\begin{{keyword}}{keywords}\end{{keyword}}"
            r"\end{frontmatter}")


def _front_revtex(p: Paper) -> str:
    by_aff: dict[int, list[Author]] = {}
    for a in p.authors:
        by_aff.setdefault(a.affiliation, []).append(a)
    parts = []
    for i, authors in sorted(by_aff.items()):
        for a in authors:
            parts.append(rf"\author{{{escape(a.name)}}}\email{{{escape(a.email)}}}")
        parts.append(rf"\affiliation{{{_aff_line(p.affiliations[i])}}}")
    return (rf"\title{{{escape(p.title)}}}{''.join(parts)}"
            rf"\begin{{abstract}}{p.abstract}\end{{abstract}}\maketitle")


def _front_llncs(p: Paper) -> str:
    auth = r" \and ".join(rf"{escape(a.name)}\inst{{{a.affiliation + 1}}}" for a in p.authors)
    inst = r" \and ".join(rf"{_aff_line(a)}\\ \email{{{escape(p.authors[0].email)}}}"
                          if i == 0 else _aff_line(a) for i, a in enumerate(p.affiliations))
    return (rf"\title{{{escape(p.title)}}}\author{{{auth}}}\institute{{{inst}}}\maketitle"
            rf"\begin{{abstract}}{p.abstract}\keywords{{{escape(', '.join(p.keywords))}}}"
            r"\end{abstract}")


def _front_amsart(p: Paper) -> str:
    parts = "".join(
        rf"\author{{{escape(a.name)}}}\address{{{_aff_line(p.affiliations[a.affiliation])}}}"
        rf"\email{{{escape(a.email)}}}" for a in p.authors)
    return (rf"\title{{{escape(p.title)}}}{parts}\begin{{abstract}}{p.abstract}\end{{abstract}}"
            r"\maketitle")


def _front_mnras(p: Paper) -> str:
    marks = {i: "$^{" + str(i + 1) + "}$" for i in range(len(p.affiliations))}
    auth = r", ".join(escape(a.name) + marks[a.affiliation] for a in p.authors)
    affs = r"\\".join(marks[i] + _aff_line(a) for i, a in enumerate(p.affiliations))
    return (rf"\title{{{escape(p.title)}}}\author[{escape(p.authors[0].surname)} et al.]"
            rf"{{{auth}\\{affs}}}\date{{Accepted XXX. Received YYY}}\pubyear{{2025}}"
            r"\begin{document}\label{firstpage}\pagerange{\pageref{firstpage}--\pageref{lastpage}}"
            rf"\maketitle\begin{{abstract}}{p.abstract}\end{{abstract}}"
            rf"\begin{{keywords}}{escape(', '.join(p.keywords))}\end{{keywords}}")


#: the typeset styles of the dev set (8 two-column, 5 one-column; fonts as the classes use them)
STYLES: tuple[Style, ...] = (
    Style("ieeetran-conf", "2col", r"\documentclass[conference,10pt]{IEEEtran}",
          r"\usepackage{mathptmx}", _front_ieee, description="IEEEtran conference, Times"),
    Style("ieeetran-journal", "2col", r"\documentclass[journal,10pt]{IEEEtran}",
          r"\usepackage{newtxtext,newtxmath}", _front_ieee_journal,
          description="IEEEtran journal, newtx Times"),
    Style("acmart-sigconf", "2col", r"\documentclass[sigconf,nonacm]{acmart}", "", _front_acm,
          preamble_front=_pre_acm, encoding="",
          description="acmart sigconf, Linux Libertine (the class's own)"),
    Style("elsarticle-5p", "2col", r"\documentclass[5p,twocolumn,10pt]{elsarticle}",
          r"\usepackage{newtxtext,newtxmath}", _front_elsarticle,
          description="elsarticle 5p two-column, newtx Times"),
    Style("revtex-prb", "2col", r"\documentclass[aps,prb,reprint,nofootinbib,10pt]{revtex4-2}", "",
          _front_revtex, description="REVTeX 4.2 APS Phys. Rev. B reprint, Computer Modern"),
    Style("article-2col-times", "2col", r"\documentclass[10pt,twocolumn]{article}",
          r"\usepackage{mathptmx}\usepackage[margin=0.75in]{geometry}", _front_article,
          description="article twocolumn 10pt, mathptmx Times"),
    Style("article-2col-libertine", "2col", r"\documentclass[10pt,twocolumn]{article}",
          r"\usepackage{libertine}\usepackage[libertine]{newtxmath}\usepackage[margin=0.8in]{geometry}",
          _front_article, description="article twocolumn 10pt, Linux Libertine"),
    Style("mnras", "2col", r"\documentclass[fleqn]{mnras}", r"\usepackage{mathptmx}",
          _front_mnras, description="MNRAS (mnras.cls), mathptmx Times"),
    Style("llncs", "1col", r"\documentclass[runningheads]{llncs}", "", _front_llncs,
          paragraphs=6, description="Springer LNCS (llncs.cls) 10pt, Computer Modern"),
    Style("article-1col-lm", "1col", r"\documentclass[11pt]{article}",
          r"\usepackage{lmodern}\usepackage[margin=1in]{geometry}", _front_article,
          paragraphs=6, description="article 11pt, Latin Modern"),
    Style("amsart", "1col", r"\documentclass[11pt]{amsart}", "", _front_amsart,
          paragraphs=6, description="amsart 11pt, Computer Modern"),
    Style("elsarticle-preprint", "1col", r"\documentclass[preprint,11pt]{elsarticle}",
          r"\usepackage{lmodern}", _front_elsarticle,
          paragraphs=6, description="elsarticle preprint 11pt, Latin Modern"),
    Style("revtex-aip-preprint", "1col", r"\documentclass[aip,jcp,preprint,nofootinbib,11pt]{revtex4-2}",
          r"\usepackage{newtxtext,newtxmath}", _front_revtex,
          paragraphs=6, keep=(2, 3), description="REVTeX 4.2 AIP J. Chem. Phys. preprint 11pt, newtx Times"),
)
STYLE_BY_NAME = {s.name: s for s in STYLES}


def paper_tex(style: Style, pool: TextPool, seed: int = 0) -> str:
    """The complete LaTeX source of one paper in ``style`` (deterministic in ``seed``)."""
    rng = random.Random(f"{seed}:paper:{style.name}")
    paper = make_paper(pool, rng, style.paragraphs)
    body = body_tex(paper, rng, style.layout == "2col")
    if style.name == "mnras":  # mnras opens the document inside its title block
        begin = style.front(paper)
    else:
        begin = r"\begin{document}" + "\n" + style.front(paper)
    return "\n".join((
        style.documentclass, style.encoding, style.fonts, COMMON_PACKAGES, TO_UNICODE,
        style.preamble_front(paper), begin, body, bibliography_tex(paper),
        r"\label{lastpage}" if style.name == "mnras" else "", r"\end{document}", ""))
