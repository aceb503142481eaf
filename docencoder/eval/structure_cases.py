"""The structure tests of the whitepaper dev set, generated from its sources (issue 17).

:func:`generate_cases` writes ``data/devset_wp/structure_tests.jsonl`` (one
:class:`~.structure_checks.StructureCase` a line) deterministically from what the dev set
stores: the LaTeX sources of the typeset papers (``tex/<style>.tex``), the one-page PDFs'
text layers (the ground truth: every line's box and fonts) and the manifest. Every case names
its source. Why each type comes from where it does:

* ``heading``: typeset pages: each ``\\title`` (level 1) and ``\\section`` / ``\\subsection``
  (levels 2 / 3) whose text is a line (or two, for a title) of the page. Journal pages (no
  source): bold numbered lines of the text layer (``3. Vectors``: level 2 + the number's dots)
  and page 1's title (text at least :data:`TITLE_RATIO` times the body's font size).
* ``joined`` (typeset pages, where the LaTeX source says what the text is):
  ``hyphen`` / ``compound``: a line of the page ending in ``word-`` whose next line goes on with
  letters; the source has the whole word (``con-`` + ``text`` -> ``context``) or the hyphenated
  compound (``semi-conductors``, kept). ``break``: two consecutive text blocks of the page
  (a column or a float between them) whose lines run on in one paragraph of the source.
* ``list-item``: typeset pages: a ``\\bibitem`` printed with a label (``[3]``, ``3.``);
  journal pages: lines of the text layer that start with a bullet.
* ``table-row``: typeset pages: rows of the source's ``tabular`` whose cells are all on the page.
* ``code``: journal pages: lines of the text layer set in a fixed-pitch font, in runs of at
  least two (listings and R sessions).
* ``absent``: the page's furniture by the text layer's geometry: a page number alone at the
  top or bottom of the page and the running head or foot beside it, lines in the outer
  :data:`EDGE` of the page (journal banners, copyright, vignette footers), Elsevier's preprint
  footer, and :data:`EXTRA_FURNITURE` (acmart's running head, which has no page number).
* ``order``: two consecutive blocks of body text in the ground truth's reading order (column by
  column; confirmed by the source's order on typeset pages), a phrase of each.

Types are capped per page (:data:`PER_PAGE`) so that no page or type dominates the pass rates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Iterable, Optional, Sequence

from .devset import DevPage, load_manifest
from .structure_checks import StructureCase, norm, similarity

#: the case file's name inside the dev set
CASE_FILE = "structure_tests.jsonl"
#: most cases of one type on one page (headings and furniture: all of them)
PER_PAGE = {"joined": 4, "list-item": 3, "table-row": 3, "code": 3, "order": 3}
#: lines this close to the page's top or bottom edge (share of its height) are furniture
EDGE = 0.06
#: a journal page 1 line at least this many times the body's font size is the title
TITLE_RATIO = 1.5
#: a block of the text layer is a listing when this share of its lines is fixed-pitch (not a
#: reference whose URL is set in typewriter)
CODE_SHARE = 0.75
#: code lines shorter than this are left out (a closing brace says little)
CODE_CHARS = 12
#: words of each side of a break, and of an order phrase
PHRASE_WORDS = 6
#: page furniture the rules above cannot see, by page id
EXTRA_FURNITURE = {
    # acmart sigconf (nonacm): the authors as the running head of even pages, no page number
    "tex-acmart-sigconf--p002": ("Gustavo Jantunen and Braulio Sayol",),
}
_PAGE_NUMBER = re.compile(r"^\d{1,4}$")
_RUNNING_NUMBER = re.compile(r"^\d{1,3}\s?[A-Z][A-Z ,.-]{8,}")  # amsart: ``2GIANFRANCO ...``
_BIB_LABEL = re.compile(r"^(?:\[\d{1,3}\]|\d{1,3}\.)\s+")
_BULLET = re.compile(r"^[\u2022\u25e6\u25aa\u2013\u00b7\u25cf]\s+")
_JOURNAL_HEADING = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,2})\.?\s+[A-Z][^.]*$")
_LINE_HYPHEN = re.compile(r"([A-Za-z]+)-$")
_LINE_START = re.compile(r"^([A-Za-z]+)")
_TOKEN = re.compile(r"[a-z]{2,}")


# ------------------------------------------------------------------------------------------------
# the LaTeX sources
# ------------------------------------------------------------------------------------------------

def _braced(text: str, start: int) -> tuple[str, int]:
    """The content of the brace group opening at ``text[start]`` and the index after it."""
    depth, i = 0, start
    while i < len(text):
        if text[i] == "{" and text[i - 1:i] != "\\":
            depth += 1
        elif text[i] == "}" and text[i - 1:i] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    return text[start + 1:], len(text)


def _drop_command(text: str, name: str) -> str:
    """``text`` without ``\\name{...}`` (balanced braces)."""
    out, i = [], 0
    pattern = re.compile(r"\\" + name + r"\s*\{")
    while True:
        m = pattern.search(text, i)
        if not m:
            return "".join(out) + text[i:]
        out.append(text[i:m.start()])
        _, i = _braced(text, m.end() - 1)


def tex_plain(text: str) -> str:
    """LaTeX as the words it prints, roughly: commands dropped, their arguments kept."""
    for name in ("footnote", "cite", "label", "ref", "thanks"):
        text = _drop_command(text, name)
    text = text.replace("``", "\u201c").replace("''", "\u201d").replace("---", "\u2014")
    text = text.replace("--", "\u2013").replace("~", " ").replace("\\\\", " ")
    text = re.sub(r"\\([&%$#_{}])", r"\1", text)
    text = re.sub(r"\\[A-Za-z]+\*?(\[[^\]]*\])?", " ", text)
    return " ".join(text.replace("{", "").replace("}", "").split())


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


@dataclass
class TexSource:
    """What the cases need of one typeset paper's LaTeX source."""

    path: str  # relative to the dev set
    text: str

    @property
    def body(self) -> str:
        start = self.text.find("\\begin{document}")
        return self.text[start:] if start >= 0 else self.text

    def line_of(self, index: int) -> int:
        return self.text.count("\n", 0, index) + 1

    def headings(self) -> list[tuple[str, int, str]]:
        """(text, level, source) of the title and every section heading, in order."""
        out = []
        for m in re.finditer(r"\\(title|(?:sub){0,2}section)\*?\s*(\[[^\]]*\])?\s*\{", self.text):
            content, _ = _braced(self.text, m.end() - 1)
            level = 1 if m.group(1) == "title" else 2 + m.group(1).count("sub")
            out.append((tex_plain(content), level,
                        f"{self.path}:{self.line_of(m.start())} \\{m.group(1)}"))
        return out

    def paragraphs(self) -> list[list[str]]:
        """The running text's paragraphs as lowercase word tokens, in source order; split at blank
        lines, sections and environments (so text on both sides of an equation is not one)."""
        body = self.body
        for name in ("title", "author", "address", "affiliation", "email", "keywords"):
            body = _drop_command(body, name)
        body = re.sub(r"\\begin\{(table|figure|equation|tabular|thebibliography)\*?\}.*?"
                      r"\\end\{\1\*?\}", "\n\n", body, flags=re.S)
        body = re.sub(r"\\(?:sub)*section\*?\s*\{[^}]*\}|\\(?:begin|end)\{[^}]*\}|\\maketitle",
                      "\n\n", body)
        pieces = re.split(r"\n\s*\n", body)
        return [t for t in (_tokens(tex_plain(p)) for p in pieces) if t]

    def vocabulary(self) -> set[str]:
        return set(_tokens(tex_plain(self.body)))

    def bibitems(self) -> list[tuple[str, str]]:
        """(printed text, source) of every ``\\bibitem``."""
        out = []
        for m in re.finditer(r"\\bibitem(\[[^\]]*\])?\{[^}]*\}(.*)", self.text):
            out.append((tex_plain(m.group(2)), f"{self.path}:{self.line_of(m.start())} \\bibitem"))
        return out

    def table_rows(self) -> list[tuple[list[str], str]]:
        """(cells, source) of every ``tabular`` row."""
        out = []
        for m in re.finditer(r"\\begin\{tabular\}\{[^}]*\}(.*?)\\end\{tabular\}", self.text, re.S):
            offset = m.start(1)
            for row in m.group(1).split("\\\\"):
                cells = [tex_plain(re.sub(r"\\(?:top|mid|bottom)rule|\\hline", "", c))
                         for c in row.split("&")]
                if len(cells) >= 2 and all(cells):
                    out.append((cells, f"{self.path}:{self.line_of(offset)} tabular row"))
                offset += len(row) + 2
        return out


