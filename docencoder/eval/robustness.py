"""``docencoder bench robustness``: read every PDF of a set of real documents, count what breaks.

Why: the bad-input tests use synthetic fixtures, and what crashed real batches (UTF-16
surrogates of mathematical letters in a text layer, issue 14) was in none of them. The sweep
reads sampled pages of every PDF found — Debian documentation packages by default, the reserved
evaluation packages never — in each ``--text-layer`` mode, through the same public API as
``docencoder ocr`` (:meth:`docencoder.OCR.ocr_document`: open, text layer, render, layout, model,
writers), and sorts the outcomes:

* **failures** are what the pipeline reports for a bad input (an errors.jsonl row), counted by
  kind; ``exception`` is the kind of an exception nobody foresaw: caught, but worth a look;
* **crashes** are what must never happen: an exception escaping a document, or a written
  record that is not valid (bad UTF-8, U+FFFD or control characters in ``text``, pages out of
  order or twice, a missing markdown file).

``only`` and ``auto`` read every sampled page (``auto`` runs the model on the pages whose text
layer it does not trust); ``never`` runs the model on a few pages of each file, as OCR of every
page would take hours on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import tempfile
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Sequence

#: Debian packages reserved for independent evaluation: never read, not even by a benchmark
RESERVED_PACKAGES = re.compile(r"^(texlive-.*-doc|r-doc-pdf|pari-doc|glpk-doc|hmmer-doc|"
                               r"infernal-doc|python-reportlab-doc|why3-doc-pdf|nauty-doc)$")
#: folders of reserved packages under /usr/share/doc whose name is not the package's
#: (every texlive-*-doc package installs into texlive-doc/)
RESERVED_DIRS = frozenset({"texlive-doc"})
#: where installed packages list their files
DPKG_INFO = Path("/var/lib/dpkg/info")
#: default PDF folders: installed documentation, and the real training PDFs once fetched
DEFAULT_DIRS = (Path("/usr/share/doc"), Path("data/cache/real/pdfs"))
MODES = ("only", "auto", "never")


@dataclass
class SweepConfig:
    """What the sweep reads."""

    dirs: Sequence[Path] = DEFAULT_DIRS  # searched recursively for *.pdf
    modes: Sequence[str] = ("only", "auto", "never")
    pages_per_file: int = 6  # sampled pages per PDF for only/auto (first, last, random others)
    never_pages: int = 1  # of those, pages per PDF that --text-layer never OCRs
    max_files: Optional[int] = None  # the first N files (sorted), None = all
    seed: int = 0
    dpi: int = 150
    model_dir: Optional[Path] = None
    quantize: str = "auto"
    #: builds the OCR object from keyword arguments (tests swap in a stub reader)
    ocr_factory: Optional[Callable[..., Any]] = None

    def __post_init__(self) -> None:
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes:
            raise ValueError(f"modes must be a subset of {','.join(MODES)}, got {list(self.modes)}")
        if self.pages_per_file < 1 or self.never_pages < 0:
            raise ValueError("pages_per_file must be >= 1 and never_pages >= 0")


@dataclass
class ModeResult:
    """Outcomes of one ``--text-layer`` mode over all files."""

    files: int = 0
    pages: int = 0  # pages written
    failures: Counter = field(default_factory=Counter)  # kind -> count
    verdicts: Counter = field(default_factory=Counter)  # text_layer verdict head -> pages
    sources: Counter = field(default_factory=Counter)  # ocr / text-layer -> pages
    crashes: list[dict] = field(default_factory=list)  # {"doc", "what"}
    examples: dict[str, list[dict]] = field(default_factory=dict)  # kind -> a few failures
    seconds: float = 0.0


def _reserved_files() -> set[str]:
    """Files installed by a reserved package, as dpkg lists them (empty off Debian)."""
    out: set[str] = set()
    if not DPKG_INFO.is_dir():
        return out
    for listing in DPKG_INFO.glob("*.list"):
        package = listing.stem.split(":")[0]
        if RESERVED_PACKAGES.match(package):
            try:
                out.update(listing.read_text(errors="replace").splitlines())
            except OSError:
                continue
    return out


def is_reserved(path: Path, reserved_files: set[str]) -> bool:
    """Whether ``path`` belongs to a reserved package: listed by dpkg, or under a folder named
    after one (``/usr/share/doc/<package>/``, ``data/cache/real/pdfs/<package>/``)."""
    if str(path) in reserved_files or str(path.resolve()) in reserved_files:
        return True
    return any(RESERVED_PACKAGES.match(part) or part in RESERVED_DIRS for part in path.parts)


def find_pdfs(dirs: Iterable[Path]) -> tuple[list[Path], int]:
    """Every ``*.pdf`` under ``dirs`` (sorted, the same file once) and how many were left out
    as reserved."""
    reserved = _reserved_files()
    seen: set[str] = set()
    files: list[Path] = []
    skipped = 0
    for d in dirs:
        d = Path(d)
        if d.is_file():
            candidates = [d]
        elif d.is_dir():
            candidates = sorted(p for p in d.rglob("*") if p.suffix.lower() == ".pdf")
        else:
            continue
        for p in candidates:
            key = str(p.resolve())
            if not p.is_file() or key in seen:
                continue
            seen.add(key)
            if is_reserved(p, reserved):
                skipped += 1
            else:
                files.append(p)
    return files, skipped


def sample_pages(path: Path, n_pages: int, k: int, seed: int) -> list[int]:
    """Up to ``k`` 1-based pages of a document: the first, the last, and random others (the
    same for the same file name and seed, whatever else is swept)."""
    if n_pages <= k:
        return list(range(1, n_pages + 1))
    digest = hashlib.sha1(f"{seed}:{path.name}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    chosen = {1, n_pages}
    middle = list(range(2, n_pages))
    chosen.update(rng.sample(middle, min(len(middle), k - 2)))
    return sorted(chosen)[:k]


def page_count(path: Path) -> Optional[int]:
    """Pages of a PDF, None when it does not open (the sweep then reads it whole, so the
    pipeline's own report of the problem is what is counted)."""
    from docencoder.pdf.document import page_count as pdf_page_count

    try:
        return pdf_page_count(path)
    except Exception:  # noqa: BLE001 - any reason: the pipeline will say which
        return None


def record_problems(jsonl: Path, md: Path, pages_done: int) -> list[str]:
    """What is wrong with a document's written output (empty when it is valid)."""
    problems: list[str] = []
    if not jsonl.exists():
        return ["pages were reported written but there is no JSONL"] if pages_done else []
    raw = jsonl.read_bytes()
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        return [f"JSONL is not UTF-8: {e}"]
    pages = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError as e:
            problems.append(f"unparsable line: {e}")
            continue
        pages.append(rec.get("page"))
        text = rec.get("text")
        if not isinstance(text, str):
            problems.append(f"page {rec.get('page')}: text is not a string")
            continue
        bad = sorted({f"U+{ord(c):04X}" for c in text if c != "\n" and (
            c == "\ufffd" or unicodedata.category(c) in ("Cc", "Cs"))})
        if bad:
            problems.append(f"page {rec.get('page')}: text holds {', '.join(bad[:5])}")
        if not str(rec.get("text_layer", "")):
            problems.append(f"page {rec.get('page')}: no text_layer verdict")
    if pages != sorted(pages) or len(set(pages)) != len(pages):
        problems.append(f"pages out of order or repeated: {pages}")
    if pages and not md.exists():
        problems.append("no markdown file")
    return problems


def _make_ocr(cfg: SweepConfig, mode: str):
    factory = cfg.ocr_factory
    if factory is None:
        from docencoder import OCR

        factory = OCR
    return factory(model_dir=cfg.model_dir, dpi=cfg.dpi, text_layer=mode, quantize=cfg.quantize)


def sweep(cfg: SweepConfig, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Read the sampled pages of every PDF in each mode; the figures :func:`report` prints."""
    files, reserved = find_pdfs(cfg.dirs)
    if cfg.max_files is not None:
        files = files[:cfg.max_files]
    plans: list[tuple[Path, Optional[list[int]]]] = []
    for f in files:
        n = page_count(f)
        plans.append((f, None if n is None else sample_pages(f, n, cfg.pages_per_file, cfg.seed)))
    results: dict[str, ModeResult] = {}
    with tempfile.TemporaryDirectory(prefix="docencoder-robustness-") as tmp:
        for mode in cfg.modes:
            ocr = _make_ocr(cfg, mode)
            res = results[mode] = ModeResult()
            out = Path(tmp) / mode
            out.mkdir()
            t0 = time.perf_counter()
            for i, (path, pages) in enumerate(plans):
                if pages is not None and mode == "never":
                    pages = pages[:cfg.never_pages]
                    if not pages:
                        continue
                _read_one(ocr, path, pages, out, f"f{i:05d}", mode, res)
            res.seconds = time.perf_counter() - t0
            log(f"{mode}: {res.files} files, {res.pages} pages, "
                f"{sum(res.failures.values())} failures, {len(res.crashes)} crashes, "
                f"{res.seconds:.0f} s")
    return {"files": len(files), "reserved_skipped": reserved,
            "unopenable": sum(1 for _, p in plans if p is None),
            "modes": {m: _as_dict(r) for m, r in results.items()}}


def _read_one(ocr, path: Path, pages: Optional[list[int]], out: Path, name: str, mode: str,
              res: ModeResult) -> None:
    """One document in one mode, its outcome added to ``res``."""
    res.files += 1
    try:
        summary = ocr.ocr_document(path, name, out, pages=pages, text_layer=mode)
    except Exception as e:  # noqa: BLE001 - exactly what this benchmark is looking for
        res.crashes.append({"doc": str(path), "what": f"{type(e).__name__}: {e}"})
        return
    res.pages += summary.pages_done
    for failure in summary.failures:
        res.failures[failure.kind] += 1
        examples = res.examples.setdefault(failure.kind, [])
        if len(examples) < 5:
            examples.append({"doc": failure.doc, "page": failure.page, "error": failure.error})
    jsonl, md = out / f"{name}.jsonl", out / f"{name}.md"
    for problem in record_problems(jsonl, md, summary.pages_done):
        res.crashes.append({"doc": str(path), "what": problem})
    if jsonl.exists():
        for line in jsonl.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            res.sources[rec.get("source", "?")] += 1
            res.verdicts[str(rec.get("text_layer", "?")).split(":")[0]] += 1


def _as_dict(r: ModeResult) -> dict[str, Any]:
    return {"files": r.files, "pages": r.pages, "failures": dict(r.failures),
            "crashes": r.crashes, "verdicts": dict(r.verdicts), "sources": dict(r.sources),
            "examples": r.examples, "seconds": round(r.seconds, 1)}


def report(result: dict[str, Any]) -> str:
    """The figures as a markdown table, then the crashes and a few failures of each kind."""
    from .report import markdown_table

    kinds = sorted({k for m in result["modes"].values() for k in m["failures"]})
    headers = ["mode", "files", "pages", *[f"failed: {k}" for k in kinds], "crashes",
               "trusted / untrusted / absent / not-checked", "s"]
    rows = []
    for mode, m in result["modes"].items():
        v = m["verdicts"]
        rows.append([mode, m["files"], m["pages"], *[m["failures"].get(k, 0) for k in kinds],
                     len(m["crashes"]),
                     " / ".join(str(v.get(x, 0)) for x in ("trusted", "untrusted", "absent",
                                                          "not-checked")),
                     m["seconds"]])
    lines = [f"{result['files']} PDFs ({result['reserved_skipped']} of reserved packages left "
             f"out, {result['unopenable']} do not open)", "",
             markdown_table(headers, rows, align_right_from=1)]
    for mode, m in result["modes"].items():
        for c in m["crashes"]:
            lines.append(f"CRASH [{mode}] {c['doc']}: {c['what']}")
        for kind, examples in m["examples"].items():
            for e in examples[:3]:
                page = f" p{e['page']}" if e["page"] else ""
                lines.append(f"failure [{mode}, {kind}] {e['doc']}{page}: {e['error'][:160]}")
    return "\n".join(lines)


def crashed(result: dict[str, Any]) -> bool:
    return any(m["crashes"] for m in result["modes"].values())
