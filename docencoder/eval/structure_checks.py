"""Structure unit tests on a page's markdown, in the style of olmOCR-Bench (issue 17).

olmOCR-Bench (Poznanski et al., 2025, "olmOCR 2") scores document conversion by many small
pass/fail facts per page instead of one edit distance: a heading is there, a sentence comes
before another, a header is absent. Each fact is a :class:`StructureCase`; each check type is
one small function ``check_<type>(doc, case) -> CheckResult`` over a :class:`MarkdownDoc`.

Text is compared *fuzzily* (rapidfuzz's normalized Levenshtein similarity, after
:func:`docencoder.eval.metrics.normalize`, casefolded), so a few OCR errors do not fail a
structure test: a case passes at :data:`MATCH` (0.85: about one wrong character in seven).

Check types (``StructureCase.check``):

* ``heading``: a ``#`` line whose text (its section number aside) is the case's ``text``, at
  ``level`` ``#`` marks when the case gives one;
* ``joined``: ``text`` lies within one markdown line (a paragraph is one line), i.e. the text was
  joined across a line, column or float break; when ``word`` is given (a line-end hyphen the
  source undid, or kept: ``micro-sphere``) that word is there as one token;
* ``list-item``: a ``-`` or ``1.`` line that starts with ``text``;
* ``table-row``: a table line (a pipe-table row or a line of a fenced block) holding the
  ``cells`` in order and little else;
* ``code``: ``text`` is a line inside a fenced code block;
* ``absent``: ``text`` (page furniture: running header, footer, page number) is nowhere; a
  page number is absent when none of the first or last :data:`EDGE_LINES` lines is that number
  alone;
* ``order``: ``before`` and ``after`` are both found, ``before`` first.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Callable, Optional

from rapidfuzz import fuzz

from .metrics import normalize

#: similarity (0-1) at which two texts count as the same
MATCH = 0.85
#: a table line may be this many times as long as the row's cells (plus a little) and still be
#: that row, not a paragraph that happens to contain its words
TABLE_SLACK = 1.5
#: a page number is looked for among this many lines at each end of the page's markdown,
#: where reading order puts it (a number elsewhere is an equation's, a table cell, a tick)
EDGE_LINES = 2
#: check types, in report order
CHECKS = ("heading", "joined", "list-item", "table-row", "code", "absent", "order")

_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
_LIST = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+(.*)$")
_FENCE = re.compile(r"^\s*```")
#: a section number before a heading's words (``2``, ``2.1.``, ``A.``, ``IV.``)
_SECTION_NUMBER = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z]\.|[IVX]{1,5}\.)\s+", re.IGNORECASE)
_NUMBER = re.compile(r"^[\divxlcIVXLC]{1,6}([-\u2013/ ]+\d{1,4})?$")


@dataclass
class StructureCase:
    """One structure test of one dev page (a row of ``structure_tests.jsonl``).

    Attributes:
        id: unique, ``<page>:<check>:<n>``.
        page: the dev page's manifest id.
        check: one of :data:`CHECKS`.
        text: what the check looks for (``heading``, ``joined``, ``list-item``, ``code``,
            ``absent``).
        level: the heading's ``#`` count (``heading``; 0 = any level).
        word: the word a line-end hyphen becomes (``joined`` across a hyphen; "" otherwise).
        cells: the row's cells in order (``table-row``).
        before: the text that comes first (``order``).
        after: the text that comes second (``order``).
        kind: how the case arose (``joined``: ``hyphen``, ``compound``, ``break``; ``absent``:
            ``page-number``, ``running``; ``order``: ``column``, ``block``), for the report.
        source: where the case came from (a LaTeX source line, the text layer's fonts and
            boxes, the ground truth).
    """

    id: str
    page: str
    check: str
    text: str = ""
    level: int = 0
    word: str = ""
    cells: list[str] = field(default_factory=list)
    before: str = ""
    after: str = ""
    kind: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"{self.id}: unknown check {self.check!r}; expected one of {CHECKS}")
        needs = {"table-row": bool(self.cells), "order": bool(self.before and self.after)}
        if not needs.get(self.check, bool(self.text.strip())):
            raise ValueError(f"{self.id}: a {self.check} case needs its text")

    def to_dict(self) -> dict:
        """The JSONL row: empty fields left out."""
        return {k: v for k, v in asdict(self).items() if v not in ("", 0, [])}


@dataclass(frozen=True)
class CheckResult:
    """Whether a case passed, its best similarity (0-1) and what was found."""

    passed: bool
    score: float
    found: str = ""


def norm(text: str) -> str:
    """The fuzzy comparison form: :func:`~docencoder.eval.metrics.normalize`, casefolded,
    markdown emphasis and table pipes as spaces."""
    text = normalize(text).casefold().replace("\\|", "|")
    return " ".join(text.replace("|", " ").replace("**", " ").split())


def similarity(a: str, b: str) -> float:
    """Normalized Levenshtein similarity of two already normalized texts (0-1)."""
    return fuzz.ratio(a, b) / 100.0


def containment(needle: str, hay: str) -> tuple[float, int, int]:
    """How well ``needle`` occurs in ``hay`` (0-1), and where: the best-matching substring's
    start and end in ``hay`` (both normalized)."""
    if not needle or not hay:
        return 0.0, 0, 0
    if len(needle) > len(hay):
        return similarity(needle, hay), 0, len(hay)
    al = fuzz.partial_ratio_alignment(needle, hay)
    return al.score / 100.0, al.dest_start, al.dest_end


@dataclass
class MarkdownDoc:
    """A page's markdown split the way the checks read it (normalized text per line)."""

    #: (level, text) of every ``#`` line
    headings: list[tuple[int, str]]
    #: the text of every ``-`` / ``1.`` line, marker removed
    items: list[str]
    #: lines inside fenced blocks
    code: list[str]
    #: pipe-table rows (cells joined by spaces)
    table_rows: list[str]
    #: every non-empty line outside fences, and every fenced line, as written
    lines: list[str]
    #: the whole page, lines joined by spaces (for reading order)
    flat: str

    @classmethod
    def parse(cls, markdown: str) -> "MarkdownDoc":
        headings, items, code, rows, lines = [], [], [], [], []
        fenced = False
        for raw in markdown.splitlines():
            if _FENCE.match(raw):
                fenced = not fenced
                continue
            if not raw.strip() or raw.lstrip().startswith("<!--"):
                continue
            if fenced:
                code.append(norm(raw))
                lines.append(norm(raw))
                continue
            line = raw.strip()
            if set(line) <= set("|-: "):
                continue  # a pipe table's rule
            m = _HEADING.match(line)
            if m:
                headings.append((len(m.group(1)), norm(m.group(2))))
            m = _LIST.match(line)
            if m:
                items.append(norm(m.group(1)))
            if line.startswith("|") and line.endswith("|"):
                rows.append(norm(line))
            lines.append(norm(line.lstrip("#").strip()))
        return cls(headings, items, code, rows, lines, " ".join(lines))


