"""The whitepaper dev set (``data/devset_wp``): pages like the ones users OCR, clean and scanned.

Why a second dev set: ``data/devset`` holds six code-heavy manuals on which Tesseract is weak, no
two-column paper, and so said the model beat Tesseract where on users' papers it does not
(issue 15). This set is made of

* **typeset papers** (:mod:`docencoder.eval.papers`): 13 publisher and journal classes TeX Live
  ships (IEEEtran, acmart, elsarticle, REVTeX 4.2, mnras, llncs, amsart, article), one and two
  columns, set on text the model never trained on (:mod:`docencoder.eval.wp_text`);
* **journal-style papers from Debian packages** (:data:`JOURNAL_SOURCES`): R vignettes that are
  JSS or R Journal papers, or two-column ``pinp`` notes, from packages used nowhere else;

and of three inputs per page: the one-page PDF (``clean``), and image-only PDFs made from its
150-DPI render by :func:`docencoder.data.scan.scan_page` with the issue's scan-like ranges
(``scan``) and harsher ones with coloured bars (``harsh``). Pages are rendered with the CLI's own
renderer (:class:`docencoder.ocr.pages.PdfDocument`), and kept only if their text layer passes
:func:`docencoder.eval.devset.page_ok`, so the ground truth is what is printed.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Iterable, Optional, Sequence

from ..data.latex import run_pdflatex
from .devset import DPI, DevPage, Source, extract_page, extract_pages, page_ok
from .papers import STYLES, Style, paper_tex
from .wp_text import TextPool, load_pool, refresh_pool

#: the whitepaper dev set's folder
WP_DEV_DIR = Path(__file__).resolve().parents[2] / "data" / "devset_wp"
#: the text snapshot inside it
POOL_FILE = Path("text") / "pool.json.gz"
#: files of the repository that list packages whose text is training or evaluation data
EXCLUDE_LISTS = ("data/real/packages.txt", "data/devset/packages.txt")

_R = "usr/lib/R/site-library"
#: journal-style papers from Debian packages not used for training or the other dev set
JOURNAL_SOURCES: tuple[Source, ...] = (
    Source("r-cran-rcppgsl", f"{_R}/RcppGSL/doc/RcppGSL-intro.pdf", "GPL-2", "2col", 3,
           "journal", (1, 3, 5)),
    Source("r-cran-rcppannoy", f"{_R}/RcppAnnoy/doc/UsingAnnoyInCcppWrapper.pdf", "GPL-2+",
           "2col", 1, "journal", (1,)),
    Source("r-cran-rprotobuf", f"{_R}/RProtoBuf/doc/RProtoBuf-paper.pdf", "GPL-2+", "1col", 2,
           "journal", (1, 14)),
    Source("r-cran-surveillance", f"{_R}/surveillance/doc/hhh4.pdf", "GPL-2", "1col", 2,
           "journal", (2, 7)),
    Source("r-cran-surveillance", f"{_R}/surveillance/doc/twinstim.pdf", "GPL-2", "1col", 2,
           "journal", (1, 4)),
    Source("r-cran-surveillance", f"{_R}/surveillance/doc/twinSIR.pdf", "GPL-2", "1col", 1,
           "journal", (2,)),
    Source("r-cran-surveillance", f"{_R}/surveillance/doc/surveillance.pdf", "GPL-2", "1col", 2,
           "journal", (2, 11)),
    Source("r-cran-actuar", f"{_R}/actuar/doc/risk.pdf", "GPL-2+", "1col", 2, "journal", (2, 6)),
    Source("r-cran-actuar", f"{_R}/actuar/doc/credibility.pdf", "GPL-2+", "1col", 1, "journal",
           (3,)),
    Source("r-cran-aer", f"{_R}/AER/doc/AER.pdf", "GPL-2+", "1col", 1, "journal", (5,)),
    Source("r-cran-stringdist", f"{_R}/stringdist/doc/RJournal_6_111-122-2014.pdf", "GPL-3",
           "1col", 2, "journal", (1, 11)),
)
#: what each page of a typeset paper is: the first two pages, or the first and the last (which
#: holds the conclusions and the reference list); alternated over the styles
TYPESET_PAGES = {"first-two": (1, 2), "first-last": (1, -1)}
#: pdfLaTeX runs (the second resolves references and float placement)
LATEX_RUNS = 2
LATEX_TIMEOUT_S = 300
#: the date pdfLaTeX prints and records (2025-03-01 00:00 UTC): fixed so rebuilds are identical
LATEX_DATE_EPOCH = 1740787200


def excluded_packages(repo: Path) -> list[str]:
    """Packages whose text the typeset papers must not use: training sources, the old dev set's
    and this set's own journal sources."""
    names = {s.package for s in JOURNAL_SOURCES}
    for rel in EXCLUDE_LISTS:
        path = repo / rel
        if path.is_file():
            names.update(line.split("\t")[0].strip() for line in path.read_text().splitlines()
                         if line.strip() and not line.startswith("#"))
    return sorted(names)


