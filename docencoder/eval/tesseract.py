"""Tesseract 5 as the baseline OCR system, run the way the benchmark documents it.

The settings are fixed for a fair comparison (see ``docencoder bench ocr``): the same rendered page
images as docencoder gets, their DPI passed explicitly (``--dpi``), automatic page segmentation
(``--psm 3``, Tesseract's default for whole pages), English (``-l eng``), the LSTM engine that
Debian's ``tesseract-ocr-eng`` ships, and ``OMP_THREAD_LIMIT=1`` with one process per core — the
configuration Tesseract's own documentation recommends for throughput on many pages.

Each page runs in its own process, so its peak memory is its own (see :func:`vm_hwm_kb`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Union

PathLike = Union[str, Path]


@dataclass(frozen=True)
class TesseractConfig:
    """How Tesseract is invoked."""

    lang: str = "eng"
    psm: int = 3  # fully automatic page segmentation, no OSD
    dpi: int = 150  # must match the images' resolution
    threads_per_page: int = 1  # OMP_THREAD_LIMIT: parallelism comes from pages, not threads
    workers: int = 2  # pages processed at once (one per core here)
    timeout_s: float = 300.0
    binary: str = "tesseract"

    def command(self, image: PathLike) -> list[str]:
        """The command line for one image, text to stdout."""
        return [self.binary, str(image), "stdout", "-l", self.lang, "--psm", str(self.psm),
                "--dpi", str(self.dpi)]


@dataclass
class TesseractPage:
    """Tesseract's output for one image."""

    image: str
    text: str
    seconds: float  # wall time of the process
    max_rss_kb: int  # peak resident memory of the process
    error: Optional[str] = None


def tesseract_version(binary: str = "tesseract") -> Optional[str]:
    """``"tesseract 5.x.y"``, or None if Tesseract is not installed."""
    if shutil.which(binary) is None:
        return None
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else None


def run_page(image: PathLike, cfg: TesseractConfig = TesseractConfig()) -> TesseractPage:
    """OCR one image file with Tesseract; failures are reported in ``error``, never raised."""
    env = dict(os.environ, OMP_THREAD_LIMIT=str(cfg.threads_per_page))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(cfg.command(image), stdout=out, stderr=err, env=env)
        except OSError as e:
            return TesseractPage(str(image), "", 0.0, 0, error=f"cannot run tesseract: {e}")
        status, peak_kb = wait_with_rusage(proc, cfg.timeout_s)
        seconds = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
        err.seek(0)
        message = err.read().decode("utf-8", errors="replace").strip()
    error = None
    if status is None:
        error = f"timed out after {cfg.timeout_s:.0f} s"
    elif status != 0:
        error = f"exit {status}: {message[-300:]}"
    return TesseractPage(str(image), text if error is None else "", seconds,
                         peak_kb, error)


def vm_hwm_kb(pid: int | str = "self") -> Optional[int]:
    """Peak resident memory (``VmHWM``) of a live process, in kB; None if it cannot be read.

    Why not ``ru_maxrss``: Linux carries a process's RSS from before ``exec`` into its
    ``ru_maxrss``, so a child forked from a large Python process (torch imported) reports the
    parent's size. ``VmHWM`` belongs to the memory map created by ``exec``, i.e. to the program.
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


#: how often a running child's peak memory is sampled
_POLL_S = 0.01


def wait_with_rusage(proc: subprocess.Popen, timeout_s: float) -> tuple[Optional[int], int]:
    """Wait for ``proc``; return (exit code, or None on timeout; its peak RSS in kB).

    The peak is ``VmHWM`` sampled while the child runs (it only grows, so the last sample before
    exit is the peak up to the last few milliseconds); ``ru_maxrss`` of ``wait4`` (exact for this
    child, but inflated by the parent's size, see :func:`vm_hwm_kb`) is the fallback when no
    sample was taken.
    """
    deadline = time.monotonic() + timeout_s
    peak = 0
    while True:
        hwm = vm_hwm_kb(proc.pid)
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)  # tell Popen it is reaped
            return proc.returncode, peak or int(rusage.ru_maxrss)
        if hwm:
            peak = max(peak, hwm)
        if time.monotonic() > deadline:
            proc.kill()
            _, status, rusage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            return None, peak or int(rusage.ru_maxrss)
        time.sleep(_POLL_S)


def run_pages(images: Sequence[PathLike],
              cfg: TesseractConfig = TesseractConfig()) -> tuple[list[TesseractPage], float]:
    """OCR many images, ``cfg.workers`` processes at a time.

    Returns:
        (results in input order, total wall time in seconds).
    """
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, cfg.workers)) as pool:
        results = list(pool.map(lambda im: run_page(im, cfg), images))
    return results, time.perf_counter() - start
