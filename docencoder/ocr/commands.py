"""``docencoder ocr``: batch OCR of PDFs and images into JSONL + markdown (see ``--help``)."""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
output, per document NAME (the input's file name without suffix; with -<8 hex> when OUT already
gives that name to another file or two new inputs share it; kept for the file in later runs):
  OUT/NAME.jsonl  one JSON object per page, in page order:
                  {"doc", "page", "text", "source": "ocr"|"text-layer",
                   "text_layer": "trusted"|"untrusted: <reason>"|"absent"|"not-checked",
                   "model", "dpi", "seconds"}
  OUT/NAME.md     the text as markdown, each page after a <!-- page N --> line
  OUT/errors.jsonl  one {"doc", "page" (or null), "kind", "error"} per failed document or page
A re-run skips pages already in OUT (an interrupted run loses nothing) and refuses to add pages
read with another model, dpi or --text-layer mode; --overwrite redoes the selected pages.
exit status: 0 all done, 1 some inputs failed (the rest were done), 2 usage error (also: OUT
unwritable, --pages past the end of every document, a resume that would mix settings),
3 internal error (e.g. the model does not load), 130 interrupted.
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``ocr`` subcommand."""
    p = subparsers.add_parser(
        "ocr", help="OCR PDFs and images into JSONL + markdown",
        description="OCR PDF files, images (PNG/JPEG/TIFF), directories (recursive) or globs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF/image files, directories or globs")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    p.add_argument("--pages", metavar="RANGES",
                   help="pages to read, e.g. 1-3,7 or 5- (default: all); pages past the end of a "
                        "document are reported")
    p.add_argument("--dpi", type=int, default=150, help="PDF rendering resolution (default 150)")
    p.add_argument("--text-layer", choices=("auto", "never", "only"), default="auto",
                   help="auto: use a PDF's own text where trustworthy, OCR the rest; never: always "
                        "OCR; only: never run the model (default auto)")
    p.add_argument("--model", metavar="DIR", default=None,
                   help="model directory (default: the model shipped in the package)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="line pieces (or pages, for page models) per decoding batch (default 64; "
                        "on CPU encoded in chunks of 16)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    p.add_argument("--workers", type=int, default=1,
                   help="processes to split documents over; each loads the model (default 1)")
    p.add_argument("--devices", type=int, default=None, metavar="N",
                   help="GPUs to split documents over: one worker process per device, worker i "
                        "on cuda:i (needs --device cuda or auto with CUDA present)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per process (default: cores / workers)")
    p.add_argument("--quantize", choices=("auto", "int8", "none"), default="auto",
                   help="int8: dynamic int8 quantisation of the model's Linear layers at load "
                        "time (faster on CPU); none: float32 as stored; auto: int8 on CPU, none "
                        "on CUDA (default auto)")
    p.add_argument("--overwrite", action="store_true",
                   help="redo the selected pages (with --pages) or whole documents already in "
                        "OUT instead of resuming them")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


def _usage(msg: str) -> int:
    print(f"docencoder ocr: error: {msg}", file=sys.stderr)
    return 2


#: exit status of an error that is no input's fault (the model does not load, a bug)
EXIT_INTERNAL = 3


def _device_name(device: str) -> str:
    """A well-formed ``--device`` (unresolved): start-up of ``--text-layer only`` stays free of
    torch (~10 s on a busy 2-core machine, against 0.8 s for the rest)."""
    head, _, index = device.partition(":")
    if device in ("cpu", "auto", "cuda") or (head == "cuda" and index.isdigit()):
        return device
    raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto")


def run(args: argparse.Namespace) -> int:
    """Run the job; the exit status follows the epilog."""
    from .api import OCR, UsageError
    from .pages import parse_pages
    from .reader import ModelLoadError, check_model_dir, resolve_device, resolve_quantize
    from .writers import OutputError

    if args.dpi < 1 or (args.batch_size is not None and args.batch_size < 1) or args.workers < 1:
        return _usage("--dpi, --batch-size and --workers must be positive")
    try:
        parse_pages(args.pages)
        if args.text_layer == "only":  # the model never runs: no need to import torch
            device = _device_name(args.device)
        else:
            device = resolve_device(args.device)
            resolve_quantize(args.quantize, device)
            check_model_dir(args.model)
    except (ValueError, ModelLoadError) as e:
        return _usage(str(e))
    if args.devices is not None:
        if args.devices < 1:
            return _usage("--devices must be positive")
        if not device.startswith("cuda"):
            return _usage(f"--devices {args.devices} splits work over GPUs, but the device is "
                          f"{device!r}; on CPU use --workers")
        args.workers = max(args.workers, args.devices)
    if args.threads is not None:
        if args.threads < 1:
            return _usage("--threads must be positive")
        import torch

        torch.set_num_threads(args.threads)
    ocr = OCR(model_dir=args.model, device=args.device, batch_size=args.batch_size, dpi=args.dpi,
              text_layer=args.text_layer, quantize=args.quantize)
    try:
        summary = ocr.ocr_files(args.inputs, args.out, pages=args.pages, overwrite=args.overwrite,
                                workers=args.workers, show_progress=not args.quiet,
                                threads=args.threads)
    except (UsageError, OutputError) as e:
        return _usage(str(e))
    except ModelLoadError as e:
        print(f"docencoder ocr: error: the model cannot be loaded: {e}", file=sys.stderr)
        return EXIT_INTERNAL
    except Exception:  # noqa: BLE001 - a bug: say so, with the traceback to report
        import traceback

        traceback.print_exc()
        print("docencoder ocr: internal error (a bug, not a problem of the inputs; the traceback "
              "above says where): pages written so far are complete", file=sys.stderr)
        return EXIT_INTERNAL
    if summary.exit_code == 2 and not summary.output_error:
        missing = "; ".join(f"{f.doc}: {f.error}" for f in summary.failures[:3])
        print(f"docencoder ocr: error: no page of --pages {args.pages} exists: {missing}",
              file=sys.stderr)
    if summary.output_error and args.quiet:
        print(f"docencoder ocr: error: {summary.output_error}", file=sys.stderr)
    if summary.internal_error and args.quiet:
        print(f"docencoder ocr: error: {summary.internal_error}", file=sys.stderr)
    return summary.exit_code