def typeset(tex: str, workdir: Path) -> Path:
    """Run pdfLaTeX on a source in ``workdir``; the PDF's path.

    Raises:
        RuntimeError: pdfLaTeX failed (the log's first error is in the message).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "paper.tex").write_text(tex, encoding="utf-8")
    return run_pdflatex(workdir, "paper", LATEX_RUNS, LATEX_TIMEOUT_S, LATEX_DATE_EPOCH)


def typeset_pages(style: Style, n_pages: int, which: Sequence[int]) -> list[int]:
    """0-based pages to keep of a paper of ``n_pages``: ``which`` is 1-based, -1 = the last."""
    out = []
    for w in which:
        index = n_pages - 1 if w == -1 else w - 1
        if 0 <= index < n_pages and index not in out:
            out.append(index)
    return sorted(out)


def scan_variants(pdf_path: Path, page_id: str, dev_dir: Path, seed: int) -> tuple[dict, dict]:
    """Write the ``scan`` and ``harsh`` image-only PDFs of a page.

    Returns:
        (variant -> path relative to ``dev_dir``, variant -> the values drawn for it).
    """
    from docencoder.data.scan import PRESETS, image_pdf, scan_page
    from docencoder.ocr.pages import PdfDocument

    with PdfDocument(pdf_path) as doc:
        clean, _ = doc.render(1, DPI)
    paths, draws = {}, {}
    for name, params in PRESETS.items():
        folder = "scans" if name == "scan" else name
        jpeg, drawn = scan_page(clean, random.Random(f"{seed}:{name}:{page_id}"), params, dpi=DPI)
        image_pdf(jpeg, dev_dir / folder / f"{page_id}.pdf", DPI)
        paths[name] = f"{folder}/{page_id}.pdf"
        draws[name] = drawn.to_dict()
    return paths, draws


def _row(page_id: str, pdf_out: Path, gt: str, dev_dir: Path, seed: int, **fields) -> DevPage:
    (dev_dir / "gt" / f"{page_id}.txt").write_text(gt, encoding="utf-8")
    variants, draws = scan_variants(pdf_out, page_id, dev_dir, seed)
    extra = dict(fields.pop("extra", {}), degradation=draws)
    return DevPage(id=page_id, doc=page_id, page=1, pdf=f"pages/{page_id}.pdf",
                   gt=f"gt/{page_id}.txt", scan=variants["scan"],
                   chars=sum(1 for c in gt if not c.isspace()), extra=extra, variants=variants,
                   **fields)


def build_typeset(style: Style, which: Sequence[int], pool: TextPool, dev_dir: Path,
                  cache: Path, seed: int, log=print) -> list[DevPage]:
    """Typeset one paper and keep its chosen pages that pass the quality check."""
    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.textlayer import page_text

    tex = paper_tex(style, pool, seed)
    pdf_path = typeset(tex, cache / "typeset" / style.name)
    (dev_dir / "tex").mkdir(exist_ok=True)
    (dev_dir / "tex" / f"{style.name}.tex").write_text(tex, encoding="utf-8")
    rows = []
    pdf = open_pdf(pdf_path)
    try:
        n = len(pdf)
        for index in typeset_pages(style, n, which):
            ok, reason, text = page_ok(pdf, index)
            if not ok:
                log(f"warning: {style.name} page {index + 1} skipped: {reason}")
                continue
            page_id = f"tex-{style.name}--p{index + 1:03d}"
            pdf_out = dev_dir / "pages" / f"{page_id}.pdf"
            extract_page(pdf, index, pdf_out)
            gt = page_text(pdf_out, 0)
            if gt != text:
                raise RuntimeError(f"{page_id}: text layer changed when extracting the page")
            rows.append(_row(page_id, pdf_out, gt, dev_dir, seed, package="typeset",
                             version=style.name, source_file=f"tex/{style.name}.tex",
                             source_page=index + 1, licence="CC0-1.0 (generated)",
                             layout=style.layout, kind="typeset",
                             extra={"class": style.description, "pages_in_paper": n}))
            log(f"{page_id}: {rows[-1].chars} characters")
    finally:
        pdf.close()
    return rows


def build_journal(source: Source, dev_dir: Path, cache: Path, seed: int,
                  log=print) -> list[DevPage]:
    """The chosen pages of one journal-style PDF from a Debian package."""
    rows = []
    for page_id, index, pdf_out, gt, version in extract_pages(source, dev_dir, cache, seed, log):
        rows.append(_row(page_id, pdf_out, gt, dev_dir, seed, package=source.package,
                         version=version, source_file=source.path, source_page=index + 1,
                         licence=source.licence, layout=source.layout, kind="journal"))
        log(f"{page_id}: {rows[-1].chars} characters")
    return rows


def build(dev_dir: Path = WP_DEV_DIR, cache: Optional[Path] = None, seed: int = 0,
          refresh_text: bool = False, styles: Iterable[Style] = STYLES,
          journals: Iterable[Source] = JOURNAL_SOURCES, log=print) -> list[DevPage]:
    """Build the whitepaper dev set (replacing pages/, gt/, scans/, harsh/, tex/, manifest).

    Args:
        dev_dir: output folder (``data/devset_wp``).
        cache: downloads, unpacked packages and LaTeX runs (default ``data/cache/devset_wp``).
        seed: text, page and degradation seed.
        refresh_text: re-read the text snapshot from apt's lists (otherwise the committed
            ``text/pool.json.gz`` is used, so the set rebuilds without apt's descriptions).
        styles: typeset styles; journals: Debian PDFs.
    """
    dev_dir = Path(dev_dir)
    repo = dev_dir.resolve().parents[1]
    cache = Path(cache) if cache else repo / "data" / "cache" / "devset_wp"
    pool_path = dev_dir / POOL_FILE
    if refresh_text or not pool_path.is_file():
        pool = refresh_pool(pool_path, excluded_packages(repo), seed, log=log)
    else:
        pool = load_pool(pool_path)
    for sub in ("pages", "gt", "scans", "harsh", "tex"):
        shutil.rmtree(dev_dir / sub, ignore_errors=True)
        (dev_dir / sub).mkdir(parents=True)
    rows: list[DevPage] = []
    plans = list(TYPESET_PAGES.values())
    for i, style in enumerate(styles):
        which = style.keep or plans[i % len(plans)]
        rows.extend(build_typeset(style, which, pool, dev_dir, cache, seed, log))
    for source in journals:
        rows.extend(build_journal(source, dev_dir, cache, seed, log))
    with (dev_dir / "manifest.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    return rows


def summary(rows: Sequence[DevPage]) -> dict[str, int]:
    """Page counts by kind and layout (for the README and the build log)."""
    out: dict[str, int] = {"pages": len(rows)}
    for r in rows:
        for key in (r.kind, r.layout, f"{r.kind}/{r.layout}"):
            out[key] = out.get(key, 0) + 1
    return out
