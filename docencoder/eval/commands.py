"""CLI: ``docencoder eval PRED REF``, ``docencoder bench ocr`` and the other benchmarks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    """Add ``docencoder eval``."""
    p = subparsers.add_parser(
        "eval", help="score OCR output against ground truth (edit distance, CER, WER, BoW F1)",
        description="Compare predicted page texts with ground truth. PRED and REF are an OCR "
        "output folder of <name>.jsonl files ({doc, page, text} per line), a .jsonl file, a "
        "folder or file of .txt (pages split by form feeds), or a dev-set manifest/folder.")
    p.add_argument("pred", type=Path, help="predicted page texts")
    p.add_argument("ref", type=Path, help="ground truth (e.g. data/devset)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                   help="also write per-page and overall figures as JSON")
    p.add_argument("--quiet", action="store_true", help="print the overall figures only")
    p.set_defaults(func=_eval)


def _eval(args: argparse.Namespace) -> int:
    from .metrics import score_pages
    from .pages import align, key_str, load_pages
    from .report import markdown_table

    try:
        refs = load_pages(args.ref)
        preds = align(load_pages(args.pred), refs)
    except (OSError, ValueError, KeyError) as e:
        print(f"docencoder eval: {e}", file=sys.stderr)
        return 2
    ref_s = {key_str(k): v for k, v in refs.items()}
    pred_s = {key_str(k): v for k, v in preds.items()}
    scores, summary = score_pages(pred_s, ref_s)
    headers = ["page", "NED ↓", "CER ↓", "WER ↓", "BoW F1 ↑", "ref chars", "note"]
    if not args.quiet:
        print(markdown_table(headers, [[s.key, s.ned, s.cer, s.wer, s.bow_f1, s.ref_chars,
                                        "missing" if s.missing else ""] for s in scores]))
        print()
    print(markdown_table(["pages", "missing", "NED ↓", "CER ↓", "WER ↓", "BoW P", "BoW R",
                          "BoW F1 ↑"],
                         [[summary["pages"], summary["missing"], summary["ned"], summary["cer"],
                           summary["wer"], summary["bow_precision"], summary["bow_recall"],
                           summary["bow_f1"]]], align_right_from=0))
    if summary.get("extra"):
        print(f"note: {summary['extra']} predicted pages have no reference and were ignored")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"summary": summary,
                                         "pages": [s.to_dict() for s in scores]}, indent=1))
    return 0


def register_bench(bench_subparsers) -> None:
    """Add ``docencoder bench ocr``."""
    from .bench import DEFAULT_MODEL_DIR, DEFAULT_PAGES, SYSTEMS, VARIANTS

    p = bench_subparsers.add_parser(
        "ocr", help="docencoder vs Tesseract 5 on the dev set: accuracy, speed, memory",
        description="Run docencoder and Tesseract 5 (-l eng --psm 3, OMP_THREAD_LIMIT=1), each as "
        "--workers processes of one thread sharing the pages, on the same 150-DPI renders and "
        "scans of the dev-set pages; print accuracy, pages/s and peak memory side by side, and "
        "precision against vision-text compression.")
    p.add_argument("--pages", default=str(DEFAULT_PAGES),
                   help=f"number of dev-set pages (spread over all sources), 'all', or comma-"
                   f"separated page ids (default {DEFAULT_PAGES})")
    p.add_argument("--dev-dir", type=Path, default=None,
                   help="dev set (default data/devset; the whitepaper set is data/devset_wp)")
    p.add_argument("--model", type=Path, action="append", default=None,
                   help=f"docencoder model directory; repeat for several geometries "
                   f"(default {DEFAULT_MODEL_DIR})")
    p.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated subset of "
                   f"{','.join(SYSTEMS)}")
    p.add_argument("--variants", default=None, help="comma-separated subset of "
                   f"{','.join(VARIANTS)} (default: every input the dev set has: clean,degraded "
                   "for data/devset, clean,scan,harsh for data/devset_wp)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="docencoder decoding batch (default: the reader's, 64 on CPU)")
    p.add_argument("--workers", type=int, default=2,
                   help="processes per system, one thread each: Tesseract pages in parallel, "
                   "docencoder worker processes (default 2)")
    p.add_argument("--quantize", default="auto",
                   help="docencoder runs, comma-separated subset of auto,int8,none: e.g. "
                   "int8,none compares int8 with float32 on the same pages (default auto)")
    p.add_argument("--out", type=Path, default=Path("out/bench_ocr"),
                   help="folder for bench_ocr.json and the plots")
    p.set_defaults(func=_bench)
    _register_robustness(bench_subparsers)
    from .probe import register_probe
    register_probe(bench_subparsers)
    from .memory import register_memory
    register_memory(bench_subparsers)
    _register_structure(bench_subparsers)


def _split(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise ValueError(f"--{what}: expected a subset of {','.join(allowed)}, got {value!r}")
    return items


def _pages(value: str) -> tuple[int | None, tuple[str, ...]]:
    """``--pages``: a count (``12``), every page (``all``: None) or page ids (``a,b``)."""
    if value.isdigit():
        return int(value), ()
    if value == "all":
        return None, ()
    return None, tuple(i.strip() for i in value.split(",") if i.strip())


def _bench(args: argparse.Namespace) -> int:
    from docencoder.ocr.reader import QUANTIZE_MODES

    from .bench import DEFAULT_MODEL_DIR, SYSTEMS, VARIANTS, BenchConfig, run_bench
    from .devset import DEFAULT_DEV_DIR

    try:
        pages, ids = _pages(args.pages)
        cfg = BenchConfig(dev_dir=args.dev_dir or DEFAULT_DEV_DIR, pages=pages, page_ids=ids,
                          variants=(_split(args.variants, VARIANTS, "variants")
                                    if args.variants else None),
                          systems=_split(args.systems, SYSTEMS, "systems"),
                          models=tuple(args.model or (DEFAULT_MODEL_DIR,)),
                          batch_size=args.batch_size, workers=args.workers, out=args.out,
                          quantize=_split(args.quantize, QUANTIZE_MODES, "quantize"))
        if cfg.workers < 1 or (cfg.batch_size is not None and cfg.batch_size < 1):
            raise ValueError("--workers and --batch-size must be positive")
        run_bench(cfg)
    except (OSError, ValueError) as e:
        print(f"docencoder bench ocr: {e}", file=sys.stderr)
        return 2
    return 0


def _register_robustness(bench_subparsers) -> None:
    """Add ``docencoder bench robustness`` (:mod:`.robustness`)."""
    from .robustness import DEFAULT_DIRS, MODES

    p = bench_subparsers.add_parser(
        "robustness", help="read every PDF of some folders in each --text-layer mode; count "
        "failures by kind and crashes",
        description="Sampled pages of every PDF under the folders (default: /usr/share/doc and "
        "data/cache/real/pdfs; reserved evaluation packages are left out), read through "
        "docencoder's OCR API in each mode. Exit status 1 when anything crashed.")
    p.add_argument("dirs", nargs="*", type=Path, default=list(DEFAULT_DIRS), metavar="DIR",
                   help="folders (recursive) or PDF files")
    p.add_argument("--modes", default="only,auto,never",
                   help=f"comma-separated subset of {','.join(MODES)} (default all three)")
    p.add_argument("--pages", type=int, default=6,
                   help="pages sampled per PDF (first, last, random others; default 6)")
    p.add_argument("--never-pages", type=int, default=1,
                   help="of those, pages per PDF OCR'd with --text-layer never (default 1)")
    p.add_argument("--max-files", type=int, default=None, help="only the first N PDFs")
    p.add_argument("--model", type=Path, default=None, help="model directory (default shipped)")
    p.add_argument("--quantize", default="auto", help="auto, int8 or none (default auto)")
    p.add_argument("--json", type=Path, default=None, metavar="OUT.json",
                   help="also write the figures, every crash and examples of each failure kind")
    p.set_defaults(func=_robustness)


def _robustness(args: argparse.Namespace) -> int:
    from .robustness import MODES, SweepConfig, crashed, report, sweep

    try:
        cfg = SweepConfig(dirs=args.dirs, modes=_split(args.modes, MODES, "modes"),
                          pages_per_file=args.pages, never_pages=args.never_pages,
                          max_files=args.max_files, model_dir=args.model, quantize=args.quantize)
    except ValueError as e:
        print(f"docencoder bench robustness: {e}", file=sys.stderr)
        return 2
    result = sweep(cfg, log=lambda line: print(line, file=sys.stderr))
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return 1 if crashed(result) else 0


def _register_structure(bench_subparsers) -> None:
    """Add ``docencoder bench structure`` (:mod:`.structure_bench`; imported when it runs)."""
    p = bench_subparsers.add_parser(
        "structure", help="structure tests (headings, joins, lists, tables, code, furniture, "
        "reading order) on the whitepaper dev set's markdown",
        description="Read the whitepaper dev set's pages through docencoder's OCR API in each "
        "mode (text-layer: --text-layer auto; pixels: --text-layer never) and input, and score "
        "every case of structure_tests.jsonl (fuzzy-matched, olmOCR-Bench style); print the pass "
        "rates per mode x input x check type, write bench_structure.json and the markdown.")
    p.add_argument("--dev-dir", type=Path, default=None,
                   help="dev set (default data/devset_wp)")
    p.add_argument("--cases", type=Path, default=None,
                   help="case file (default DEV_DIR/structure_tests.jsonl)")
    p.add_argument("--modes", default="text-layer,pixels",
                   help="comma-separated subset of text-layer,pixels (default both)")
    p.add_argument("--variants", default="clean,scan",
                   help="comma-separated subset of clean,scan,harsh (default clean,scan)")
    p.add_argument("--pages", default="6",
                   help="number of pages with cases (spread over the sources), 'all', or comma-"
                   "separated page ids (default 6: the pixel mode reads ~3 s a page)")
    p.add_argument("--model", type=Path, default=None, help="model directory (default shipped)")
    p.add_argument("--out", type=Path, default=Path("out/bench_structure"),
                   help="folder for bench_structure.json and the markdown of every reading")
    p.add_argument("--failures", action="store_true", help="also print every failed case")
    p.set_defaults(func=_structure)


def _structure(args: argparse.Namespace) -> int:
    from .structure_bench import MODES, VARIANTS, StructureBenchConfig, report, run_structure_bench

    try:
        pages, ids = _pages(args.pages)
        cfg = StructureBenchConfig(modes=tuple(_split(args.modes, tuple(MODES), "modes")),
                                   variants=tuple(_split(args.variants, VARIANTS, "variants")),
                                   pages=pages, page_ids=ids, model_dir=args.model, out=args.out,
                                   cases=args.cases,
                                   **({"dev_dir": args.dev_dir} if args.dev_dir else {}))
        result = run_structure_bench(cfg, log=lambda line: print(line, file=sys.stderr))
    except (OSError, ValueError) as e:
        print(f"docencoder bench structure: {e}", file=sys.stderr)
        return 2
    print(f"{result['cases']} cases on {len(result['config']['pages'])} pages")
    print(report(result))
    if args.failures and result["failures"]:
        print()
        print(result["failures"])
    return 0
