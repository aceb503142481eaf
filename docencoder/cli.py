"""The ``docencoder`` command: a thin layer over the Python API.

Subcommands come from each layer's ``commands.py`` (``register(subparsers)``, and
``register_bench(bench_subparsers)`` for ``docencoder bench ...``); the Lightning subcommands
``fit/validate/test/predict`` are handed to LightningCLI untouched.
"""

from __future__ import annotations

import _thread
import argparse
import importlib
import importlib.util
import os
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Sequence

#: layers that contribute subcommands, imported lazily so ``docencoder ocr`` never imports Lightning
_COMMAND_MODULES = ("docencoder.ocr.commands", "docencoder.eval.commands",
                    "docencoder.data.commands", "docencoder.training.commands",
                    "docencoder.model.commands")
_LIGHTNING = ("fit", "validate", "test", "predict")
#: subcommands whose parsing needs no bench subcommand registered
_NO_BENCH_COMMANDS = ("ocr", "eval")


def _load(module: str):
    """The layer's ``commands`` module, None for a layer without one. Looked for as a file
    first: importing ``docencoder.model.commands`` to find it missing would import the
    ``docencoder.model`` package, and with it torch, for every command."""
    package, _, name = module.rpartition(".")
    spec = importlib.util.find_spec(package)
    places = (spec.submodule_search_locations or []) if spec is not None else []
    if not any((Path(place) / f"{name}.py").is_file() for place in places):
        return None
    return importlib.import_module(module)


def build_parser(benches: bool = True) -> argparse.ArgumentParser:
    """The whole command line; ``benches=False`` leaves the ``bench`` subcommands out, because
    registering them imports the benchmarks (and through them torch: ~5-10 s that
    ``docencoder ocr --text-layer only`` has no use for)."""
    parser = argparse.ArgumentParser(prog="docencoder", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in _LIGHTNING:
        sub.add_parser(name, help=f"Lightning {name} (see `docencoder {name} --help`)", add_help=False)
    bench = sub.add_parser("bench", help="benchmarks that print figures")
    bench_sub = bench.add_subparsers(dest="bench", metavar="WHAT", required=True)
    for module in _COMMAND_MODULES:
        mod = _load(module)
        if mod is None:
            continue
        if hasattr(mod, "register"):
            mod.register(sub)
        if benches and hasattr(mod, "register_bench"):
            mod.register_bench(bench_sub)
    return parser


#: exit status after Ctrl-C (128 + SIGINT), as shells report it
EXIT_INTERRUPTED = 130


@contextmanager
def _interrupts_not_swallowed() -> Iterator[None]:
    """Redeliver a Ctrl-C that a finalizer swallowed.

    Python raises KeyboardInterrupt wherever the main thread is when the signal is handled; when
    that is a ``__del__`` (regex's Scanner during the transformers import does it, 1 run in ~40
    with SIGINT 1.7 s into `docencoder ocr`), the exception is only reported to
    ``sys.unraisablehook`` and dropped, and the run went on to the end as if no key was pressed.
    The hook raises it again in the main thread from a timer thread a moment later: raised from
    the hook itself, it would land in the hook and be dropped the same way."""
    previous = sys.unraisablehook

    def hook(unraisable) -> None:
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            threading.Timer(0.05, _thread.interrupt_main).start()
            return
        previous(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run one subcommand; Ctrl-C at any moment (importing torch, loading the model) ends with a
    one-line message and exit status 130, not a traceback."""
    with _interrupts_not_swallowed():
        return _main(argv)


def _main(argv: Optional[Sequence[str]]) -> int:
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        if argv and argv[0] in _LIGHTNING:
            from docencoder.training.cli import run_lightning_cli
            run_lightning_cli(argv)
            return 0
        parser = build_parser(benches=not argv or argv[0] not in _NO_BENCH_COMMANDS)
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help()
            return 2
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("\ndocencoder: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def entry() -> None:
    """The program (console script and ``python -m docencoder.cli``): :func:`main`'s status as
    the exit status. After Ctrl-C the process leaves at once, without interpreter finalization,
    for two reasons: an interrupt that lands inside torch's import leaves its C++ state half
    built, and its static destructors then abort the process (SIGABRT, 1 run in 40 with SIGINT
    1.8 s into `docencoder ocr`); and CPython marks a KeyboardInterrupt that escaped any string
    `exec` (dataclasses and typing build methods so during imports) as unhandled even after it
    was caught, so that finalization under `python -m` ends by killing the process with SIGINT
    (status -2) instead of returning 130. Every page written is complete by then (the writers'
    own guarantee) and the workers are terminated; only the standard streams need flushing."""
    rc = main()
    if rc == EXIT_INTERRUPTED:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(rc)
    sys.exit(rc)


if __name__ == "__main__":
    entry()
