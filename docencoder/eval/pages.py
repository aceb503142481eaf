"""Read page texts for evaluation from the forms OCR systems and ground truth come in.

Accepted forms (for predictions and references alike):

* an OCR output folder of ``<name>.jsonl`` files, one ``{"doc", "page", "text", ...}`` object per
  line (what ``docencoder ocr`` writes), or a single such ``.jsonl`` file;
* a folder of ``.txt`` files, or a single one: one document each, pages separated by form feeds
  (``\\f``, as ``pdftotext`` and ``tesseract`` write them), page numbers counted from 1;
* a dev-set manifest (``manifest.jsonl`` with ``"gt"`` paths, or the folder that holds one).

Pages are keyed by ``(document stem, page number)``. Page numbering differs between tools (0- or
1-based), so :func:`align` matches a document's pages by rank when both sides list the same
number of pages of it but under different numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

PathLike = Union[str, Path]
#: (document stem, page number as the source numbers it)
PageKey = tuple[str, int]
MANIFEST = "manifest.jsonl"
_FORM_FEED = "\f"


def doc_name(doc: str) -> str:
    """The document part of a key: the file stem of a path, or the name as it is."""
    return Path(str(doc)).stem if str(doc) else ""


def _read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}:{lineno}: not JSON ({e.msg})") from e
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{lineno}: expected a JSON object")
            rows.append(row)
    return rows


def _from_manifest(path: Path) -> dict[PageKey, str]:
    """Ground truth of a dev-set manifest: each row names its ``gt`` text file (relative path)."""
    out: dict[PageKey, str] = {}
    for row in _read_jsonl(path):
        gt = path.parent / row["gt"]
        out[(doc_name(row.get("doc") or row["id"]), int(row.get("page", 1)))] = \
            gt.read_text(encoding="utf-8")
    return out


def _from_jsonl(path: Path) -> dict[PageKey, str]:
    rows = _read_jsonl(path)
    if rows and "gt" in rows[0] and "text" not in rows[0]:
        return _from_manifest(path)
    out: dict[PageKey, str] = {}
    for lineno, row in enumerate(rows, 1):
        if "text" not in row:
            if "error" in row:  # a page the OCR reported as failed: scored as missing
                continue
            raise ValueError(f"{path}: row {lineno} has no 'text' field")
        doc = doc_name(row.get("doc") or path.stem)
        page = int(row.get("page", 1))
        out[(doc, page)] = str(row["text"] or "")
    return out


def _from_txt(path: Path) -> dict[PageKey, str]:
    pages = path.read_text(encoding="utf-8", errors="replace").split(_FORM_FEED)
    if len(pages) > 1 and not pages[-1].strip():
        pages.pop()  # the form feed that ends the last page
    return {(path.stem, i): text for i, text in enumerate(pages, 1)}


def load_pages(path: PathLike) -> dict[PageKey, str]:
    """All page texts under ``path`` (see the module docstring for the accepted forms).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: nothing readable is there, or a file is malformed (named in the message).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    if path.is_file():
        if path.suffix == ".jsonl":
            return _from_jsonl(path)
        if path.suffix == ".txt":
            return _from_txt(path)
        raise ValueError(f"{path}: expected a .jsonl or .txt file or a folder of them")
    if (path / MANIFEST).is_file():
        return _from_manifest(path / MANIFEST)
    out: dict[PageKey, str] = {}
    files = sorted(p for p in path.rglob("*") if p.suffix in (".jsonl", ".txt") and p.is_file())
    for f in files:
        for key, text in (_from_jsonl(f) if f.suffix == ".jsonl" else _from_txt(f)).items():
            if key in out:
                raise ValueError(f"page {key} appears twice under {path} (again in {f})")
            out[key] = text
    if not out:
        raise ValueError(f"{path}: no .jsonl or .txt page texts found")
    return out


def align(preds: dict[PageKey, str], refs: dict[PageKey, str]) -> dict[PageKey, str]:
    """Re-key predictions onto the reference's page numbers where they differ only in numbering.

    For each document, if the page numbers agree nothing changes; if both sides have the same
    number of pages but different numbers (0- vs 1-based, or a one-page extract numbered by its
    source page), the pages are matched in order. Other pages keep their own keys (and then count
    as missing/extra).
    """
    by_doc_pred: dict[str, list[int]] = {}
    by_doc_ref: dict[str, list[int]] = {}
    for doc, page in preds:
        by_doc_pred.setdefault(doc, []).append(page)
    for doc, page in refs:
        by_doc_ref.setdefault(doc, []).append(page)
    out: dict[PageKey, str] = {}
    for doc, pages in by_doc_pred.items():
        ref_pages = sorted(by_doc_ref.get(doc, []))
        pages = sorted(pages)
        if ref_pages and pages != ref_pages and len(pages) == len(ref_pages):
            for p, r in zip(pages, ref_pages):
                out[(doc, r)] = preds[(doc, p)]
        else:
            for p in pages:
                out[(doc, p)] = preds[(doc, p)]
    return out


def key_str(key: PageKey) -> str:
    """A page key as one string, ``doc#page``."""
    return f"{key[0]}#{key[1]}"
