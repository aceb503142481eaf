"""Running a batch job: documents in this process or split over worker processes, with progress.

With ``workers > 1`` every worker is a fresh (spawned, not forked: torch's thread pools do not
survive a fork) process that loads the model once and takes whole documents, so one document's
JSONL is only ever written by one process. Torch threads are shared out evenly (cores / workers);
with CUDA, worker ``i`` uses device ``cuda:(i % device_count)``. Workers report progress through a
queue that the parent drains into one tqdm bar.

A worker that dies (a crash in a C library, the kernel's OOM killer) breaks the whole process
pool, and with it every document in flight. So no more documents are handed out than there are
workers; after a break the pool is rebuilt, and each document that was in flight is retried
alone: one that kills its worker alone is reported (kind ``worker``), the others are done.

Two failures stop a run instead of failing one document, because every document would fail
alike: OUT cannot be written (:class:`~.writers.OutputError`, exit status 2) and the model does
not load (:class:`~.reader.ModelLoadError`, exit status 3).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

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


def _stop(summary: "OCRSummary", e: BaseException) -> bool:
    """Record a run-stopping error in ``summary``; False when ``e`` is not one."""
    from .reader import ModelLoadError
    from .writers import OutputError

    if isinstance(e, OutputError):
        summary.output_error = str(e)
    elif isinstance(e, ModelLoadError):
        summary.internal_error = f"the model cannot be loaded: {e}"
    else:
        return False
    return True


def run_job(ocr: "OCR", tasks: Sequence[tuple[Path, str]], out: Path, options: dict[str, Any],
            workers: int, show_progress: bool, summary: "OCRSummary", threads: int = 1) -> None:
    """Do every ``(path, output name)`` task, filling ``summary``; Ctrl-C stops cleanly."""
    import time

    progress = _Progress(show_progress)
    t0 = time.perf_counter()
    try:
        if workers <= 1 or len(tasks) <= 1:
            for path, name in tasks:
                try:
                    _add(summary, ocr.ocr_document(path, name, out, progress=progress, **options))
                except Exception as e:  # noqa: BLE001 - only the run-stopping kinds are caught
                    if not _stop(summary, e):
                        raise
                    break
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
    for message in (summary.output_error, summary.internal_error):
        if message and show_progress:
            print(f"docencoder ocr: stopped: {message}", file=sys.stderr)


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


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while worker processes are started: they inherit the disposition, so one
    pressed while they import torch prints no traceback from each of them (the parent's own
    handler is back as soon as they are started)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _run_parallel(ocr: "OCR", tasks: Sequence[tuple[Path, str]], out: Path,
                  options: dict[str, Any], workers: int, progress: _Progress,
                  summary: "OCRSummary", threads: int) -> None:
    from concurrent.futures.process import BrokenProcessPool

    from .api import PageFailure, describe
    from .writers import ErrorLog

    ctx = mp.get_context("spawn")
    events = ctx.Queue()  # handed to workers at spawn time, through the pool's initargs
    counter = ctx.Value("i", 0)

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                   initargs=(ocr.settings(), threads, events, counter))

    def drain() -> None:
        while True:
            try:
                event, n = events.get_nowait()
            except queue_mod.Empty:
                return
            progress(event, n)

    def fail(path: Path, error: str, kind: str) -> None:
        failure = PageFailure(str(path), None, error, kind)
        ErrorLog(out).add(failure.doc, None, failure.error, failure.kind)
        summary.failures.append(failure)
        summary.documents_failed += 1

    fresh = deque(tasks)
    suspects: deque = deque()  # in flight when a worker died: retried one at a time
    running: dict[Future, tuple[Path, str]] = {}
    solo = False  # the one task running is a suspect: nothing else may run beside it
    pool = new_pool()

    def submit(task: tuple[Path, str]) -> bool:
        """Hand a task to the pool; False when the pool broke meanwhile (the task is a suspect)."""
        try:
            with _sigint_ignored():
                running[pool.submit(_work, *task, out, options)] = task
        except BrokenProcessPool:
            suspects.appendleft(task)
            return False
        return True

    try:
        while fresh or suspects or running:
            broken = stop = False
            if not running and suspects:
                solo = True
                broken = not submit(suspects.popleft())
            elif not solo and not suspects:
                while fresh and len(running) < workers and not broken:
                    broken = not submit(fresh.popleft())
            finished: set = set()
            if running and not broken:
                finished, _ = wait(running, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
            drain()
            for fut in finished:
                path, name = task = running.pop(fut)
                try:
                    _add(summary, fut.result())
                except BrokenProcessPool:
                    broken = True
                    if solo:
                        fail(path, "the worker process died while reading this document (a "
                                   "crash in a library it uses, or out of memory); the other "
                                   "documents were done", "worker")
                    else:
                        suspects.append(task)
                except Exception as e:  # noqa: BLE001 - anything else fails its document only
                    if _stop(summary, e):
                        stop = True
                    else:
                        fail(path, f"worker failed: {describe(e)}", "worker")
            if finished:
                solo = False if not running else solo
            if stop:
                break
            if broken:
                for fut in list(running):  # the pool is gone: the rest of what ran is lost too
                    task = running.pop(fut)
                    if fut.done() and not fut.cancelled() and fut.exception() is None:
                        _add(summary, fut.result())
                    else:
                        suspects.append(task)
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
                solo = False
        drain()
    except KeyboardInterrupt:
        # Whatever a worker was writing is at worst a torn last line, repaired on the next start.
        _terminate(pool)
        drain()
        raise
    if summary.output_error or summary.internal_error:
        _terminate(pool)
    else:
        pool.shutdown(wait=True)


def _terminate(pool: ProcessPoolExecutor) -> None:
    for proc in list(getattr(pool, "_processes", {}).values()):
        proc.terminate()
    pool.shutdown(wait=False, cancel_futures=True)
