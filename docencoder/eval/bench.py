"""``docencoder bench ocr``: docencoder against Tesseract 5 on a dev set, in one command.

Fairness, as documented in the README:

* **The CLI's own PDF path, the same pixels.** docencoder reads each page's PDF through its API
  (``OCR.read(pdf, dpi=150, text_layer="never")``: the pypdfium2 render of
  ``docencoder.ocr.pages``), and Tesseract reads that same render, saved as PNG. A scan-like
  input of ``data/devset_wp`` is an image-only PDF: docencoder reads the PDF, Tesseract the JPEG
  inside it. The old dev set's ``degraded`` input is its stored scan image, read by both.
  Neither system sees a text layer.
* **Same machine share.** Tesseract runs one page per process with ``OMP_THREAD_LIMIT=1``,
  ``workers`` processes at a time (one per core, its recommended throughput setting). docencoder
  runs the same way: ``workers`` processes with one torch thread each (``OMP_NUM_THREADS=1``),
  taking pages from the shared list one at a time. Each worker loads the model, waits for the
  others, then reads; pages/s is pages divided by the page-phase wall time of the slowest worker.
* **Tesseract settings:** ``-l eng --psm 3 --dpi 150`` (LSTM engine, automatic page segmentation).
* **Memory:** peak RSS (``VmHWM``) of one process of each system (the largest); docencoder's
  includes Python, torch and the model. Model loading time is reported apart from pages/s.

Figures are printed per input (clean, and the scan-like variants the dev set has), then broken
down by layout (1col/2col) and by kind of page (typeset/journal, or the old set's manual/paper/
refcard), because an average over a mixed set hides where a system fails.

A further table follows DeepSeek-OCR's Fox study: word precision against the compression ratio
(text tokens of the ground truth per vision token the model spent on the page), for each model
geometry that has a trained checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from .devset import DEFAULT_DEV_DIR, DPI, DevPage, load_manifest
from .metrics import PageScore, score_page, summarize
from .report import markdown_table
from .tesseract import TesseractConfig, run_pages, tesseract_version, wait_with_rusage

#: the shipped default model
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
#: every input a dev set can offer: the page PDF, the old set's stored scan image, and the
#: whitepaper set's scan-like and harsh image-only PDFs
VARIANTS = ("clean", "degraded", "scan", "harsh")
#: what a page's scores are broken down by (DevPage fields)
BREAKDOWNS = ("layout", "kind")
SYSTEMS = ("tesseract", "docencoder")
#: pages of the default run: a few minutes for Tesseract and the line model on 2 cores
DEFAULT_PAGES = 12
#: upper edges of the compression-ratio bins (text tokens per vision token)
COMPRESSION_BINS = (0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 20.0, math.inf)
#: a docencoder worker gets this long per page before it is stopped
WORKER_TIMEOUT_PER_PAGE_S = 600.0
#: speed axis turns logarithmic when the fastest system is this many times the slowest
LOG_SPEED_SPAN = 20.0
#: bytes per kilobyte / kilobytes per megabyte (ru_maxrss is in kB on Linux)
_KB = 1024


@dataclass
class BenchConfig:
    """Options of ``docencoder bench ocr``."""

    dev_dir: Path = DEFAULT_DEV_DIR
    pages: Optional[int] = DEFAULT_PAGES  # None = every page of the dev set
    page_ids: Sequence[str] = ()  # explicit pages (overrides ``pages``)
    variants: Optional[Sequence[str]] = None  # None = every input the dev set has
    systems: Sequence[str] = SYSTEMS
    models: Sequence[Path] = (DEFAULT_MODEL_DIR,)
    batch_size: Optional[int] = None  # None = the reader's default (64 on CPU, encoded in 16s)
    dpi: int = DPI
    workers: int = 2  # processes per system (Tesseract pages, docencoder workers), 1 thread each
    quantize: Sequence[str] = ("auto",)  # docencoder runs, one per mode (auto / int8 / none)
    out: Path = Path("out/bench_ocr")
    ocr_factory: str = "docencoder:OCR"  # module:attr building the OCR object (tests swap it)


@dataclass
class SystemRun:
    """One system on one variant of the chosen pages."""

    system: str
    variant: str
    scores: list[PageScore]
    summary: dict
    wall_s: float  # pages only (model loading excluded); slowest worker for parallel runs
    peak_rss_mb: float
    load_s: Optional[float] = None
    errors: list[str] = field(default_factory=list)
    vision_tokens: dict[str, Optional[int]] = field(default_factory=dict)  # page id -> tokens
    texts: dict[str, str] = field(default_factory=dict)
    latency_s: list[float] = field(default_factory=list)  # per page, as each page was timed
    #: per worker process: {"pages", "load_s", "wall_s", "threads"} (docencoder runs)
    workers: list[dict] = field(default_factory=list)

    @property
    def pages_per_s(self) -> float:
        return len(self.scores) / self.wall_s if self.wall_s > 0 else 0.0

    def to_dict(self) -> dict:
        d = {k: v for k, v in asdict(self).items() if k != "scores"}
        d["pages_per_s"] = self.pages_per_s
        d["pages"] = [s.to_dict() for s in self.scores]
        return d


def select_pages(rows: Sequence[DevPage], n: Optional[int],
                 ids: Sequence[str] = ()) -> list[DevPage]:
    """The pages to benchmark: the named ones, or ``n`` spread evenly over the manifest.

    The manifest is grouped by source document, so an even stride covers every source; a
    multi-column page is swapped in if the stride missed all of them.
    """
    if ids:
        by_id = {r.id: r for r in rows}
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise ValueError(f"pages not in the dev set: {', '.join(unknown)}")
        return [by_id[i] for i in ids]
    if n is None or n >= len(rows):
        return list(rows)
    if n <= 0:
        raise ValueError("--pages must be positive")
    chosen = [rows[(i * len(rows)) // n] for i in range(n)]
    multi = [r for r in rows if r.layout != "1col"]
    if multi and not any(r.layout != "1col" for r in chosen):
        chosen[-1] = multi[0]
    return chosen


def available_variants(rows: Sequence[DevPage]) -> list[str]:
    """The inputs every one of ``rows`` has, in :data:`VARIANTS` order."""
    have = set(VARIANTS)
    for row in rows:
        have &= set(row.inputs())
    return [v for v in VARIANTS if v in have]


def _stale(out: Path, source: Path) -> bool:
    """True when a cached file is missing or older than what it was made from (a rebuilt set)."""
    return not out.exists() or out.stat().st_mtime < source.stat().st_mtime


def render_page(pdf: Path, dpi: int, out: Path) -> Path:
    """Save page 1 of ``pdf`` as the CLI renders it (pypdfium2, grayscale) to a PNG; cached."""
    if _stale(out, pdf):
        from docencoder.ocr.pages import PdfDocument

        out.parent.mkdir(parents=True, exist_ok=True)
        with PdfDocument(pdf) as doc:
            image, _ = doc.render(1, dpi)
        tmp = out.with_suffix(".tmp.png")
        image.save(tmp)
        tmp.replace(out)
    return out


def embedded_jpeg(pdf: Path, out: Path) -> Path:
    """Save the JPEG inside an image-only scan PDF as a file (bytes as stored); cached."""
    if _stale(out, pdf):
        from docencoder.data.scan import pdf_jpeg

        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.jpg")
        tmp.write_bytes(pdf_jpeg(pdf))
        tmp.replace(out)
    return out


def prepare_inputs(rows: Sequence[DevPage], cfg: BenchConfig, variants: Sequence[str]
                   ) -> tuple[dict[tuple[str, str], Path], dict[tuple[str, str], Path]]:
    """What each system reads, by (variant, page id): (docencoder's files, Tesseract's images).

    docencoder gets the PDF (the CLI's path) where there is one; Tesseract gets the CLI's render
    of it (clean) or the image inside it (scan-like). Both get the stored image of the old set's
    ``degraded`` input. Renders and extracted images are cached under ``cfg.out/images``.
    """
    docencoder: dict[tuple[str, str], Path] = {}
    tesseract: dict[tuple[str, str], Path] = {}
    cache = cfg.out / "images" / cfg.dev_dir.resolve().name
    for row in rows:
        inputs = row.inputs()
        for variant in variants:
            path = cfg.dev_dir / inputs[variant]
            key = (variant, row.id)
            if path.suffix.lower() != ".pdf":
                if cfg.dpi != DPI:
                    raise ValueError(f"the stored scans are {DPI} DPI; use --dpi {DPI}")
                docencoder[key] = tesseract[key] = path
            elif variant == "clean":
                docencoder[key] = path
                tesseract[key] = render_page(path, cfg.dpi,
                                             cache / f"clean-{cfg.dpi}dpi" / f"{row.id}.png")
            else:
                if cfg.dpi != DPI:
                    raise ValueError(f"the scan-like PDFs are {DPI}-DPI images; use --dpi {DPI}")
                docencoder[key] = path
                tesseract[key] = embedded_jpeg(path, cache / variant / f"{row.id}.jpg")
    return docencoder, tesseract


def prepare_images(rows: Sequence[DevPage], cfg: BenchConfig) -> dict[tuple[str, str], Path]:
    """(variant, page id) -> the image file Tesseract reads (see :func:`prepare_inputs`)."""
    return prepare_inputs(rows, cfg, cfg.variants or available_variants(rows))[1]


def _ground_truth(rows: Sequence[DevPage], dev_dir: Path) -> dict[str, str]:
    return {r.id: (dev_dir / r.gt).read_text(encoding="utf-8") for r in rows}


def run_tesseract(rows: Sequence[DevPage], variant: str, images: dict, gt: dict[str, str],
                  cfg: BenchConfig) -> SystemRun:
    """Tesseract on one variant of the pages."""
    tcfg = TesseractConfig(dpi=cfg.dpi, workers=cfg.workers)
    results, wall = run_pages([images[(variant, r.id)] for r in rows], tcfg)
    scores = [score_page(res.text, gt[r.id], key=r.id) for r, res in zip(rows, results)]
    return SystemRun(
        system="tesseract", variant=variant, scores=scores, summary=summarize(scores),
        wall_s=wall, peak_rss_mb=max((res.max_rss_kb for res in results), default=0) / _KB,
        errors=[f"{r.id}: {res.error}" for r, res in zip(rows, results) if res.error],
        texts={r.id: res.text for r, res in zip(rows, results)},
        latency_s=[res.seconds for res in results])


def model_available(model_dir: Path) -> Optional[str]:
    """None if ``model_dir`` holds a trained checkpoint, else why not."""
    for name in ("config.json", "model.safetensors"):
        if not (model_dir / name).is_file():
            return f"no {name} in {model_dir} (no trained checkpoint yet)"
    return None


#: thread pools pinned to one thread in each docencoder worker, as OMP_THREAD_LIMIT=1 for Tesseract
_ONE_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _run_worker(spec: dict, folder: Path, timeout_s: float) -> tuple[dict, Optional[int], int]:
    """One ``ocr_worker`` process: (its result, exit status or None on timeout, peak RSS kB)."""
    index = spec["sync"]["index"]
    spec_path, result_path = folder / f"spec-{index}.json", folder / f"result-{index}.json"
    spec_path.write_text(json.dumps(spec))
    env = dict(os.environ, **{name: "1" for name in _ONE_THREAD_ENV})
    proc = subprocess.Popen([sys.executable, "-m", "docencoder.eval.ocr_worker",
                             str(spec_path), str(result_path)], env=env)
    status, peak_kb = wait_with_rusage(proc, timeout_s)
    result = json.loads(result_path.read_text()) if result_path.exists() else {}
    return result, status, peak_kb


def run_docencoder(rows: Sequence[DevPage], variant: str, images: dict, gt: dict[str, str],
                   cfg: BenchConfig, model_dir: Path, quantize: str = "auto") -> SystemRun:
    """docencoder on one variant of the pages: ``cfg.workers`` processes x 1 thread, as Tesseract.

    ``images`` maps (variant, page id) to the file docencoder reads: a PDF or an image.

    Every worker loads the model once (``load_s`` is the slowest load), then they share the pages;
    ``wall_s`` is the page phase of the slowest worker.
    """
    workers = max(1, cfg.workers)
    inputs = [{"key": r.id, "path": str(images[(variant, r.id)])} for r in rows]
    timeout = WORKER_TIMEOUT_PER_PAGE_S * max(1, len(rows))
    with tempfile.TemporaryDirectory() as tmp:
        sync_dir = Path(tmp) / "sync"
        sync_dir.mkdir()
        specs = [{"model": str(model_dir), "batch_size": cfg.batch_size, "dpi": cfg.dpi,
                  "factory": cfg.ocr_factory, "threads": 1, "quantize": quantize,
                  "sync": {"dir": str(sync_dir), "index": i, "count": workers},
                  "inputs": inputs} for i in range(workers)]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(lambda spec: _run_worker(spec, Path(tmp), timeout), specs))
    errors = []
    for result, status, _ in done:
        if status != 0:
            errors.append(result.get("error") or f"worker exit status {status}")
    pages = [p for result, _, _ in done for p in result.get("pages", [])]
    by_key = {p["key"]: p for p in pages}
    scores, tokens, texts = [], {}, {}
    for r in rows:
        page = by_key.get(r.id)
        if page and page.get("error"):
            errors.append(f"{r.id}: {page['error']}")
        text = page["text"] if page else ""
        scores.append(score_page(text, gt[r.id], key=r.id, missing=page is None))
        tokens[r.id] = page.get("vision_tokens") if page else None
        texts[r.id] = text
    walls = [result.get("wall_s", sum(p["seconds"] for p in result.get("pages", [])))
             for result, _, _ in done]
    loads = [result["load_s"] for result, _, _ in done if result.get("load_s") is not None]
    peak_kb = max(max(peak, result.get("max_rss_kb") or 0) for result, _, peak in done)
    modes = {result["quantize"] for result, _, _ in done if result.get("quantize")}
    suffix = f":{modes.pop()}" if len(modes) == 1 else ""  # the resolved mode: int8 or none
    return SystemRun(
        system=f"docencoder:{model_dir.name}{suffix}", variant=variant, scores=scores,
        summary=summarize(scores), wall_s=max(walls), peak_rss_mb=peak_kb / _KB,
        load_s=max(loads) if loads else None, errors=errors, vision_tokens=tokens, texts=texts,
        latency_s=[by_key[r.id]["seconds"] for r in rows if r.id in by_key],
        workers=[{"pages": len(result.get("pages", [])), "load_s": result.get("load_s"),
                  "wall_s": wall, "threads": result.get("threads")}
                 for (result, _, _), wall in zip(done, walls)])


def count_vision_tokens(image_path: Path, model_cfg) -> int:
    """Vision tokens a model spends on a page, from the page's layout.

    A line model reads every line crop (long lines split into pieces that fit its width) as one
    image of ``model_cfg.vision_tokens()`` tokens, or, dynamic-width, of the tokens covering the
    piece's ink (a lower bound: a batch is as wide as its widest piece); a page model reads the
    page as one view. Used when the run did not report what it spent.
    """
    g = model_cfg.geometry
    if g.kind == "page":  # one view per page (no tiles)
        return model_cfg.vision_tokens()
    from PIL import Image

    from docencoder.ocr.layout import LayoutConfig, find_lines
    from docencoder.ocr.reader import PagePieces, crop_width, piece_ink_end

    with Image.open(image_path) as im:
        layout = find_lines(im.convert("L"))
    pieces = PagePieces.of(layout, g.height, g.width, LayoutConfig().pad_px).flat
    if not g.dynamic_width:
        return len(pieces) * model_cfg.vision_tokens()
    unit, rows = model_cfg.width_unit, model_cfg.token_grid(g.height, g.width)[0]
    return sum(rows * crop_width(piece_ink_end(p), unit, g.width) // unit for p in pieces)


def compression_table(run: SystemRun, rows: Sequence[DevPage], images: dict, gt: dict[str, str],
                      model_dir: Path) -> dict:
    """Fox-style figures: per page text tokens, vision tokens, ratio; binned precision."""
    from docencoder.data.tokenizer import load_tokenizer, normalize_text
    from docencoder.model.weights import load_config

    model_cfg = load_config(model_dir)
    tok_path = model_dir / "tokenizer.json"
    tok = load_tokenizer(tok_path if tok_path.is_file() else None)
    pages = []
    for r, score in zip(rows, run.scores):
        text_tokens = len(tok.encode(normalize_text(gt[r.id])))
        vision = run.vision_tokens.get(r.id) or count_vision_tokens(images[(run.variant, r.id)],
                                                                    model_cfg)
        pages.append({"id": r.id, "text_tokens": text_tokens, "vision_tokens": vision,
                      "compression": text_tokens / max(vision, 1),
                      "precision": score.bow_precision, "accuracy": 1.0 - score.ned})
    bins = []
    lo = 0.0
    for hi in COMPRESSION_BINS:
        inside = [p for p in pages if lo <= p["compression"] < hi]
        if inside:
            n = len(inside)
            bins.append({"range": f"{lo:g}-{hi:g}x" if math.isfinite(hi) else f">={lo:g}x",
                         "pages": n,
                         "text_tokens": sum(p["text_tokens"] for p in inside) / n,
                         "vision_tokens": sum(p["vision_tokens"] for p in inside) / n,
                         "compression": sum(p["compression"] for p in inside) / n,
                         "precision": sum(p["precision"] for p in inside) / n,
                         "accuracy": sum(p["accuracy"] for p in inside) / n})
        lo = hi
    return {"model": str(model_dir), "geometry": f"{model_cfg.name} "
            f"{model_cfg.geometry.height}x{model_cfg.geometry.width}",
            "tokens_per_view": model_cfg.vision_tokens(), "variant": run.variant,
            "dynamic_width": model_cfg.geometry.dynamic_width,
            "pages": pages, "bins": bins}


def write_predictions(runs: Sequence[SystemRun], folder: Path) -> None:
    """Each run's page texts as ``<system>_<input>.jsonl``, re-scorable with ``docencoder eval``."""
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        name = f"{run.system.replace(':', '-')}_{run.variant}.jsonl"
        with (folder / name).open("w", encoding="utf-8") as f:
            for page_id, text in run.texts.items():
                f.write(json.dumps({"doc": page_id, "page": 1, "text": text},
                                   ensure_ascii=False) + "\n")


def speed_table(runs: Sequence[SystemRun]) -> str:
    """The side-by-side table of accuracy, speed and memory."""
    headers = ["system", "input", "pages", "NED ↓", "CER ↓", "WER ↓", "BoW F1 ↑",
               "latency s/page", "pages/s ↑", "peak RSS MB", "load s"]
    rows = []
    for run in runs:
        s = run.summary
        rows.append([run.system, run.variant, s["pages"], s["ned"], s["cer"], s["wer"],
                     s["bow_f1"],
                     (sum(run.latency_s) / len(run.latency_s)) if run.latency_s else None,
                     run.pages_per_s, round(run.peak_rss_mb), run.load_s])
    return markdown_table(headers, rows, align_right_from=2)


def breakdown(runs: Sequence[SystemRun], rows: Sequence[DevPage],
              fields: Sequence[str] = BREAKDOWNS) -> list[dict]:
    """Each run's figures over the pages of each layout and each kind (one row per group).

    Returns:
        ``[{"system", "input", "by", "group", **summarize(...)}]``, in run order.
    """
    out = []
    for run in runs:
        by_id = {s.key: s for s in run.scores}
        for name in fields:
            groups: dict[str, list[PageScore]] = {}
            for row in rows:
                if row.id in by_id:
                    groups.setdefault(str(getattr(row, name)), []).append(by_id[row.id])
            for group, scores in sorted(groups.items()):
                out.append({"system": run.system, "input": run.variant, "by": name,
                            "group": group, **summarize(scores)})
    return out


def breakdown_table(rows: Sequence[dict]) -> str:
    """The breakdown as one markdown table, each system's inputs side by side per group."""
    headers = ["group", "input", "system", "pages", "NED ↓", "WER ↓", "BoW F1 ↑"]
    ordered = sorted(rows, key=lambda r: (BREAKDOWNS.index(r["by"]) if r["by"] in BREAKDOWNS
                                          else len(BREAKDOWNS), r["group"],
                                          VARIANTS.index(r["input"]) if r["input"] in VARIANTS
                                          else len(VARIANTS), r["system"]))
    return markdown_table(headers, [[r["group"], r["input"], r["system"], r["pages"], r["ned"],
                                     r["wer"], r["bow_f1"]] for r in ordered], align_right_from=3)


def fox_table(comp: dict) -> str:
    headers = ["compression", "pages", "text tokens", "vision tokens", "word precision ↑",
               "1 − NED ↑"]
    rows = [[b["range"], b["pages"], round(b["text_tokens"]), round(b["vision_tokens"]),
             b["precision"], b["accuracy"]] for b in comp["bins"]]
    return markdown_table(headers, rows)


def plot_speed(runs: Sequence[SystemRun], path: Path) -> None:
    """Accuracy (1 − NED) against pages/s, one point per system and input."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    markers = {"clean": "o", "degraded": "s", "scan": "s", "harsh": "^"}
    systems = list(dict.fromkeys(run.system for run in runs))
    colors = {name: f"C{i}" for i, name in enumerate(systems)}
    for run in runs:
        ax.scatter(run.pages_per_s, 1 - run.summary["ned"], marker=markers.get(run.variant, "x"),
                   color=colors[run.system], s=60, label=f"{run.system} ({run.variant})")
    speeds = [run.pages_per_s for run in runs if run.pages_per_s > 0]
    if speeds and max(speeds) / min(speeds) > LOG_SPEED_SPAN:
        ax.set_xscale("log")
    else:
        ax.set_xlim(0, max(speeds, default=1.0) * 1.15)
    ax.set_xlabel("pages / s (2 CPU cores)")
    ax.set_ylabel("1 − normalised edit distance")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("OCR accuracy against speed (dev set, 150 DPI)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_compression(comps: Sequence[dict], path: Path) -> None:
    """Word precision against compression ratio per page, one series per model geometry."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for comp in comps:
        xs = [p["compression"] for p in comp["pages"]]
        ys = [p["precision"] for p in comp["pages"]]
        ax.scatter(xs, ys, s=25, alpha=0.7, label=f"{comp['geometry']} ({comp['variant']})")
    ax.set_xlabel("compression (text tokens / vision tokens)")
    ax.set_ylabel("word precision")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Precision against vision-text compression")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run_bench(cfg: BenchConfig, log=print) -> dict:
    """Run the benchmark, print the tables, write ``bench_ocr.json`` and plots to ``cfg.out``."""
    cfg.out.mkdir(parents=True, exist_ok=True)
    rows = select_pages(load_manifest(cfg.dev_dir), cfg.pages, cfg.page_ids)
    gt = _ground_truth(rows, cfg.dev_dir)
    variants = list(cfg.variants or available_variants(rows))
    missing_inputs = [v for v in variants if v not in available_variants(rows)]
    if missing_inputs:
        raise ValueError(f"--variants: {cfg.dev_dir} has no {', '.join(missing_inputs)} input "
                         f"for every page (it has {', '.join(available_variants(rows))})")
    inputs, images = prepare_inputs(rows, cfg, variants)
    log(f"{len(rows)} pages x {len(variants)} inputs ({', '.join(variants)}), {cfg.dpi} DPI")
    runs: list[SystemRun] = []
    notes: list[str] = []
    comps: list[dict] = []
    if "tesseract" in cfg.systems:
        version = tesseract_version()
        if version is None:
            notes.append("tesseract not installed: skipped (apt-get install tesseract-ocr)")
        else:
            notes.append(f"{version}: -l eng --psm 3 --dpi {cfg.dpi}, OMP_THREAD_LIMIT=1, "
                         f"{cfg.workers} pages in parallel (peak RSS is per page process)")
            for variant in variants:
                log(f"tesseract on {variant} pages ...")
                runs.append(run_tesseract(rows, variant, images, gt, cfg))
    if "docencoder" in cfg.systems:
        for model_dir in cfg.models:
            model_dir = Path(model_dir)
            missing = model_available(model_dir)
            if missing:
                notes.append(f"docencoder skipped: {missing}")
                continue
            notes.append(f"docencoder {model_dir.name}: {cfg.workers} worker processes x 1 torch "
                         f"thread, batch {cfg.batch_size or 'default'}, quantize "
                         f"{'/'.join(cfg.quantize)} (peak RSS is per worker process)")
            for quantize in cfg.quantize:
                for variant in variants:
                    log(f"docencoder ({model_dir}, quantize {quantize}) on {variant} pages ...")
                    run = run_docencoder(rows, variant, inputs, gt, cfg, model_dir, quantize)
                    runs.append(run)
                    if variant == variants[0] and quantize == cfg.quantize[0]:
                        comps.append(compression_table(run, rows, images, gt, model_dir))
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    result: dict[str, Any] = {
        "date": started, "dev_dir": str(cfg.dev_dir), "dpi": cfg.dpi,
        "pages": [r.id for r in rows], "variants": variants, "notes": notes,
        "runs": [r.to_dict() for r in runs], "breakdown": breakdown(runs, rows),
        "compression": comps}
    (cfg.out / "bench_ocr.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    write_predictions(runs, cfg.out / "predictions")
    print(speed_table(runs))
    if runs:
        print("\nBy layout and kind of page:")
        print(breakdown_table(result["breakdown"]))
    for note in notes:
        print(f"- {note}")
    for run in runs:
        for err in run.errors[:5]:
            print(f"- {run.system} {run.variant}: {err}")
    if runs:
        plot_speed(runs, cfg.out / "accuracy_vs_speed.png")
    for comp in comps:
        upto = "up to " if comp.get("dynamic_width") else ""
        print(f"\nCompression ({comp['geometry']}, {upto}{comp['tokens_per_view']} vision tokens "
              f"per view, {comp['variant']} pages):")
        print(fox_table(comp))
    if comps:
        plot_compression(comps, cfg.out / "precision_vs_compression.png")
    print(f"\nresults: {cfg.out / 'bench_ocr.json'}")
    return result
