"""``docencoder bench structure``: the structure tests of the whitepaper dev set (issue 17).

Each dev page is read the way the CLI reads it (:class:`docencoder.ocr.api.OCR`, ``read``: the
page's ``markdown`` after the document pass), the selected pages of one source document
together, as one PDF in source page order (:func:`documents`): a user OCRs the whole paper, and
the structure step looks for the title on page 1 only and for running heads across pages, so
a one-page PDF of a paper's page 2 would be read as a title page. In each mode: ``text-layer`` (``text_layer="auto"``:
a digital page's own text where it is trusted) and ``pixels`` (``text_layer="never"``: the
shipped model reads the render), on each input (``clean``: the page PDF; ``scan`` / ``harsh``:
its image-only scan-like PDFs, which ``auto`` reads as pixels too, so ``text-layer`` on them
reuses the ``pixels`` reading when both modes run). Every case of
``data/devset_wp/structure_tests.jsonl`` (:mod:`.structure_cases`) is scored by its check
(:mod:`.structure_checks`); the report is the pass rate per mode x input x check type.

Targets (issue 17): at least 90 % of the cases pass on digital pages in the default mode
(``text-layer`` on ``clean``), at least 80 % on scan-like pages.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .devset import DevPage, load_manifest
from .devset_wp import WP_DEV_DIR
from .report import markdown_table
from .structure_cases import CASE_FILE, load_cases
from .structure_checks import CHECKS, StructureCase, run_cases

#: reading mode -> the ``text_layer`` setting of :class:`~docencoder.ocr.api.OCR`
MODES = {"text-layer": "auto", "pixels": "never"}
VARIANTS = ("clean", "scan", "harsh")
#: pages read by default (the pixel mode reads ~3 s a page on one thread); ``--pages all``
DEFAULT_PAGES = 6
#: issue 17's targets: share of cases passing on digital / scan-like pages
TARGETS = {"clean": 0.90, "scan": 0.80, "harsh": 0.80}


@dataclass
class StructureBenchConfig:
    """What ``docencoder bench structure`` runs.

    Attributes:
        dev_dir: the dev set (its ``manifest.jsonl`` and page files).
        cases: the case file; None = ``dev_dir/structure_tests.jsonl``.
        modes: subset of :data:`MODES`, in report order.
        variants: subset of :data:`VARIANTS`.
        pages: how many pages that have cases, spread over the sources; None = all.
        page_ids: these pages instead.
        model_dir: the model for the pixel mode; None = the shipped one.
        out: folder for ``bench_structure.json`` and each reading's markdown.
    """

    dev_dir: Path = WP_DEV_DIR
    cases: Optional[Path] = None
    modes: tuple[str, ...] = ("text-layer", "pixels")
    variants: tuple[str, ...] = ("clean", "scan")
    pages: Optional[int] = DEFAULT_PAGES
    page_ids: tuple[str, ...] = ()
    model_dir: Optional[Path] = None
    out: Path = Path("out/bench_structure")

    def __post_init__(self) -> None:
        for name, values, allowed in (("modes", self.modes, tuple(MODES)),
                                      ("variants", self.variants, VARIANTS)):
            bad = [v for v in values if v not in allowed]
            if bad or not values:
                raise ValueError(f"{name}: expected a subset of {','.join(allowed)}, got {values}")
        if self.pages is not None and self.pages < 1:
            raise ValueError("pages must be positive")


@dataclass
class Reading:
    """One page read in one mode from one input."""

    page: str
    mode: str
    variant: str
    markdown: Optional[str]
    source: str = ""  # ``text-layer`` / ``ocr`` (the record's source), or "" when it failed
    seconds: float = 0.0
    error: str = ""
    reused: bool = False  # the pixel mode's reading of this image-only input
    results: list[dict] = field(default_factory=list)


def select(rows: Sequence[DevPage], cases: Sequence[StructureCase], n: Optional[int],
           ids: Sequence[str] = ()) -> list[DevPage]:
    """The pages to read: the named ones, or ``n`` of the pages with cases spread over the
    manifest (every source document, two-column pages among them)."""
    from .bench import select_pages

    with_cases = {c.page for c in cases}
    return select_pages([r for r in rows if r.id in with_cases], n, ids)


def documents(rows: Sequence[DevPage]) -> list[list[DevPage]]:
    """The pages grouped by source document (first appearance order), each in page order."""
    groups: dict[tuple[str, str], list[DevPage]] = {}
    for r in rows:
        groups.setdefault((r.package, r.source_file), []).append(r)
    return [sorted(g, key=lambda r: r.source_page) for g in groups.values()]


def document_input(group: Sequence[DevPage], variant: str, dev_dir: Path, folder: Path) -> Path:
    """One PDF of the group's pages of ``variant`` (the page's own file when it is alone),
    written under ``folder``."""
    paths = [Path(dev_dir) / r.inputs()[variant] for r in group]
    if len(paths) == 1:
        return paths[0]
    import pypdfium2 as pdfium

    out = Path(folder) / variant / f"{group[0].id}+{len(paths) - 1}.pdf"
    out.parent.mkdir(parents=True, exist_ok=True)
    merged = pdfium.PdfDocument.new()
    try:
        for path in paths:
            src = pdfium.PdfDocument(path)
            try:
                merged.import_pages(src)
            finally:
                src.close()
        merged.save(out)
    finally:
        merged.close()
    return out


def read_document(ocr, path: Path, mode: str, n_pages: int
                  ) -> list[tuple[Optional[str], str, float, str]]:
    """(markdown, source, seconds, error) of each page of a PDF read in ``mode`` (the seconds
    are the document's, shared out)."""
    from docencoder.ocr.results import OCRError

    t0 = time.perf_counter()
    try:
        records = ocr.read(path, text_layer=MODES[mode])
    except OCRError as e:
        return [(None, "", (time.perf_counter() - t0) / n_pages, str(e))] * n_pages
    seconds = (time.perf_counter() - t0) / n_pages
    if len(records) != n_pages:
        return [(None, "", seconds, f"{len(records)} pages read, {n_pages} expected")] * n_pages
    return [(r.markdown, r.source, seconds, "") for r in records]


def score(cases: Sequence[StructureCase], reading: Reading) -> None:
    """Every case of the reading's page, into ``reading.results``."""
    results = run_cases(list(cases), reading.markdown)
    reading.results = [{"id": c.id, "check": c.check, "kind": c.kind, "passed": r.passed,
                        "score": round(r.score, 3), "found": r.found[:200]}
                       for c, r in zip(cases, results)]


def pass_rates(readings: Sequence[Reading]) -> dict:
    """``{(mode, variant): {check or "all": [passed, total]}}`` as a JSON-able nested dict."""
    table: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for r in readings:
        cell = table[f"{r.mode}/{r.variant}"]
        for res in r.results:
            for key in (res["check"], "all"):
                cell[key][0] += int(res["passed"])
                cell[key][1] += 1
    return {k: dict(v) for k, v in table.items()}


def report(result: dict) -> str:
    """The pass-rate table (share passing, cases in brackets) and each input's target."""
    rates = result["pass_rates"]
    checks = [c for c in CHECKS if any(c in cell for cell in rates.values())]
    rows = []
    for key, cell in rates.items():
        mode, variant = key.split("/")
        passed, total = cell["all"]
        note = "pixels' reading" if result["reused"].get(key) else ""
        target = TARGETS[variant]
        rows.append([mode, variant, *[_rate(cell.get(c)) for c in checks], _rate(cell["all"]),
                     f">= {target:.0%}: {'yes' if total and passed / total >= target else 'no'}", note])
    headers = ["mode", "input", *checks, "all", "target", "note"]
    return markdown_table(headers, rows, align_right_from=2)


def _rate(cell: Optional[list[int]]) -> str:
    if not cell or not cell[1]:
        return "-"
    return f"{cell[0] / cell[1]:.2f} ({cell[1]})"


def failures(readings: Sequence[Reading], limit: int = 40) -> str:
    """The failed cases, one line each (at most ``limit``)."""
    lines = []
    for r in readings:
        for res in r.results:
            if not res["passed"]:
                lines.append(f"{r.mode}/{r.variant} {res['id']} ({res['score']:.2f}): "
                             f"{res['found'][:90]!r}")
    more = f"\n... and {len(lines) - limit} more (bench_structure.json)" if len(lines) > limit else ""
    return "\n".join(lines[:limit]) + more


def run_structure_bench(cfg: StructureBenchConfig, log: Callable[[str], None] = print) -> dict:
    """Read the pages in every mode and input, score every case, write ``bench_structure.json``
    and each reading's markdown under ``cfg.out``; the result dict (see :func:`report`)."""
    from docencoder.ocr.api import OCR

    cases = load_cases(cfg.cases or Path(cfg.dev_dir) / CASE_FILE)
    rows = select(load_manifest(cfg.dev_dir), cases, cfg.pages, cfg.page_ids)
    by_page: dict[str, list[StructureCase]] = defaultdict(list)
    for c in cases:
        by_page[c.page].append(c)
    ocr = OCR(model_dir=cfg.model_dir)
    readings: list[Reading] = []
    done: dict[tuple[str, str, str], Reading] = {}
    # pixels first, so text-layer mode on an image-only input can reuse its reading
    order = sorted(cfg.modes, key=lambda m: m != "pixels")
    for mode in order:
        for variant in cfg.variants:
            for group in documents(rows):
                if mode == "text-layer" and variant != "clean" and all(
                        ("pixels", variant, r.id) in done for r in group):
                    new = [Reading(r.id, mode, variant, p.markdown, p.source, p.seconds, p.error,
                                   reused=True)
                           for r, p in ((r, done[("pixels", variant, r.id)]) for r in group)]
                else:
                    path = document_input(group, variant, cfg.dev_dir, Path(cfg.out) / "inputs")
                    new = [Reading(r.id, mode, variant, *read)
                           for r, read in zip(group, read_document(ocr, path, mode, len(group)))]
                    for r in new:
                        log(f"{mode:10s} {variant:5s} {r.page}: {r.source or r.error} "
                            f"{r.seconds:.1f} s")
                for r in new:
                    score(by_page[r.page], r)
                    done[(mode, variant, r.page)] = r
                readings.extend(new)
    readings.sort(key=lambda r: (cfg.modes.index(r.mode), cfg.variants.index(r.variant)))
    result = {
        "config": {"dev_dir": str(cfg.dev_dir), "cases": str(cfg.cases or Path(cfg.dev_dir) / CASE_FILE),
                   "modes": list(cfg.modes), "variants": list(cfg.variants),
                   "pages": [r.id for r in rows], "model_dir": str(cfg.model_dir or "shipped")},
        "cases": sum(len(by_page[r.id]) for r in rows),
        "pass_rates": pass_rates(readings),
        "reused": {f"{r.mode}/{r.variant}": True for r in readings if r.reused},
        "sources": {f"{k[0]}/{k[1]}": dict(v) for k, v in _sources(readings).items()},
        "readings": [{k: v for k, v in vars(r).items() if k != "markdown"} for r in readings],
    }
    out = Path(cfg.out)
    for r in readings:
        if r.markdown is not None and not r.reused:
            path = out / r.mode / r.variant / f"{r.page}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(r.markdown, encoding="utf-8")
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_structure.json").write_text(json.dumps(result, indent=1, ensure_ascii=False),
                                               encoding="utf-8")
    result["failures"] = failures(readings)
    return result


def _sources(readings: Sequence[Reading]) -> dict[tuple[str, str], Counter]:
    out: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for r in readings:
        out[(r.mode, r.variant)][r.source or "failed"] += 1
    return out
