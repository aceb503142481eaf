"""Crash-safe output: per-document JSONL of pages, the markdown view, the error log, the name index.

The JSONL is the record of truth and the unit of resumption. Each page is appended as one complete
line with a single ``write`` followed by ``fsync``, so after Ctrl-C or ``kill -9`` the file holds
whole pages plus at most one torn line at the end. :func:`load_done` repairs that on the next start
(drops the torn tail, duplicates and unparsable lines) and returns the pages already done, which a
re-run skips. A page is appended with the structure of its own page (``blocks``, ``markdown``);
when the document completes, the records get the document pass (running headers and footers
found across pages: :func:`.structured.finish_document`), the JSONL is rewritten with them and
the markdown is derived from it, each through a temporary file then renamed, so neither is ever
half-written.

A write that fails (disk full, read-only or vanished OUT) raises :class:`OutputError` after
undoing itself: an append is truncated back to where it started and a temporary file is removed,
so what a failed run leaves behind is exactly what it had completed.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
from pathlib import Path
from typing import Iterable, Optional, Sequence

from docencoder.structure import render_document

from .results import OutputError, PageResult
from .structured import finish_document

ERRORS_NAME = "errors.jsonl"
#: which output name belongs to which input file (see :class:`NameIndex`); no .jsonl/.txt suffix,
#: so that ``docencoder eval OUT`` does not take it for page texts
NAMES_INDEX = ".docencoder-names"
#: keys of an errors.jsonl row
ERROR_KEYS = ("doc", "page", "kind", "error")

#: what an errno means for the person who runs the job
_HINTS = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
          errno.EROFS: "the file system is read-only", errno.EACCES: "permission denied",
          errno.EPERM: "permission denied"}


def output_error(path: Path, e: OSError, running: bool = True) -> OutputError:
    """An :class:`OutputError` naming the file, the cause and what to do (``running``: pages
    may have been written before it)."""
    cause = _HINTS.get(e.errno or -1, e.strerror or str(e))
    todo = ("pages written so far are complete: make room or fix OUT, then run the same command "
            "again to resume" if running else "choose another -o or fix its permissions")
    return OutputError(f"cannot write {path}: {cause} ({type(e).__name__}, errno {e.errno}); "
                       f"{todo}")


def _append_line(path: Path, line: str) -> None:
    """Append one complete line durably: O_APPEND writes, then fsync; undone if it fails.

    A short write (the disk filled up mid-line) or an error truncates the file back to its length
    before the call, so the file never keeps a partial line of ours.
    """
    data = (line.rstrip("\n") + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise output_error(path, e) from e
    try:
        start = os.fstat(fd).st_size
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                if n <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                view = view[n:]
            os.fsync(fd)
        except OSError as e:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass  # nothing more can be done; load_done drops a torn tail on the next start
            raise output_error(path, e) from e
    finally:
        os.close(fd)


def _atomic_write(path: Path, text: str) -> None:
    """Write a whole file through a temporary one and a rename; no temporary is left on failure."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise output_error(path, e) from e


def glob_escape(name: str) -> str:
    """``name`` as a glob pattern that matches only itself (file names may hold ``[*?``)."""
    import glob

    return glob.escape(name)