def _find_run(tokens: Sequence[str], run: Sequence[str], start: int = 0) -> int:
    """Index of ``run`` as a contiguous subsequence of ``tokens`` (-1: not there)."""
    n = len(run)
    for i in range(start, len(tokens) - n + 1):
        if list(tokens[i:i + n]) == list(run):
            return i
    return -1


# ------------------------------------------------------------------------------------------------
# the page's text layer
# ------------------------------------------------------------------------------------------------

@dataclass
class PageLine:
    """A text-layer line of the clean page with its box as page fractions (top-left origin)."""

    text: str
    box: tuple[float, float, float, float]
    size: float
    bold: bool
    mono: bool
    block: int


def page_lines(pdf: Path) -> list[PageLine]:
    """The page's lines in the ground truth's reading order, with their blocks."""
    from docencoder.pdf.textlayer import group_blocks, read_pages

    layer = next(read_pages(pdf))
    cl, cb, cr, ct = layer.crop_box
    w, h = cr - cl, ct - cb
    out = []
    for i, block in enumerate(group_blocks(layer.lines)):
        for line in block:
            x0, y0, x1, y1 = line.bbox
            out.append(PageLine(line.text.strip(), ((x0 - cl) / w, (ct - y1) / h, (x1 - cl) / w,
                                                    (ct - y0) / h), line.height, line.bold,
                                line.mono, i))
    return [line for line in out if line.text]


