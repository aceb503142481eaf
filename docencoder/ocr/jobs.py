"""Running a batch job: documents in this process or in worker processes, reporting progress.

The runner knows nothing of the facade (:mod:`.api`): it is handed a :class:`DocumentReader`
(anything with ``ocr_document``) for work in this process, and a :class:`WorkerFactory` (a
module-level function and the settings it builds a reader from, both picklable) for work in
worker processes. So ``api`` imports ``jobs`` and never the other way round.

Every worker is a fresh (spawned, not forked: torch's thread pools do not survive a fork) process
that builds its reader once and takes whole documents, so one document's JSONL is only ever
written by one process. Workers report progress through a queue that the parent drains into the
caller's ``progress`` callback.

A worker that dies (a crash in a C library such as pdfium or torch, the kernel's OOM killer)
breaks the whole process pool, and with it every document in flight. So no more documents are
handed out than there are workers; after a break the pool is rebuilt, and each document that was
in flight is retried alone: one that kills its worker alone is reported (kind ``worker``), the
others are done. A batch of several documents is therefore read in worker processes even with
one worker (``OCR.ocr_files(isolate=True)``): in this process, one crashing document would end
the batch.

Two failures stop a run instead of failing one document, because every document would fail
alike: OUT cannot be written (:class:`~.results.OutputError`, exit status 2) and the model does
not load (:class:`~.reader.ModelLoadError`, exit status 3).
"""

from __future__ import annotations

import multiprocessing as mp
import queue as queue_mod
import signal
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Callable, Iterator, Optional, Protocol, Sequence

from .reader import ModelLoadError
from .results import PAGE_WRITTEN, DocSummary, OCRSummary, OutputError, PageFailure, Progress, describe
from .writers import ErrorLog

#: seconds between progress-queue polls while workers run
_POLL_SECONDS = 0.2
#: seconds to wait for a terminated worker to go
_TERMINATE_SECONDS = 5.0
#: errors.jsonl ``error`` of a document whose worker died while it ran alone
WORKER_DIED = ("the worker process died while reading this document (a crash in a library it "
               "uses, or out of memory); the other documents were done")


class DocumentReader(Protocol):
    """What reads one document into OUT: :meth:`~.api.OCR.ocr_document`."""

    def ocr_document(self, path: Path, name: str, out_dir: Path, *,
                     progress: Optional[Progress] = None, **options: Any) -> DocSummary: ...


@dataclass(frozen=True)
class WorkerFactory:
    """How a worker process builds its :class:`DocumentReader`.

    Picklable by construction: ``build`` must be a module-level function (pickled by name) and
    ``settings`` a plain dataclass; ``build(settings, index, threads)`` runs in worker ``index``
    (0, 1, ...), which may use ``threads`` threads.
    """

    build: Callable[[Any, int, int], DocumentReader]
    settings: Any
    threads: int = 1


def run_job(tasks: Sequence[tuple[Path, str]], out: Path, options: dict[str, Any],
            summary: OCRSummary, *, local: Optional[DocumentReader], factory: WorkerFactory,
            workers: int = 1, progress: Optional[Progress] = None) -> None:
    """Do every ``(path, output name)`` task, filling ``summary``; Ctrl-C stops cleanly.

    Args:
        options: keyword arguments of ``ocr_document`` (pages, dpi, text_layer, overwrite).
        local: reads the documents in this process; None: in ``workers`` worker processes
            built by ``factory``, so that a native crash fails its document alone (the caller
            decides: :meth:`~.api.OCR.ocr_files` reads a batch of several documents so even
            with one worker).
        factory: builds the readers of worker processes.
        workers: worker processes (without ``local``).
        progress: receives the events of :mod:`.results` (``total``, ``page``, ``failed``).

    A Ctrl-C sets ``summary.interrupted`` (the pages written so far are counted and complete)
    instead of propagating; the other run-stopping errors set ``output_error`` or
    ``internal_error``. Nothing is printed.
    """
    written = [0]

    def report(event: str, n: int) -> None:
        if event == PAGE_WRITTEN:
            written[0] += n
        if progress is not None:
            progress(event, n)

    t0 = time.perf_counter()
    try:
        if local is not None:
            for path, name in tasks:
                try:
                    summary.add(local.ocr_document(path, name, out, progress=report, **options))
                except (OutputError, ModelLoadError) as e:
                    _stop(summary, e)
                    break
        else:
            _run_in_workers(factory, tasks, out, options, max(1, workers), report, summary)
    except KeyboardInterrupt:
        summary.interrupted = True
        summary.pages = max(summary.pages, written[0])
    finally:
        summary.seconds = time.perf_counter() - t0


