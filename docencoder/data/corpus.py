"""The text corpus the synthetic renderer and the tokenizer are built from.

Built offline and reproducibly by ``data/corpus/build.py`` from Debian packages fetched with
``apt-get download`` (no hub, no web): the Python 3.11 documentation (python3.11-doc, PSF licence)
and the Linux man-pages project (manpages, manpages-dev; GPL-compatible permissive licences).
Both are technical English prose with code, numbers and symbols, close to what whitepapers contain.
Debian's TeX Live documentation and the other reserved packages are never used.
"""

from __future__ import annotations

import gzip
import hashlib
import html.parser
import re
import unicodedata
from pathlib import Path
from typing import Iterable, Iterator

#: Debian packages the corpus is extracted from (versions pinned by the build script's log)
CORPUS_PACKAGES = ("python3.11-doc", "manpages", "manpages-dev")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CORPUS = REPO_ROOT / "data" / "corpus" / "corpus.txt.gz"

_WS = re.compile(r"\s+")


def clean_paragraph(text: str) -> str | None:
    """NFKC, one line, printable; None for paragraphs that are mostly code or too short to be prose."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    text = _WS.sub(" ", text).strip()
    if len(text) < 40:
        return None
    letters = sum(ch.isalpha() for ch in text)
    if letters / len(text) < 0.6 or text.count(" ") < 5:
        return None
    return text


class _ParagraphParser(html.parser.HTMLParser):
    """Collects the text of <p>, <li> and <dd> elements of Sphinx HTML, skipping code and navigation."""

    _BLOCKS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "td"}
    _SKIP = {"pre", "script", "style", "nav"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._buf: list[str] = []
        self._depth = 0
        self._skip = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag in self._BLOCKS:
            self._flush()
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCKS:
            self._flush()
            self._depth = max(0, self._depth - 1)

    def handle_data(self, data: str) -> None:
        if self._depth and not self._skip:
            self._buf.append(data)

    def _flush(self) -> None:
        if self._buf:
            self.paragraphs.append("".join(self._buf).replace("¶", ""))
            self._buf = []


def html_paragraphs(path: Path) -> list[str]:
    parser = _ParagraphParser()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.paragraphs


_ROFF_ESC = re.compile(r"\\f[BIRPC]|\\f\(..|\\f\[[A-Z]*\]|\\\*\(..|\\\*.|\\s[-+]?\d|\\&|\\c")


def man_paragraphs(path: Path) -> list[str]:
    """Paragraphs of a roff man page: text lines between paragraph macros, escapes stripped."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
        lines = fh.read().splitlines()
    paras, buf = [], []
    for line in lines:
        if line.startswith((".", "'")):
            macro = line[1:3]
            if macro in ("PP", "P", "LP", "TP", "IP", "SH", "SS", "RS", "RE", "nf", "EX"):
                if buf:
                    paras.append(" ".join(buf))
                    buf = []
            elif macro in ("B ", "I ", "BR", "IR", "RB", "RI", "BI", "IB"):
                words = line[3:].strip().replace('"', "")
                buf.append(words)
            continue
        text = _ROFF_ESC.sub("", line).replace("\\-", "-").replace("\\(em", "—").replace("\\e", "\\")
        buf.append(text)
    if buf:
        paras.append(" ".join(buf))
    return paras


def extract(root: Path) -> Iterator[tuple[str, str]]:
    """(source, raw paragraph) from an unpacked Debian tree ``root`` (see ``data/corpus/build.py``)."""
    html_root = root / "usr/share/doc/python3.11/html"
    for path in sorted(html_root.rglob("*.html")):
        if path.name in ("genindex.html", "search.html") or "genindex" in path.name:
            continue
        for p in html_paragraphs(path):
            yield "python3.11-doc", p
    for path in sorted((root / "usr/share/man").rglob("*.gz")):
        for p in man_paragraphs(path):
            yield "manpages", p


def build_corpus(paragraphs: Iterable[tuple[str, str]], out: Path) -> dict[str, int]:
    """Clean, deduplicate (exact, after normalisation) and write one paragraph per line, gzipped."""
    seen: set[bytes] = set()
    counts: dict[str, int] = {}
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as fh:
        for source, raw in paragraphs:
            text = clean_paragraph(raw)
            if text is None:
                continue
            digest = hashlib.blake2b(text.lower().encode(), digest_size=12).digest()
            if digest in seen:
                continue
            seen.add(digest)
            fh.write(text + "\n")
            counts[source] = counts.get(source, 0) + 1
    return counts


def load_corpus(path: str | Path | None = None) -> list[str]:
    """Paragraphs of the corpus (one string each)."""
    p = Path(path) if path is not None else DEFAULT_CORPUS
    if not p.is_file():
        raise FileNotFoundError(f"corpus {p} missing: run `python data/corpus/build.py`")
    with gzip.open(p, "rt", encoding="utf-8") as fh:
        return [line.rstrip("\n") for line in fh if line.strip()]
