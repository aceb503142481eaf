"""``docencoder bench memory``: does ``docencoder ocr`` need more memory for a longer PDF?

Issue 14 item 6: reading a 1000-page PDF in ``auto`` and in ``never`` must peak at most 1.2x the
resident memory of reading a 10-page one. Anything the pipeline keeps per page (results, rendered
images, the markdown, a progress bar's history) shows up here as a ratio that grows with the page
count, while a fixed cost (Python, torch, the model) cancels out.

How it measures: two PDFs are built from real pages (the dev sets' page PDFs, digital and
image-only scans, taken round-robin from each folder so both kinds run all through each PDF);
the small one is the big one's first pages. Each (size, mode) is read by ``docencoder ocr`` in a
fresh child process, one worker and one thread, and its peak RSS is the child's ``VmHWM``
(:func:`~docencoder.eval.tesseract.wait_with_rusage`), so nothing of this process is counted.

Reading 1000 pages with the shipped model takes ~1-3 s a page on a small CPU; ``tiny_model``
reads with a random ``line-tiny`` model instead, which measures the pipeline's own memory (the
model's weights are a constant that both sizes share).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .report import markdown_table
from .tesseract import wait_with_rusage

#: real pages: the dev sets' digital page PDFs and the whitepaper set's image-only scans
DEFAULT_SOURCES = (Path("data/devset_wp/pages"), Path("data/devset_wp/scans"),
                   Path("data/devset/pages"))
DEFAULT_PAGES_BIG = 1000
DEFAULT_PAGES_SMALL = 10
#: --text-layer modes the bench can run (``only`` never loads the model: the fast test uses it)
MODES = ("auto", "never", "only")
#: the modes the issue measures, run by default
DEFAULT_MODES = ("auto", "never")
#: the issue's bound on peak RSS(big) / peak RSS(small)
DEFAULT_MAX_RATIO = 1.2
#: a child gets this long per page (plus start-up) before it is stopped
TIMEOUT_PER_PAGE_S = 60.0
STARTUP_TIMEOUT_S = 300.0
#: kB per MiB (VmHWM is in kB)
_KB = 1024


@dataclass
class MemoryConfig:
    """Options of ``docencoder bench memory``."""

    sources: Sequence[Path] = DEFAULT_SOURCES  # folders (searched recursively) or PDF files
    pages_big: int = DEFAULT_PAGES_BIG  # pages of the long PDF
    pages_small: int = DEFAULT_PAGES_SMALL  # pages of the short one (the reference)
    modes: Sequence[str] = DEFAULT_MODES  # --text-layer modes, each read at both sizes
    model_dir: Optional[Path] = None  # None = the shipped model
    tiny_model: bool = False  # read with a random line-tiny model built in ``out``
    quantize: str = "auto"  # --quantize of the children
    out: Path = Path("out/bench_memory")  # the PDFs, the children's OUT folders, the JSON
    max_ratio: float = DEFAULT_MAX_RATIO  # the bound the verdict checks

    def __post_init__(self) -> None:
        if not 1 <= self.pages_small <= self.pages_big:
            raise ValueError(f"need 1 <= --pages-small <= --pages-big, got {self.pages_small} "
                             f"and {self.pages_big}")
        bad = [m for m in self.modes if m not in MODES]
        if bad or not self.modes:
            raise ValueError(f"--modes: expected a subset of {','.join(MODES)}, got {bad}")
        if self.tiny_model and self.model_dir is not None:
            raise ValueError("--tiny-model and --model exclude each other")
        if self.max_ratio <= 0:
            raise ValueError("--max-ratio must be positive")


@dataclass
class MemoryRun:
    """One child: ``docencoder ocr`` on one PDF in one mode."""

    pages: int  # pages of the PDF
    mode: str
    peak_rss_mib: float
    seconds: float  # wall time of the child, start-up and model loading included
    exit_code: Optional[int]  # None: stopped at its timeout
    written: int = 0  # pages in its OUT
    ocr_pages: int = 0  # of those, read by the model (the others from their text layer)
    ratio: Optional[float] = None  # peak RSS / that of the small PDF in the same mode
    error: str = ""  # the end of its stderr when it failed

    @property
    def pages_per_s(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


@dataclass
class MemoryResult:
    """What :func:`run_memory_bench` measured."""

    config: dict
    runs: list[MemoryRun] = field(default_factory=list)

    def within(self, max_ratio: float) -> bool:
        """Every child succeeded and every long run stayed within ``max_ratio``."""
        return all(r.exit_code == 0 and (r.ratio is None or r.ratio <= max_ratio)
                   for r in self.runs)

    def to_dict(self) -> dict:
        return {"config": self.config,
                "runs": [dict(asdict(r), pages_per_s=r.pages_per_s) for r in self.runs]}


def source_pages(sources: Sequence[Path]) -> list[tuple[Path, int]]:
    """``(pdf, 0-based page)`` of every page of the sources, round-robin over the sources.

    Round-robin, not one folder after the other: a prefix of the list (the small PDF) then holds
    every kind of page the whole list does, in the same proportions.
    """
    import pypdfium2 as pdfium

    per_source: list[list[tuple[Path, int]]] = []
    for src in sources:
        files = sorted(src.rglob("*.pdf")) if src.is_dir() else [src]
        pages = []
        for f in files:
            doc = pdfium.PdfDocument(str(f))
            try:
                pages.extend((f, i) for i in range(len(doc)))
            finally:
                doc.close()
        if pages:
            per_source.append(pages)
    if not per_source:
        raise ValueError(f"no PDF page under {', '.join(map(str, sources))}")
    out = []
    for i in range(max(len(p) for p in per_source)):
        out.extend(p[i] for p in per_source if i < len(p))
    return out


def build_pdf(pages: Sequence[tuple[Path, int]], n: int, path: Path) -> Path:
    """A PDF of ``n`` pages: ``pages`` in turn, repeated as often as needed (pypdfium2's
    page import copies each page with its resources, fonts and images included)."""
    import pypdfium2 as pdfium

    path.parent.mkdir(parents=True, exist_ok=True)
    opened: dict[Path, pdfium.PdfDocument] = {}
    dst = pdfium.PdfDocument.new()
    try:
        for i in range(n):
            pdf, index = pages[i % len(pages)]
            if pdf not in opened:
                opened[pdf] = pdfium.PdfDocument(str(pdf))
            dst.import_pages(opened[pdf], pages=[index])
        tmp = path.with_name(f".{path.name}.tmp")
        dst.save(str(tmp))
        tmp.replace(path)
    finally:
        dst.close()
        for doc in opened.values():
            doc.close()
    return path


def tiny_model_dir(path: Path, seed: int = 0, ctc_head: bool = False) -> Path:
    """A random ``line-tiny`` model saved like a real one (weights, config, the shipped
    tokenizer): the same model the tests read with, for runs that measure the pipeline and not
    the weights. ``ctc_head``: with a CTC head, as the shipped model has (joint decoding)."""
    import torch

    from docencoder.data.tokenizer import DEFAULT_TOKENIZER, load_tokenizer
    from docencoder.model import DocEncoder, get_config, save_pretrained

    tok = load_tokenizer()
    torch.manual_seed(seed)
    cfg = get_config("line-tiny", vocab_size=tok.vocab_size, tokens=tok.token_config(),
                     ctc_head=ctc_head)
    d = save_pretrained(DocEncoder(cfg), path)
    shutil.copy(DEFAULT_TOKENIZER, d / "tokenizer.json")
    return d


def _count_pages(jsonl: Path) -> tuple[int, int]:
    """(pages written, pages OCR'd) of one output JSONL."""
    if not jsonl.exists():
        return 0, 0
    recs = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    return len(recs), sum(r["source"] == "ocr" for r in recs)


def run_child(pdf: Path, n_pages: int, mode: str, out: Path, model_dir: Optional[Path],
              quantize: str) -> MemoryRun:
    """``docencoder ocr PDF`` in a fresh process (one worker, one thread) into an emptied
    ``out``: its peak RSS, wall time and what it wrote."""
    if out.exists():
        shutil.rmtree(out)  # a resume would skip the pages: every run reads them all
    out.mkdir(parents=True)
    cmd = [sys.executable, "-m", "docencoder.cli", "ocr", str(pdf), "-o", str(out / "ocr"),
           "--text-layer", mode, "--quantize", quantize, "--workers", "1", "--threads", "1",
           "--quiet"]
    if model_dir is not None:
        cmd += ["--model", str(model_dir)]
    stderr_path = out / "stderr.txt"
    t0 = time.perf_counter()
    with stderr_path.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        code, peak_kb = wait_with_rusage(proc, STARTUP_TIMEOUT_S + TIMEOUT_PER_PAGE_S * n_pages)
    seconds = time.perf_counter() - t0
    written, ocr_pages = _count_pages(out / "ocr" / f"{pdf.stem}.jsonl")
    error = "" if code == 0 else stderr_path.read_text(errors="replace")[-500:].strip()
    return MemoryRun(n_pages, mode, peak_kb / _KB, seconds, code, written, ocr_pages,
                     error=error or ("" if code == 0 else f"exit status {code}"))


def run_memory_bench(cfg: MemoryConfig,
                     log: Callable[[str], None] = lambda line: None) -> MemoryResult:
    """Build the two PDFs, read each in each mode, and set each long run's ratio."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    model_dir = cfg.model_dir
    if cfg.tiny_model:
        model_dir = tiny_model_dir(cfg.out / "tiny-line")
    pages = source_pages(cfg.sources)
    log(f"{len(pages)} real pages from {', '.join(map(str, cfg.sources))}")
    sizes = sorted({cfg.pages_small, cfg.pages_big})
    pdfs = {}
    for n in sizes:
        t0 = time.perf_counter()
        pdfs[n] = build_pdf(pages, n, cfg.out / f"real-{n}.pdf")
        log(f"built {pdfs[n]} ({pdfs[n].stat().st_size / 2**20:.1f} MiB) in "
            f"{time.perf_counter() - t0:.1f} s")
    result = MemoryResult(config={k: str(v) if isinstance(v, Path) else v
                                  for k, v in asdict(cfg).items()}
                          | {"sources": [str(s) for s in cfg.sources],
                             "model_dir": str(model_dir) if model_dir else "shipped"})
    for mode in cfg.modes:
        small: Optional[MemoryRun] = None
        for n in sizes:
            log(f"docencoder ocr --text-layer {mode} on {n} pages ...")
            run = run_child(pdfs[n], n, mode, cfg.out / f"run-{n}-{mode}", model_dir,
                            cfg.quantize)
            if small is None:
                small = run
            elif small.peak_rss_mib > 0:
                run.ratio = run.peak_rss_mib / small.peak_rss_mib
            log(f"  peak {run.peak_rss_mib:.0f} MiB, {run.seconds:.1f} s, exit {run.exit_code}"
                + (f": {run.error}" if run.error else ""))
            result.runs.append(run)
    (cfg.out / "bench_memory.json").write_text(json.dumps(result.to_dict(), indent=1))
    return result


def report(result: MemoryResult, max_ratio: float) -> str:
    """The table the bench prints, and its verdict against ``max_ratio``."""
    rows = [[r.pages, r.mode, r.written, r.ocr_pages, f"{r.peak_rss_mib:.0f}",
             "1.00 (reference)" if r.ratio is None else f"{r.ratio:.2f}", f"{r.seconds:.1f}",
             f"{r.pages_per_s:.2f}", "ok" if r.exit_code == 0 else f"failed ({r.exit_code})"]
            for r in result.runs]
    table = markdown_table(["pages", "mode", "written", "OCR'd", "peak RSS MiB",
                            "ratio to small", "seconds", "pages/s", "status"], rows,
                           align_right_from=2)
    verdict = ("within" if result.within(max_ratio) else "NOT within")
    return (f"{table}\n\npeak RSS of the long PDF {verdict} {max_ratio:.2f}x the short one's "
            f"(seconds include start-up and model loading)")


def register_memory(bench_subparsers) -> None:
    """Add ``docencoder bench memory``."""
    p = bench_subparsers.add_parser(
        "memory", help="peak RSS of docencoder ocr on a long PDF of real pages against a short one",
        description="Build a PDF of --pages-big real pages (the dev sets' page PDFs and scans, in "
        "turn) and one of --pages-small, read each with `docencoder ocr` in a child process per "
        "--text-layer mode (one worker, one thread) and print each child's peak RSS, its ratio "
        "to the short PDF's, seconds and pages/s. Exit status 1 when a ratio exceeds "
        "--max-ratio or a child failed.")
    p.add_argument("sources", nargs="*", type=Path, default=list(DEFAULT_SOURCES), metavar="SRC",
                   help="folders of PDFs (recursive) or PDF files whose pages are used (default: "
                   + ", ".join(map(str, DEFAULT_SOURCES)) + ")")
    p.add_argument("--pages-big", type=int, default=DEFAULT_PAGES_BIG,
                   help=f"pages of the long PDF (default {DEFAULT_PAGES_BIG})")
    p.add_argument("--pages-small", type=int, default=DEFAULT_PAGES_SMALL,
                   help=f"pages of the short PDF, the reference (default {DEFAULT_PAGES_SMALL})")
    p.add_argument("--modes", default=",".join(DEFAULT_MODES),
                   help=f"comma-separated subset of {','.join(MODES)} (default "
                   f"{','.join(DEFAULT_MODES)})")
    p.add_argument("--model", type=Path, default=None, metavar="DIR",
                   help="model directory (default: the shipped model)")
    p.add_argument("--tiny-model", action="store_true",
                   help="read with a random line-tiny model (fast: measures the pipeline's own "
                   "memory, not the weights')")
    p.add_argument("--quantize", choices=("auto", "int8", "none"), default="auto",
                   help="--quantize of the children (default auto)")
    p.add_argument("--max-ratio", type=float, default=DEFAULT_MAX_RATIO,
                   help=f"bound on peak RSS long / short (default {DEFAULT_MAX_RATIO})")
    p.add_argument("--out", type=Path, default=Path("out/bench_memory"),
                   help="folder for the PDFs, the children's output and bench_memory.json")
    p.set_defaults(func=_memory)


def _memory(args) -> int:
    try:
        cfg = MemoryConfig(sources=args.sources, pages_big=args.pages_big,
                           pages_small=args.pages_small,
                           modes=tuple(m.strip() for m in args.modes.split(",") if m.strip()),
                           model_dir=args.model, tiny_model=args.tiny_model,
                           quantize=args.quantize, out=args.out, max_ratio=args.max_ratio)
        result = run_memory_bench(cfg, log=lambda line: print(line, file=sys.stderr))
    except (OSError, ValueError) as e:
        print(f"docencoder bench memory: {e}", file=sys.stderr)
        return 2
    print(report(result, cfg.max_ratio))
    return 0 if result.within(cfg.max_ratio) else 1
