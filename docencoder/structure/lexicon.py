"""Undoing line-end hyphenation only where the joined word is a word.

A line that ends in ``de-`` followed by ``scribed`` was hyphenated by the typesetter: the word is
``described``. A line that ends in ``micro-`` followed by ``sphere``, or ``state-of-the-``
followed by ``art``, broke at a hyphen that belongs to the word. Nothing on the page tells the
two apart, so the decision (:meth:`Lexicon.join`) asks, in this order:

1. the shape: the left part must end in a letter and the right part start with a lowercase
   letter (``COVID-`` / ``19`` keeps its hyphen), and a left part that already holds a hyphen is
   a compound (``state-of-the-``);
2. the document itself: the joined form or the hyphenated form used elsewhere in it, mid-line;
3. common words: the project's text corpus (``data/corpus/corpus.txt.gz``: Python documentation
   and man pages, 12M characters), where ``understanding`` occurs and ``microsphere`` does not;
4. the word list (Debian's ``/usr/share/dict/words``, 660k entries with rare words and names):
   the joined form must be in it, and when both halves are words of at least
   :data:`COMPOUND_PART` letters (``micro`` + ``sphere``, ``well`` + ``known``, whose joined
   forms the big list also holds) the hyphen is kept.

Neither file is downloaded; without them only rules 1 and 2 decide, and a hyphen stays.
Both are searched as bytes (a membership test is a substring search, ~5 ms on either file),
not loaded into a set of words, which would cost ~50 MB in every worker process.
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Optional

#: word lists tried in order (the first that exists is used); DOCENCODER_WORDLIST first
WORDLISTS = (Path("/usr/share/dict/words"), Path("/usr/share/dict/american-english-insane"))
#: the project's text corpus, where a checkout has it (the path ``docencoder.data.corpus`` uses;
#: not imported from there: this package imports nothing of docencoder)
CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus" / "corpus.txt.gz"
#: both halves at least this long and words themselves: a compound, the hyphen is kept
COMPOUND_PART = 3
#: occurrences of a word inside longer words looked through before a search gives up
_MAX_HITS = 64

_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _has_word(blob: bytes, word: bytes) -> bool:
    """Whether ``word`` occurs in ``blob`` as a whole word (no letter on either side)."""
    start = 0
    for _ in range(_MAX_HITS):
        i = blob.find(word, start)
        if i < 0:
            return False
        j = i + len(word)
        before = blob[i - 1:i]
        after = blob[j:j + 1]
        if not before.isalpha() and not after.isalpha():
            return True
        start = i + 1
    return False


@dataclass
class Lexicon:
    """The word evidence for :meth:`join`: a word list and common words, as lowercase bytes.

    Attributes:
        words: newline-separated lowercase words (a word list), or b"" for none.
        common: lowercase running text (a corpus) whose words count as common, or b"".
    """

    words: bytes = b""
    common: bytes = b""
    #: reads ``(words, common)`` on the first question (None: they are given)
    loader: Optional[Callable[[], tuple[bytes, bytes]]] = field(default=None, repr=False)
    _cache: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)

    def _ensure(self) -> None:
        if self.loader is not None:
            self.words, self.common = self.loader()
            self.loader = None

    @classmethod
    def of(cls, words: Iterable[str] = (), common: Iterable[str] = ()) -> "Lexicon":
        """A lexicon from word lists in memory (tests, callers with their own vocabulary)."""
        return cls(("\n" + "\n".join(words) + "\n").lower().encode("utf-8"),
                   (" " + " ".join(common) + " ").lower().encode("utf-8"))

    def is_word(self, word: str) -> bool:
        self._ensure()
        return bool(self.words) and f"\n{word.lower()}\n".encode("utf-8") in self.words

    def is_common(self, word: str) -> bool:
        self._ensure()
        return bool(self.common) and _has_word(self.common, word.lower().encode("utf-8"))

    def join(self, left: str, right: str, seen: Optional["DocumentWords"] = None) -> bool:
        """Whether ``left-`` at a line's end and ``right`` at the next line's start are one word
        hyphenated by the typesetter (join without the hyphen); False: keep the hyphen.

        Args:
            left: the last word of the line without its final hyphen (``de``, ``state-of-the``).
            right: the first word of the next line, letters only (``scribed``).
            seen: words of the document, used mid-line (rule 2 of the module docstring).
        """
        if not left or not right or not left[-1].isalpha() or not right[0].islower():
            return False
        if "-" in left:
            return False
        joined, hyphenated = left + right, f"{left}-{right}"
        if seen is not None:
            if seen.has(joined):
                return True
            if seen.has(hyphenated):
                return False
        key = (left.lower(), right.lower())
        if key not in self._cache:
            self._cache[key] = self._decide(left, right, joined)
        return self._cache[key]

    def _decide(self, left: str, right: str, joined: str) -> bool:
        if self.is_common(joined):
            return True
        if not self.is_word(joined):
            return False
        compound = (len(left) >= COMPOUND_PART and len(right) >= COMPOUND_PART
                    and self.is_word(left) and self.is_word(right))
        return not compound


class DocumentWords:
    """The words a document uses mid-line (lowercased), hyphenated compounds as written."""

    def __init__(self, lines: Iterable[str] = ()) -> None:
        self.words: set[str] = set()
        for line in lines:
            self.add(line)

    def add(self, line: str) -> None:
        """Count the words of one line, except a hyphenated last word (it is what is asked)."""
        words = _WORD.findall(line)
        if words and line.rstrip().endswith("-"):
            words = words[:-1]
        self.words.update(w.lower() for w in words)

    def has(self, word: str) -> bool:
        return word.lower() in self.words


def _first_file(paths: Iterable[Path]) -> Optional[Path]:
    for p in paths:
        if p.is_file():
            return p
    return None


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The word list (``DOCENCODER_WORDLIST`` or :data:`WORDLISTS`) and the corpus
    (:data:`CORPUS`) of this machine, read once per process when first asked (a document
    without a hyphen at a line end never reads them); either may be missing."""
    return Lexicon(loader=_read_files)


def _read_files() -> tuple[bytes, bytes]:
    env = os.environ.get("DOCENCODER_WORDLIST")
    path = _first_file(([Path(env)] if env else []) + list(WORDLISTS))
    words = b""
    if path is not None:
        try:
            words = b"\n" + path.read_bytes().lower().replace(b"\r", b"") + b"\n"
        except OSError:
            words = b""
    common = b""
    if CORPUS.is_file():
        try:
            with gzip.open(CORPUS, "rb") as f:
                common = f.read().lower()
        except (OSError, EOFError):
            common = b""
    return words, common