def _best(needle: str, candidates: list[str], whole: bool) -> CheckResult:
    """The best match of ``needle`` among ``candidates``: whole-string similarity, or
    containment in a candidate."""
    best = CheckResult(False, 0.0)
    for c in candidates:
        s = similarity(needle, c) if whole else containment(needle, c)[0]
        if s > best.score:
            best = CheckResult(s >= MATCH, s, c)
    return best


def check_heading(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """A ``#`` line with the heading's text (section numbers aside), at its level if given."""
    want = norm(_SECTION_NUMBER.sub("", case.text.strip()))
    best = CheckResult(False, 0.0)
    for level, text in doc.headings:
        s = max(similarity(want, text), similarity(want, norm(_SECTION_NUMBER.sub("", text))))
        ok = s >= MATCH and (not case.level or level == case.level)
        if (ok, s) > (best.passed, best.score):
            best = CheckResult(ok, s, "#" * level + " " + text)
    return best


def _has_word(region: str, word: str) -> bool:
    """Whether ``region`` holds ``word`` as one token, or inside one (``r-cran-pwt8``), fuzzily
    (one OCR error per 7 letters) but hyphenated exactly as ``word`` is: ``measure-ments`` is not
    ``measurements``, ``microsphere`` not ``micro-sphere``."""
    hyphen = "-" in word
    return any(("-" in tok) == hyphen and (word in tok or similarity(word, tok) >= MATCH)
               for tok in re.findall(r"[\w-]+" if hyphen else r"\w+", region))


def check_joined(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """``text`` within one line; ``word`` (if any) as one token where it was found."""
    want = norm(case.text)
    best = CheckResult(False, 0.0)
    for line in doc.lines:
        s, start, end = containment(want, line)
        if s <= best.score:
            continue
        region = line[max(0, start - 2):end + 2]
        ok = s >= MATCH and (not case.word or _has_word(region, norm(case.word)))
        best = CheckResult(ok, s, region)
    return best


def check_list_item(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """A list line that starts with ``text``."""
    want = norm(case.text)
    return _best(want, [item[:len(want) + 8] for item in doc.items], whole=False)


def check_table_row(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """A pipe-table row or fenced line holding the cells in order, not much longer than them."""
    want = norm(" ".join(case.cells))
    limit = TABLE_SLACK * len(want) + 8
    return _best(want, [r for r in doc.table_rows + doc.code if len(r) <= limit], whole=False)


def check_code(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """``text`` as a line of a fenced block."""
    return _best(norm(case.text), doc.code, whole=True)


def check_absent(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """``text`` nowhere (a page number: not alone on a line at either end of the page).
    ``score`` is the best similarity found, so a pass has a score below :data:`MATCH`."""
    want = norm(case.text)
    if _NUMBER.match(want):
        ends = doc.lines[:EDGE_LINES] + doc.lines[-EDGE_LINES:]
        hits = [line for line in ends if line == want]
        return CheckResult(not hits, 1.0 if hits else 0.0, hits[0] if hits else "")
    found = _best(want, doc.lines, whole=False)
    return CheckResult(not found.passed, found.score, found.found)


def check_order(doc: MarkdownDoc, case: StructureCase) -> CheckResult:
    """``before`` and ``after`` both in the page, ``before`` first."""
    b, b_start, _ = containment(norm(case.before), doc.flat)
    a, a_start, _ = containment(norm(case.after), doc.flat)
    score = min(a, b)
    return CheckResult(score >= MATCH and b_start < a_start, score,
                       f"before at {b_start}, after at {a_start}")


CHECK_FUNCTIONS: dict[str, Callable[[MarkdownDoc, StructureCase], CheckResult]] = {
    "heading": check_heading, "joined": check_joined, "list-item": check_list_item,
    "table-row": check_table_row, "code": check_code, "absent": check_absent,
    "order": check_order,
}


def run_case(case: StructureCase, doc: MarkdownDoc) -> CheckResult:
    """The case's check on a parsed page."""
    return CHECK_FUNCTIONS[case.check](doc, case)


def run_cases(cases: list[StructureCase], markdown: Optional[str]) -> list[CheckResult]:
    """Every case on one page's markdown (None: the page was not read; every case fails)."""
    if markdown is None:
        return [CheckResult(False, 0.0, "page not read") for _ in cases]
    doc = MarkdownDoc.parse(markdown)
    return [run_case(c, doc) for c in cases]