def _blocks(lines: Sequence[PageLine]) -> list[list[PageLine]]:
    out: list[list[PageLine]] = []
    for line in lines:
        if not out or out[-1][-1].block != line.block:
            out.append([])
        out[-1].append(line)
    return out


def _rows(lines: Sequence[PageLine]) -> list[list[PageLine]]:
    """Lines that share a row (overlapping heights), top to bottom."""
    rows: list[list[PageLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])):
        for row in rows:
            r = row[0].box
            shared = min(r[3], line.box[3]) - max(r[1], line.box[1])
            if shared >= 0.5 * min(r[3] - r[1], line.box[3] - line.box[1]):
                row.append(line)
                break
        else:
            rows.append([line])
    return sorted(rows, key=lambda row: row[0].box[1])


def _body(block: Sequence[PageLine]) -> bool:
    """A block of running text: two lines or more, most of them long, not code."""
    return (len(block) >= 2 and median(len(ln.text) for ln in block) >= 40
            and not any(ln.mono for ln in block))


def _join_printed(left: str, right: str, vocabulary: set[str], compounds: str) -> tuple[str, str]:
    """Two printed lines joined as the source wrote them, and the word a line-end hyphen makes
    ("" when there is none): the hyphen dropped when the source has the whole word, kept when
    the source has the compound."""
    m, r = _LINE_HYPHEN.search(left), _LINE_START.match(right)
    if not (m and r):
        return left + " " + right, ""
    a, b = m.group(1), r.group(1)
    if re.search(re.escape(a) + r"-" + re.escape(b), compounds, re.IGNORECASE):
        return left + right, f"{a}-{b}"
    if (a + b).lower() in vocabulary:
        return left[:-1] + right, a + b
    return "", ""


