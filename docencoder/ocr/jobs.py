"""Running a batch job: documents in this process or split over worker processes, with progress.

With ``workers > 1`` every worker is a fresh (spawned, not forked: torch's thread pools do not
survive a fork) process that loads the model once and takes whole documents, so one document's
JSONL is only ever written by one process. Torch threads are shared out evenly (cores / workers);
with CUDA, worker ``i`` uses device ``cuda:(i % device_count)``. Workers report progress through a
queue that the parent drains into one tqdm bar.
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .api import OCR, DocSummary, OCRSummary

#: seconds between progress-queue polls while workers run
_POLL_SECONDS = 0.2


class _Progress:
    """A tqdm bar over pages whose total grows as documents are opened."""

    def __init__(self, enabled: bool) -> None:
        self.bar = None
        self.written = 0  # pages written so far (what an interrupted run reports)
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=0, unit="page", file=sys.stderr, dynamic_ncols=True,
                            desc="ocr", smoothing=0.1)

    def __call__(self, event: str, n: int) -> None:
        if event == "page":
            self.written += n
        if self.bar is None:
            return
        if event == "total":
            self.bar.total += n
            self.bar.refresh()
        else:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _add(summary: "OCRSummary", doc: "DocSummary") -> None:
    summary.pages += doc.pages_done
    summary.pages_skipped += doc.pages_skipped
    summary.failures.extend(doc.failures)
    if doc.failures:
        summary.documents_failed += 1


def run_job(ocr: "OCR", tasks: Sequence[tuple[Path, str]], out: Path, options: dict[str, Any],
            workers: int, show_progress: bool, summary: "OCRSummary", threads: int = 1) -> None:
    """Do every ``(path, output name)`` task, filling ``summary``; Ctrl-C stops cleanly."""
    import time

    progress = _Progress(show_progress)
    t0 = time.perf_counter()
    try:
        if workers <= 1 or len(tasks) <= 1:
            for path, name in tasks:
                _add(summary, ocr.ocr_document(path, name, out, progress=progress, **options))
        else:
            _run_parallel(ocr, tasks, out, options, workers, progress, summary, threads)
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.pages = max(summary.pages, progress.written)
        print("\ndocencoder ocr: interrupted; every written page is complete - run the same "
              "command again to resume", file=sys.stderr)
    finally:
        progress.close()
        summary.seconds = time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------
# Worker processes
# ------------------------------------------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _init_worker(settings: dict[str, Any], threads: int, events: Any, counter: Any) -> None:
    import signal

    import torch

    from .api import OCR

    # Ctrl-C reaches the whole process group; the parent alone decides to stop (and terminates
    # the workers), otherwise each worker would swallow the interrupt and take the next document.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    torch.set_num_threads(threads)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    if str(settings.get("device", "cpu")).startswith("cuda") and torch.cuda.device_count() > 1:
        settings = dict(settings, device=f"cuda:{index % torch.cuda.device_count()}")
    _WORKER["ocr"] = OCR(**settings)
    _WORKER["events"] = events


def _work(path: Path, name: str, out: Path, options: dict[str, Any]) -> "DocSummary":
    events = _WORKER["events"]
    return _WORKER["ocr"].ocr_document(path, name, out, progress=lambda e, n: events.put((e, n)),
                                       **options)


def _run_parallel(ocr: "OCR", tasks: Sequence[tuple[Path, str]], out: Path,
                  options: dict[str, Any], workers: int, progress: _Progress,
                  summary: "OCRSummary", threads: int) -> None:
    from .api import PageFailure

    ctx = mp.get_context("spawn")
    events = ctx.Queue()  # handed to workers at spawn time, through the pool's initargs
    counter = ctx.Value("i", 0)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                               initargs=(ocr.settings(), threads, events, counter))

    def drain() -> None:
        while True:
            try:
                event, n = events.get_nowait()
            except queue_mod.Empty:
                return
            progress(event, n)

    futures = {pool.submit(_work, path, name, out, options): str(path) for path, name in tasks}
    try:
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            drain()
            for fut in finished:
                try:
                    _add(summary, fut.result())
                except Exception as e:  # noqa: BLE001 - a dead worker fails its document only
                    from .writers import ErrorLog

                    failure = PageFailure(futures[fut], None, f"worker failed: {type(e).__name__}: {e}")
                    ErrorLog(out).add(failure.doc, None, failure.error)
                    summary.failures.append(failure)
                    summary.documents_failed += 1
        drain()
    except KeyboardInterrupt:
        # Whatever a worker was writing is at worst a torn last line, repaired on the next start.
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        drain()
        raise
    pool.shutdown(wait=True)