def _stop(summary: OCRSummary, e: BaseException) -> bool:
    """Record a run-stopping error in ``summary``; False when ``e`` is not one."""
    if isinstance(e, OutputError):
        summary.output_error = str(e)
    elif isinstance(e, ModelLoadError):
        summary.internal_error = f"the model cannot be loaded: {e}"
    else:
        return False
    return True


# ------------------------------------------------------------------------------------------------
# Worker processes
# ------------------------------------------------------------------------------------------------

#: the state of a worker process, set by :func:`_init_worker`
_WORKER: dict[str, Any] = {}


def _init_worker(factory: WorkerFactory, events: Any, counter: Any) -> None:
    # Ctrl-C reaches the whole process group; the parent alone decides to stop (and terminates
    # the workers), otherwise each worker would swallow the interrupt and take the next document.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with counter.get_lock():
        index = counter.value
        counter.value += 1
    _WORKER["reader"] = factory.build(factory.settings, index, factory.threads)
    _WORKER["events"] = events


def _report_to_parent(event: str, n: int) -> None:
    _WORKER["events"].put((event, n))


def _work(path: Path, name: str, out: Path, options: dict[str, Any]) -> DocSummary:
    return _WORKER["reader"].ocr_document(path, name, out, progress=_report_to_parent, **options)


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ignore Ctrl-C while worker processes are started: they inherit the disposition, so one
    pressed while they import torch prints no traceback from each of them (the parent's own
    handler is back as soon as they are started)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


class _WorkerPool:
    """A process pool that knows its worker processes, to terminate them on Ctrl-C.

    ``ProcessPoolExecutor`` keeps its processes in a private attribute; instead, the processes
    are found with the public :func:`multiprocessing.active_children`: a spawning executor starts
    its workers inside ``submit`` (in the calling thread), so the children that appear across a
    ``submit`` are this pool's.
    """

    def __init__(self, workers: int, ctx: Any, factory: WorkerFactory, events: Any,
                 counter: Any) -> None:
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                                            initializer=_init_worker,
                                            initargs=(factory, events, counter))
        self.processes: dict[int, BaseProcess] = {}

    def submit(self, *args: Any) -> Future:
        """``_work(*args)`` in a worker; raises BrokenProcessPool once a worker has died."""
        before = {p.pid for p in mp.active_children()}
        with _sigint_ignored():
            future = self.executor.submit(_work, *args)
        for p in mp.active_children():
            if p.pid not in before and p.pid is not None:
                self.processes[p.pid] = p
        return future

    def shutdown(self) -> None:
        self.executor.shutdown(wait=True)

    def discard(self) -> None:
        """After a break: the executor is unusable, its surviving workers end by themselves."""
        self.executor.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop now: whatever a worker was writing is at worst a torn last line, repaired on
        the next start (:func:`~.writers.load_done`)."""
        alive = [p for p in self.processes.values() if p.is_alive()]
        for p in alive:
            p.terminate()
        for p in alive:
            p.join(_TERMINATE_SECONDS)
        self.executor.shutdown(wait=False, cancel_futures=True)


def _run_in_workers(factory: WorkerFactory, tasks: Sequence[tuple[Path, str]], out: Path,
                    options: dict[str, Any], workers: int, report: Progress,
                    summary: OCRSummary) -> None:
    ctx = mp.get_context("spawn")
    events = ctx.Queue()  # handed to workers at spawn time, through the pool's initargs
    counter = ctx.Value("i", 0)

    def drain() -> None:
        while True:
            try:
                event, n = events.get_nowait()
            except queue_mod.Empty:
                return
            report(event, n)

    def fail(path: Path, error: str, kind: str) -> None:
        failure = PageFailure(str(path), None, error, kind)
        ErrorLog(out).add(failure.doc, None, failure.error, failure.kind)
        summary.failures.append(failure)
        summary.documents_failed += 1

    fresh = deque(tasks)
    suspects: deque = deque()  # in flight when a worker died: retried one at a time
    running: dict[Future, tuple[Path, str]] = {}
    solo = False  # the one task running is a suspect: nothing else may run beside it
    pool = _WorkerPool(workers, ctx, factory, events, counter)

    def submit(task: tuple[Path, str]) -> bool:
        """Hand a task to the pool; False when the pool broke meanwhile (the task is a suspect)."""
        try:
            running[pool.submit(*task, out, options)] = task
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
                    summary.add(fut.result())
                except BrokenProcessPool:
                    broken = True
                    if solo:
                        fail(path, WORKER_DIED, "worker")
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
                        summary.add(fut.result())
                    else:
                        suspects.append(task)
                pool.discard()
                pool = _WorkerPool(workers, ctx, factory, events, counter)
                solo = False
        drain()
    except KeyboardInterrupt:
        pool.terminate()
        drain()
        raise
    if summary.output_error or summary.internal_error:
        pool.terminate()
    else:
        pool.shutdown()
