"""``docencoder ocr``: batch OCR of PDFs and images into JSONL + markdown (see ``--help``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
    """Add the ``ocr`` subcommand: the API's parameters come from :data:`~.api.CLI_OPTIONS`
    (help), the signatures of ``OCR`` and ``OCR.ocr_files`` (defaults) and
    :data:`~.api.OPTION_CHOICES`; the API checks the values."""
    from .api import CLI_OPTIONS, OPTION_CHOICES, option_default

    p = subparsers.add_parser(
        "ocr", help="OCR PDFs and images into JSONL + markdown",
        description="OCR PDF files, images (PNG/JPEG/TIFF), directories (recursive) or globs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="PDF/image files, directories or globs")
    p.add_argument("-o", "--out", required=True, metavar="OUT", help="output directory")
    for option in CLI_OPTIONS:
        default = option_default(option.param)
        if isinstance(default, bool):
            p.add_argument(option.flag, dest=option.param, action="store_true", help=option.help)
            continue
        shown = "" if default is None else f" (default {default})"
        p.add_argument(option.flag, dest=option.param, default=default,
                       type=option.type or (str if default is None else type(default)),
                       choices=OPTION_CHOICES.get(option.param), metavar=option.metavar,
                       help=option.help + shown)
        if option.param == "workers":  # a CLI spelling of --workers, right after it
            p.add_argument("--devices", type=int, default=None, metavar="N",
                           help="GPUs to split documents over: one worker process per device, "
                                "worker i on cuda:i (needs --device cuda or auto with CUDA "
                                "present)")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.set_defaults(func=run)


#: exit status of a usage error (also: OUT unwritable)
EXIT_USAGE = 2
#: exit status of an error that is no input's fault (the model does not load, a bug)
EXIT_INTERNAL = 3


def _say(msg: str) -> None:
    print(f"docencoder ocr: {msg}", file=sys.stderr)


def _usage(msg: str) -> int:
    _say(f"error: {msg}")
    return EXIT_USAGE


class _Bar:
    """The progress bar over pages: a tqdm bar whose total grows as documents are opened, fed
    by the API's progress events (:mod:`.results`)."""

    def __init__(self) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=0, unit="page", file=sys.stderr, dynamic_ncols=True, desc="ocr",
                        smoothing=0.1)

    def __call__(self, event: str, n: int) -> None:
        from .results import TOTAL

        if event == TOTAL:
            self.bar.total += n
            self.bar.refresh()
        else:
            self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def _workers_for_devices(devices: int, device: str, workers: int) -> int:
    """``--devices N``: at least N workers, on a CUDA device (ValueError otherwise)."""
    from .reader import resolve_device

    if devices < 1:
        raise ValueError("--devices must be positive")
    resolved = resolve_device(device)
    if not resolved.startswith("cuda"):
        raise ValueError(f"--devices {devices} splits work over GPUs, but the device is "
                         f"{resolved!r}; on CPU use --workers")
    return max(workers, devices)


def run(args: argparse.Namespace) -> int:
    """Run the job; the exit status follows the epilog."""
    from .api import OCR
    from .reader import ModelLoadError
    from .results import OutputError, UsageError
    from .writers import ERRORS_NAME

    workers = args.workers
    try:
        if args.devices is not None:
            workers = _workers_for_devices(args.devices, args.device, workers)
        ocr = OCR(model_dir=args.model_dir, device=args.device, batch_size=args.batch_size,
                  dpi=args.dpi, text_layer=args.text_layer, quantize=args.quantize,
                  decoding=args.decoding)
    except ValueError as e:
        return _usage(str(e))
    bar = None if args.quiet else _Bar()
    try:
        summary = ocr.ocr_files(args.inputs, args.out, pages=args.pages, overwrite=args.overwrite,
                                workers=workers, threads=args.threads, progress=bar)
    except (UsageError, OutputError) as e:
        return _usage(str(e))
    except ModelLoadError as e:
        _say(f"error: the model cannot be loaded: {e}")
        return EXIT_INTERNAL
    except Exception:  # noqa: BLE001 - a bug: say so, with the traceback to report
        import traceback

        traceback.print_exc()
        _say("internal error (a bug, not a problem of the inputs; the traceback above says "
             "where): pages written so far are complete")
        return EXIT_INTERNAL
    finally:
        if bar is not None:
            bar.close()
    if summary.interrupted:
        print("\ndocencoder ocr: interrupted; every written page is complete - run the same "
              "command again to resume", file=sys.stderr)
    for message in (summary.output_error, summary.internal_error):
        if message:
            _say(f"stopped: {message}" if bar is not None else f"error: {message}")
    if bar is not None:
        _say(summary.line())
        if summary.failures:
            _say(f"failures are listed in {Path(args.out) / ERRORS_NAME}")
    if summary.exit_code == EXIT_USAGE and not summary.output_error:
        missing = "; ".join(f"{f.doc}: {f.error}" for f in summary.failures[:3])
        _say(f"error: no page of --pages {args.pages} exists: {missing}")
    return summary.exit_code
