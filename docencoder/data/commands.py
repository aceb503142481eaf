"""``docencoder data ...`` (making training data) and ``docencoder bench data`` (its throughput).

There is one ``data`` parser with its own subcommands. To add one (e.g. ``data corpus``), write
``def add_corpus_command(data_subparsers) -> None`` next to the code it runs and append it to
:data:`DATA_COMMANDS` below; :func:`register` calls every entry once.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from typing import Callable


def _from_pdfs(args: argparse.Namespace) -> int:
    from .pdf_shards import from_pdfs

    kinds = tuple(k for k in args.kinds.split(",") if k)
    try:
        summary = from_pdfs(args.input_dir, args.out, dpi=args.dpi, max_pages=args.max_pages,
                            kinds=kinds, shard_samples=args.shard_samples,
                            log=lambda m: print(m, file=sys.stderr), spread=args.spread_pages)
    except ValueError as e:  # not a directory, bad manifest
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    return 1 if summary["failed"] else 0


def _synth_pdf(args: argparse.Namespace) -> int:
    from .synth import PdfGenConfig, synth_to_shards

    cfg = PdfGenConfig(pages=(args.min_pages, args.max_pages))
    kinds = tuple(k for k in args.kinds.split(",") if k)
    counts = synth_to_shards(args.out, args.docs, seed=args.seed, cfg=cfg, kinds=kinds,
                             progress=sys.stderr.isatty())
    print(json.dumps(counts, indent=1))
    return 0


def register_data_commands(sub: argparse._SubParsersAction) -> None:
    """``data from-pdfs`` and ``data synth-pdf``."""
    p = sub.add_parser("from-pdfs", help="digital PDFs -> (page|line image, text) tar shards",
                       description="Cut (page image, text) and (line image, text) pairs from the "
                       "text layer of every PDF under DIR into tar shards in OUT. Re-running "
                       "resumes; pages with a broken text layer and unreadable files are counted "
                       "and reported, not fatal.")
    p.add_argument("input_dir", metavar="DIR", help="directory searched recursively for *.pdf")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="shard directory")
    p.add_argument("--dpi", type=int, default=150, help="render resolution (default 150)")
    p.add_argument("--max-pages", type=int, default=None, metavar="N",
                   help="read at most N pages of each PDF (the first N, or see --spread-pages)")
    p.add_argument("--spread-pages", action="store_true",
                   help="with --max-pages: read runs of pages spread through each longer PDF "
                   "instead of its first N (long manuals open with front matter)")
    p.add_argument("--kinds", default="page,line", help="sample kinds to write: page, block, line (default page,line)")
    p.add_argument("--shard-samples", type=int, default=2000, help="samples per shard (default 2000)")
    p.set_defaults(func=_from_pdfs)

    p = sub.add_parser("synth-pdf", help="generate whitepaper-like PDFs -> tar shards",
                       description="Typeset random whitepaper-like documents with reportlab, render "
                       "them as the CLI does (pypdfium2) and write (page|line image, text) shards to OUT. "
                       "Deterministic for --seed; re-running resumes.")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="shard directory")
    p.add_argument("--docs", type=int, default=100, help="documents to generate (default 100)")
    p.add_argument("--seed", type=int, default=0, help="document i uses seed + i (default 0)")
    p.add_argument("--min-pages", type=int, default=1, help="pages per document, low (default 1)")
    p.add_argument("--max-pages", type=int, default=2, help="pages per document, high (default 2)")
    p.add_argument("--kinds", default="page,line", help="sample kinds to write: page, block, line (default page,line)")
    p.set_defaults(func=_synth_pdf)


#: functions that each add subcommands to the ``data`` parser
DATA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [register_data_commands]


def _add_latex(sub: argparse._SubParsersAction) -> None:
    from .latex import add_latex_command

    add_latex_command(sub)


DATA_COMMANDS.append(_add_latex)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``data`` command and its subcommands (see :data:`DATA_COMMANDS`)."""
    p = subparsers.add_parser("data", help="make training data (shards, PDFs)")
    sub = p.add_subparsers(dest="data_command", metavar="WHAT", required=True)
    for add in DATA_COMMANDS:
        add(sub)


# ---------------------------------------------------------------------- benchmark
def _rate(fn: Callable[[], int], seconds: float) -> tuple[float, int, float]:
    """Call ``fn`` (returns items made) until ``seconds`` pass; (items/s, items, elapsed)."""
    n, t0 = 0, time.perf_counter()
    while True:
        n += fn()
        elapsed = time.perf_counter() - t0
        if elapsed >= seconds:
            return n / elapsed, n, elapsed


def _bench_data(args: argparse.Namespace) -> int:
    from .synth import PdfGenConfig, default_paragraphs, document_samples, generate_pdf

    paragraphs = default_paragraphs()
    rows: list[tuple[str, float, int, float]] = []
    if "lines" in args.kinds:
        try:
            from .lines import LineGenerator
        except ImportError:
            print("PIL lines: docencoder.data.lines not available", file=sys.stderr)
        else:
            gen = LineGenerator(list(paragraphs))
            rng = random.Random(0)
            rows.append(("PIL text lines (normalised)", *_rate(lambda: (gen.sample(rng), 1)[1],
                                                                 args.seconds)))
    cfg = PdfGenConfig(pages=(1, 2))
    seed = [0]
    stats = {"page": 0, "line": 0, "normalised": 0}
    split_line = None
    if "pdf" in args.kinds:
        try:
            from .lines import split_line
        except ImportError:
            split_line = None

        def one_doc() -> int:
            doc = generate_pdf(paragraphs, seed=seed[0], cfg=cfg)
            seed[0] += 1
            samples = document_samples(doc)
            for s in samples:
                stats[s.kind] += 1
                if s.kind == "line" and split_line is not None:
                    stats["normalised"] += len(split_line(s.image))
            return len(doc.pages)

        rate, n, elapsed = _rate(one_doc, args.seconds)
        rows.append(("reportlab PDF pages (typeset+render+text layer)", rate, n, elapsed))
        rows.append(("PDF-derived line crops (same run)", stats["line"] / elapsed, stats["line"],
                     elapsed))
        if split_line is not None:
            rows.append(("PDF-derived 32x512 pieces (split_line, same run)",
                         stats["normalised"] / elapsed, stats["normalised"], elapsed))
    print(f"{'generator':<52} {'samples/s':>10} {'samples':>8} {'seconds':>8}")
    for name, rate, n, elapsed in rows:
        print(f"{name:<52} {rate:>10.1f} {n:>8d} {elapsed:>8.1f}")
    print("(one process; training needs ~20-40 lines/s per GPU, more with DataLoader workers)")
    return 0


def register_bench(bench_subparsers: argparse._SubParsersAction) -> None:
    """Add ``docencoder bench data``."""
    p = bench_subparsers.add_parser("data", help="samples/s of each training-data generator")
    p.add_argument("--seconds", type=float, default=10.0, help="time per generator (default 10)")
    p.add_argument("--kinds", default="lines,pdf",
                   help="comma list: lines (PIL line generator), pdf (reportlab pages + lines)")
    p.set_defaults(func=_bench_data)