def _unlink(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        raise output_error(path, e) from e


def probe_writable(out_dir: Path) -> None:
    """Create OUT if needed and check that a file can be written in it, before any work.

    Raises:
        OutputError: OUT cannot be created, is not a directory, or is not writable.
    """
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except FileExistsError as e:
        raise OutputError(f"cannot write to {out_dir}: it exists and is not a directory") from e
    except OSError as e:
        raise output_error(out_dir, e, running=False) from e
    for stale in out_dir.glob(".docencoder-probe*"):  # left by a run killed right here
        try:
            stale.unlink()
        except OSError:
            pass
    probe = out_dir / f".docencoder-probe{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        try:
            probe.unlink(missing_ok=True)
        except OSError:
            pass
        raise output_error(out_dir, e, running=False) from e


def load_done(path: Path) -> dict[int, PageResult]:
    """Pages already in a JSONL, repairing the file in place when a run was interrupted.

    A torn last line (no newline: the process died mid-write), lines that do not parse as a page
    record, and repeated pages are dropped; the file is rewritten only when something was dropped.
    """
    if not path.exists():
        return {}
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise OutputError(f"cannot read {path}: {e.strerror or e}") from e
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
        _atomic_write(path, "".join(line + "\n" for line in kept))
    return done


def markdown(pages: Iterable[PageResult]) -> str:
    """The document as markdown (:func:`docencoder.structure.render_document`): each page's
    blocks after a ``<!-- page N -->`` marker line, paragraphs joined across column and page
    breaks, running headers, footers and page numbers left out. ``pages`` in page order get the
    document pass first (:func:`.structured.finish_document`: their roles and ``markdown``)."""
    pages = list(pages)
    if not pages:
        return ""
    finish_document(pages)
    return render_document([(p.page, p.blocks or []) for p in pages])


class DocumentWriter:
    """Writes one document's ``<name>.jsonl`` (append, resumable) and ``<name>.md`` (at the end)."""

    def __init__(self, out_dir: Path, name: str, overwrite: bool = False) -> None:
        self.jsonl = out_dir / f"{name}.jsonl"
        self.md = out_dir / f"{name}.md"
        for path in (self.jsonl, self.md):  # temporaries of a run killed in _atomic_write
            for tmp in out_dir.glob(f".{glob_escape(path.name)}.tmp*"):
                _unlink(tmp)
        if overwrite:
            self.reset()
        self.done = load_done(self.jsonl)

    def reset(self) -> None:
        """Forget every page (``--overwrite`` of a whole document)."""
        for p in (self.jsonl, self.md):
            _unlink(p)
        self.done = {}

    def drop(self, pages: Iterable[int]) -> None:
        """Forget some pages (``--overwrite --pages``), atomically, before they are redone.

        Rewriting the JSONL without them before the first new page is appended means a run
        killed half-way leaves each page either old-and-kept or not yet redone, never twice.
        """
        gone = [p for p in pages if p in self.done]
        if not gone:
            return
        for p in gone:
            del self.done[p]
        kept = [self.done[p] for p in sorted(self.done)]
        if kept:
            _atomic_write(self.jsonl, "".join(p.to_json() + "\n" for p in kept))
        else:
            _unlink(self.jsonl)
        _unlink(self.md)  # rewritten by finish(); stale until then

    def write(self, page: PageResult) -> None:
        _append_line(self.jsonl, page.to_json())
        self.done[page.page] = page

    def finish(self) -> None:
        """Sort the JSONL by page (a run with other --pages may have appended out of order),
        give its records the document pass (running headers and footers, each page's markdown
        again: :func:`markdown`) and (re)write the markdown from it."""
        pages = [self.done[p] for p in sorted(self.done)]
        if not pages:
            return
        md = markdown(pages)
        text = "".join(p.to_json() + "\n" for p in pages)
        try:
            current = self.jsonl.read_text(encoding="utf-8") if self.jsonl.exists() else ""
        except (OSError, UnicodeDecodeError):
            current = ""
        if current != text:
            _atomic_write(self.jsonl, text)
        try:
            same = self.md.exists() and self.md.read_text(encoding="utf-8") == md
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            _atomic_write(self.md, md)


class ErrorLog:
    """``errors.jsonl``: one ``{"doc", "page", "kind", "error"}`` line per failed document or page.

    Appends are single small writes with O_APPEND, so worker processes can share the file.
    """

    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / ERRORS_NAME

    def reset(self) -> None:
        """Start a run's log afresh: failures of earlier runs are retried, so they are stale."""
        _unlink(self.path)

    def add(self, doc: str, page: Optional[int], error: str, kind: str = "input") -> None:
        row = {"doc": doc, "page": page, "kind": kind, "error": error}
        _append_line(self.path, json.dumps(row, ensure_ascii=False))


# ------------------------------------------------------------------------------------------------
# Output names
# ------------------------------------------------------------------------------------------------

#: names an input file may not take: OUT/errors.jsonl is the error log
RESERVED_NAMES = frozenset({Path(ERRORS_NAME).stem})


def hashed_name(path: Path) -> str:
    """``<stem>-<8 hex of sha1(resolved path)>``: the name of a file whose stem is taken."""
    digest = hashlib.sha1(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{path.stem}-{digest[:8]}"


class NameIndex:
    """Which output name (``OUT/<name>.jsonl``) belongs to which input file, kept in OUT.

    The rule (README, "Output names"): a file's name is its stem, unless OUT already gives that
    stem to another file, or another new input of the same run has the same stem, or the stem is
    reserved (``errors``); then it is ``<stem>-<8 hex of sha1(resolved path)>`` (for every such
    input alike, so no input is favoured by the order of the arguments). A name once given is
    recorded in ``OUT/.docencoder-names`` (one JSON line ``{"path", "name"}`` per file, by resolved
    path) and kept for that file in every later run, whatever other inputs come and go: resuming
    a corpus that grows never changes a name. An OUT written before the index existed is read
    through the ``doc`` field of its JSONL files.
    """

    def __init__(self, out_dir: Path) -> None:
        self.out = out_dir
        self.path = out_dir / NAMES_INDEX
        self.by_path: dict[str, str] = {}
        self.owners: dict[str, str] = {}  # casefolded name -> resolved path
        self.pending: list[tuple[str, str]] = []  # (path, name) given out, not yet recorded
        if self.path.exists():
            try:
                raw = self.path.read_bytes()
            except OSError as e:
                raise OutputError(f"cannot read {self.path}: {e.strerror or e}") from e
            complete = raw[:raw.rfind(b"\n") + 1]
            if len(complete) != len(raw):  # a torn last line: the next append would join it
                _atomic_write(self.path, complete.decode("utf-8", errors="replace"))
            for line in complete.decode("utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                    path, name = str(row["path"]), str(row["name"])
                except (ValueError, KeyError, TypeError):
                    continue  # a torn last line of a killed run
                if path not in self.by_path and name.casefold() not in self.owners:
                    self.by_path[path] = name
                    self.owners[name.casefold()] = path

    def _legacy_owner(self, name: str) -> Optional[str]:
        """The resolved input path of an unindexed ``OUT/<name>.jsonl`` ("" when unknown)."""
        jsonl = self.out / f"{name}.jsonl"
        if not jsonl.exists() and not (self.out / f"{name}.md").exists():
            return None
        try:
            with jsonl.open(encoding="utf-8", errors="replace") as f:
                doc = json.loads(f.readline())["doc"]
            return os.path.realpath(doc)
        except (OSError, ValueError, KeyError, TypeError):
            return ""  # something is there, owner unknown: the name is taken

    def assign(self, files: Sequence[Path]) -> list[str]:
        """Output names of ``files`` (see the class docstring); new names are not yet recorded."""
        keys = [os.path.realpath(f) for f in files]
        new_stems: dict[str, int] = {}
        for f, key in zip(files, keys):
            if key not in self.by_path:
                new_stems[f.stem.casefold()] = new_stems.get(f.stem.casefold(), 0) + 1
        self.pending = []
        names = []
        for f, key in zip(files, keys):
            if key in self.by_path:
                names.append(self.by_path[key])
                continue
            name = self._new_name(f, key, new_stems[f.stem.casefold()] > 1)
            names.append(name)
            self.by_path[key] = name
            self.owners[name.casefold()] = key
            self.pending.append((key, name))
        return names

    def _new_name(self, f: Path, key: str, shared: bool) -> str:
        """The name of a file OUT has no record of; ``shared``: another new input has its stem."""
        hashed = hashed_name(f)
        if (self.out / f"{hashed}.jsonl").exists():  # named so by an earlier version
            return hashed
        stem = f.stem
        owner = self.owners.get(stem.casefold())
        if owner is None:
            owner = self._legacy_owner(stem)
        if owner == key:  # its own output from before the index existed
            return stem
        if owner is None and stem.casefold() not in RESERVED_NAMES and not shared:
            return stem
        return hashed

    def commit(self) -> None:
        """Record the names :meth:`assign` gave out for the first time (before any page is written)."""
        for key, name in self.pending:
            _append_line(self.path, json.dumps({"path": key, "name": name}, ensure_ascii=False))
        self.pending = []