def _spread(items: list, n: int) -> list:
    """``n`` of ``items`` spread evenly (all when there are at most ``n``)."""
    if len(items) <= n:
        return list(items)
    return [items[(i * len(items)) // n] for i in range(n)]


# ------------------------------------------------------------------------------------------------
# the cases of one page
# ------------------------------------------------------------------------------------------------

@dataclass
class _Cases:
    page: str
    out: list[StructureCase]

    def add(self, check: str, **fields) -> None:
        n = sum(c.check == check for c in self.out)
        self.out.append(StructureCase(f"{self.page}:{check}:{n + 1}", self.page, check, **fields))


def _typeset_headings(cases: _Cases, row: DevPage, lines: Sequence[PageLine], tex: TexSource) -> None:
    furniture = {t for t, _, _ in _furniture_lines(row, lines)}
    texts = [ln.text for ln in lines if ln.text not in furniture]
    for heading, level, source in tex.headings():
        if level == 1 and row.source_page != 1:
            continue
        want = norm(heading)
        for i in range(len(texts)):
            joined = [texts[i], " ".join(texts[i:i + 2]), " ".join(texts[i:i + 3])]
            if any(similarity(want, norm(re.sub(r"^[\dIVX.]+\s+", "", t))) >= 0.9 for t in joined):
                cases.add("heading", text=heading, level=level, source=source)
                break


def _journal_headings(cases: _Cases, row: DevPage, lines: Sequence[PageLine]) -> None:
    body = median(ln.size for ln in lines if len(ln.text) >= 40)
    if row.source_page == 1:
        top = [ln for ln in lines if ln.size >= TITLE_RATIO * body and ln.box[1] < 0.4]
        if top:
            cases.add("heading", text=" ".join(ln.text for ln in top), level=1,
                      source=f"{row.pdf} text layer: page 1 text at {TITLE_RATIO}x the body size")
    for ln in lines:
        m = _JOURNAL_HEADING.match(ln.text)
        if m and ln.bold and len(ln.text.split()) <= 10:
            cases.add("heading", text=ln.text, level=min(4, 2 + m.group(1).count(".")),
                      source=f"{row.pdf} text layer: bold numbered line")


def _hyphen_joins(cases: _Cases, lines: Sequence[PageLine], tex: TexSource) -> None:
    vocabulary, found = tex.vocabulary(), []
    for a, b in zip(lines, lines[1:]):
        if a.block != b.block or a.mono:
            continue
        joined, word = _join_printed(a.text, b.text, vocabulary, tex.body)
        if not word:
            continue
        words = joined.split()
        left = len(a.text.split())
        text = " ".join(words[max(0, left - 3):left + 2])
        found.append((("-" in word), text, word))
    compounds = [f for f in found if f[0]]
    plain = [f for f in found if not f[0]]
    chosen = _spread(compounds, 1) + _spread(plain, PER_PAGE["joined"] - 2)
    for is_compound, text, word in chosen:
        cases.add("joined", text=text, word=word, kind="compound" if is_compound else "hyphen",
                  source=f"{tex.path}: line-end hyphen, the source has '{word}'")


def _break_joins(cases: _Cases, lines: Sequence[PageLine], tex: TexSource) -> None:
    vocabulary, paragraphs = tex.vocabulary(), tex.paragraphs()
    for a, b in zip(_blocks(lines), _blocks(lines)[1:]):
        if not (_body(a) and _body(b)):
            continue
        joined, _ = _join_printed(a[-1].text, b[0].text, vocabulary, tex.body)
        left, right = _tokens(a[-1].text), _tokens(b[0].text)
        if not joined or len(left) < 3 or len(right) < 3:
            continue
        run = _tokens(joined)
        if not any(_find_run(p, run) >= 0 for p in paragraphs):
            continue
        n_left = len(a[-1].text.split())
        words = joined.split()
        cases.add("joined", text=" ".join(words[max(0, n_left - PHRASE_WORDS):n_left + PHRASE_WORDS]),
                  kind="break", source=f"{tex.path}: one paragraph across two blocks of the page")


def _bib_items(cases: _Cases, lines: Sequence[PageLine], tex: TexSource) -> None:
    found = []
    for text, source in tex.bibitems():
        want = norm(text)[:30]
        for ln in lines:
            m = _BIB_LABEL.match(ln.text)
            if m and similarity(want, norm(ln.text[m.end():])[:len(want)]) >= 0.9:
                found.append((_phrase(ln.text[m.end():], 40), source))
                break
    for text, source in _spread(found, PER_PAGE["list-item"]):
        cases.add("list-item", text=text, source=source)


def _phrase(text: str, chars: int) -> str:
    """The start of ``text``, cut at a word boundary near ``chars``."""
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[:cut if cut > chars // 2 else chars]


def _table_rows(cases: _Cases, lines: Sequence[PageLine], tex: TexSource) -> None:
    page = norm(" ".join(ln.text for ln in lines))
    rows = [(cells, source) for cells, source in tex.table_rows()
            if all(norm(c) in page for c in cells)]
    for cells, source in _spread(rows, PER_PAGE["table-row"]):
        cases.add("table-row", cells=cells, source=source)


def _journal_lists(cases: _Cases, row: DevPage, lines: Sequence[PageLine]) -> None:
    items = [ln for ln in lines if _BULLET.match(ln.text)]
    for ln in _spread(items, PER_PAGE["list-item"]):
        cases.add("list-item", text=_phrase(_BULLET.sub("", ln.text), 40),
                  source=f"{row.pdf} text layer: a bulleted line")


def _code(cases: _Cases, row: DevPage, lines: Sequence[PageLine]) -> None:
    all_mono = {b[0].block for b in _blocks(lines) if sum(ln.mono for ln in b) >= CODE_SHARE * len(b)}
    in_rows = {id(ln) for r in _rows(lines) if len(r) > 1 for ln in r}  # table cells
    runs: list[list[PageLine]] = []
    for ln in lines:
        if ln.block not in all_mono or id(ln) in in_rows:
            runs.append([])
            continue
        if ln.mono and runs and runs[-1] and runs[-1][-1].block == ln.block:
            runs[-1].append(ln)
        else:
            runs.append([ln])
    code = [ln for run in runs if len(run) >= 2 for ln in run if len(ln.text) >= CODE_CHARS]
    for ln in _spread(code, PER_PAGE["code"]):
        cases.add("code", text=ln.text, source=f"{row.pdf} text layer: fixed-pitch lines")


def _furniture_lines(row: DevPage, lines: Sequence[PageLine]) -> list[tuple[str, str, str]]:
    """(text, kind, why) of the page's furniture lines."""
    rows = _rows(lines)
    found: list[tuple[str, str, str]] = []
    for k, r in enumerate(rows):
        edge_row = k in (0, len(rows) - 1)
        numbered = edge_row and any(_PAGE_NUMBER.match(ln.text) for ln in r)
        preprint = edge_row and any(ln.text.startswith("Preprint submitted to") for ln in r)
        for ln in r:
            if ln.box[3] <= EDGE or ln.box[1] >= 1 - EDGE:
                why = "a line at the page's edge"
            elif numbered:
                why = "the page number's row at the top or bottom"
            elif edge_row and k == 0 and _RUNNING_NUMBER.match(ln.text):
                why = "the top row, a page number before the running head"
            elif preprint:
                why = "Elsevier's preprint footer row"
            else:
                continue
            kind = "page-number" if _PAGE_NUMBER.match(ln.text) else "running"
            found.append((ln.text, kind, why))
    return found + [(t, "running", "EXTRA_FURNITURE") for t in EXTRA_FURNITURE.get(row.id, ())]


def _furniture(cases: _Cases, row: DevPage, lines: Sequence[PageLine]) -> None:
    for text, kind, why in _furniture_lines(row, lines):
        cases.add("absent", text=text, kind=kind, source=f"{row.pdf} text layer: {why}")


def _order(cases: _Cases, row: DevPage, lines: Sequence[PageLine], tex: Optional[TexSource]) -> None:
    def phrase(block: Sequence[PageLine]) -> Optional[str]:
        for ln in block:
            words = ln.text.split()
            if len(words) > PHRASE_WORDS + 1:  # the line's last word may be hyphenated
                return " ".join(words[:PHRASE_WORDS + 1])
        return None

    stream = [t for p in tex.paragraphs() for t in p] if tex else []
    pairs = []
    furniture = {t for t, _, _ in _furniture_lines(row, lines)}
    blocks = [b for b in _blocks(lines) if _body(b) and not any(ln.text in furniture for ln in b)]
    for a, b in zip(blocks, blocks[1:]):
        before, after = phrase(a), phrase(b)
        if not before or not after or norm(before) == norm(after):
            continue
        if tex is not None:
            i, j = _find_run(stream, _tokens(before)[:4]), _find_run(stream, _tokens(after)[:4])
            if i < 0 or j < 0 or i >= j:
                continue
        column = abs(a[0].box[0] - b[0].box[0]) > 0.25
        pairs.append((not column, before, after, "column" if column else "block"))
    chosen = sorted(_spread(sorted(pairs, key=lambda p: p[0]), PER_PAGE["order"]), key=lambda p: p[0])
    for _, before, after, kind in chosen:
        cases.add("order", before=before, after=after, kind=kind,
                  source=f"{tex.path if tex else 'text layer'}: consecutive body blocks")


def page_cases(row: DevPage, dev_dir: Path) -> list[StructureCase]:
    """Every structure case of one dev page (see the module docstring)."""
    lines = page_lines(dev_dir / row.pdf)
    cases = _Cases(row.id, [])
    tex = None
    if row.kind == "typeset":
        path = dev_dir / row.source_file
        tex = TexSource(row.source_file, path.read_text(encoding="utf-8"))
        _typeset_headings(cases, row, lines, tex)
        _hyphen_joins(cases, lines, tex)
        _break_joins(cases, lines, tex)
        _bib_items(cases, lines, tex)
        _table_rows(cases, lines, tex)
    else:
        _journal_headings(cases, row, lines)
        _journal_lists(cases, row, lines)
        _code(cases, row, lines)
    _furniture(cases, row, lines)
    _order(cases, row, lines, tex)
    return cases.out


def generate_cases(dev_dir: Path, out: Optional[Path] = None) -> list[StructureCase]:
    """Every page's cases, written to ``out`` (default ``dev_dir/structure_tests.jsonl``)."""
    dev_dir = Path(dev_dir)
    cases = [c for row in load_manifest(dev_dir) for c in page_cases(row, dev_dir)]
    path = out or dev_dir / CASE_FILE
    path.write_text("".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in cases),
                    encoding="utf-8")
    return cases


def load_cases(path: Path) -> list[StructureCase]:
    """The cases of a ``structure_tests.jsonl``.

    Raises:
        FileNotFoundError: no such file (generate it with ``data/devset_wp/structure_tests.py``).
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} not found; generate it with data/devset_wp/structure_tests.py")
    rows: Iterable[str] = Path(path).read_text(encoding="utf-8").splitlines()
    return [StructureCase(**json.loads(line)) for line in rows if line.strip()]
