"""Crash-safe output: per-document JSONL of pages, the markdown view, and the error log.

The JSONL is the record of truth and the unit of resumption. Each page is appended as one complete
line with a single ``write`` followed by ``fsync``, so after Ctrl-C or ``kill -9`` the file holds
whole pages plus at most one torn line at the end. :func:`load_done` repairs that on the next start
(drops the torn tail, duplicates and unparsable lines) and returns the pages already done, which a
re-run skips. The markdown is derived from the JSONL when a document completes and is written to a
temporary file then renamed, so it is never half-written either.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Optional

ERRORS_NAME = "errors.jsonl"
#: keys of a page record, in the order they are written (the stable schema)
PAGE_KEYS = ("doc", "page", "text", "source", "model", "dpi", "seconds")


@dataclass
class PageResult:
    """One page of output; ``to_json`` gives the JSONL record (see the OCR README section)."""

    doc: str  # the input path as given
    page: int  # 1-based page number
    text: str
    source: str  # "ocr" or "text-layer"
    model: str  # model id (dir name + weights hash), or "text-layer"
    dpi: int  # resolution the page was read at; 0 when no pixels were read
    seconds: float  # wall time spent on this page

    def to_json(self) -> str:
        d = asdict(self)
        d["seconds"] = round(float(d["seconds"]), 4)
        return json.dumps({k: d[k] for k in PAGE_KEYS}, ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PageResult":
        return cls(**{k: d[k] for k in PAGE_KEYS})


def _append_line(path: Path, line: str) -> None:
    """Append one complete line durably: a single O_APPEND write, then fsync."""
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_done(path: Path) -> dict[int, PageResult]:
    """Pages already in a JSONL, repairing the file in place when a run was interrupted.

    A torn last line (no newline: the process died mid-write), lines that do not parse as a page
    record, and repeated pages are dropped; the file is rewritten only when something was dropped.
    """
    if not path.exists():
        return {}
    raw = path.read_bytes()
    complete = raw[:raw.rfind(b"\n") + 1]  # b"" when there is no newline at all
    done: dict[int, PageResult] = {}
    kept: list[str] = []
    for line in complete.decode("utf-8", errors="replace").splitlines():
        try:
            rec = PageResult.from_dict(json.loads(line))
        except (ValueError, KeyError, TypeError):
            continue
        if rec.page in done:
            continue
        done[rec.page] = rec
        kept.append(line)
    if len(kept) != complete.count(b"\n") or len(complete) != len(raw):
        _atomic_write(path, "".join(l + "\n" for l in kept))
    return done


def markdown(pages: Iterable[PageResult]) -> str:
    """The document as markdown: each page's text after a ``<!-- page N -->`` marker line."""
    parts = [f"<!-- page {p.page} -->\n\n{p.text.strip()}\n" for p in pages]
    return "\n".join(parts)


class DocumentWriter:
    """Writes one document's ``<name>.jsonl`` (append, resumable) and ``<name>.md`` (at the end)."""

    def __init__(self, out_dir: Path, name: str, overwrite: bool = False) -> None:
        self.jsonl = out_dir / f"{name}.jsonl"
        self.md = out_dir / f"{name}.md"
        if overwrite:
            for p in (self.jsonl, self.md):
                p.unlink(missing_ok=True)
        self.done = load_done(self.jsonl)

    def write(self, page: PageResult) -> None:
        _append_line(self.jsonl, page.to_json())
        self.done[page.page] = page

    def finish(self) -> None:
        """Sort the JSONL by page (a run with other --pages may have appended out of order) and
        (re)write the markdown from it."""
        pages = [self.done[p] for p in sorted(self.done)]
        if not pages:
            return
        text = "".join(p.to_json() + "\n" for p in pages)
        current = self.jsonl.read_text(encoding="utf-8") if self.jsonl.exists() else ""
        if current != text:
            _atomic_write(self.jsonl, text)
        _atomic_write(self.md, markdown(pages))


class ErrorLog:
    """``errors.jsonl``: one ``{"doc", "page", "error"}`` line per failed document or page.

    Appends are single small writes with O_APPEND, so worker processes can share the file.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / ERRORS_NAME

    def reset(self) -> None:
        """Start a run's log afresh: failures of earlier runs are retried, so they are stale."""
        self.path.unlink(missing_ok=True)

    def add(self, doc: str, page: Optional[int], error: str) -> None:
        _append_line(self.path, json.dumps({"doc": doc, "page": page, "error": error},
                                           ensure_ascii=False))
