"""Text the decoder cannot guess: random words, names, identifiers, addresses and numbers.

Why: trained on prose, the decoder's language prior outweighs the pixels whenever a word is rare
in its training text — a chemistry term read three ways in one paragraph, surnames and command
names turned into familiar words. Lines of words drawn independently from a very large word list
(Debian's ``wamerican-insane``, 660k entries: rare words, proper names, places, chemistry and
biology terms), of random letter strings, identifiers, e-mail addresses, URLs and numbers give the
language model nothing to predict from context, so the only way to lower the loss is to read.

A fixed slice of the word list (``HELD_OUT_MOD``, chosen by a hash of the word) never reaches
training: the rare-word probe (:mod:`docencoder.eval.probe`) reads those words, so it measures
reading, not memory.
"""

from __future__ import annotations

import hashlib
import os
import random
import string
from functools import lru_cache
from pathlib import Path

#: Debian's wamerican-insane (installed by the Makefile); DOCENCODER_WORDLIST overrides it
WORDLIST = Path("/usr/share/dict/american-english-insane")
#: one word in HELD_OUT_MOD (by the first byte of its sha1) is the probe's, never trained on
HELD_OUT_MOD = 16


def held_out(word: str) -> bool:
    """True for the words reserved for the rare-word probe (a stable function of the word)."""
    return hashlib.sha1(word.encode("utf-8")).digest()[0] % HELD_OUT_MOD == 0


def wordlist_path() -> Path:
    return Path(os.environ.get("DOCENCODER_WORDLIST", WORDLIST))


@lru_cache(maxsize=4)
def load_words(split: str = "train", path: str | None = None) -> tuple[str, ...]:
    """The word list's entries of one split (``train`` or ``probe``), in file order.

    Entries with characters other than letters, digits, apostrophes, hyphens and periods are
    dropped (the list holds a few odd entries); the rest keep their case and accents.
    """
    if split not in ("train", "probe"):
        raise ValueError(f"split must be 'train' or 'probe', got {split!r}")
    p = Path(path) if path else wordlist_path()
    if not p.is_file():
        raise FileNotFoundError(
            f"word list {p} not found: install Debian's wamerican-insane "
            "(`make install` does; or `apt-get install wamerican-insane`), or set DOCENCODER_WORDLIST")
    want = split == "probe"
    out = []
    with open(p, encoding="utf-8", errors="ignore") as f:
        for line in f:
            w = line.strip()
            if not w or not all(ch.isalnum() or ch in "'-." for ch in w):
                continue
            if held_out(w) == want:
                out.append(w)
    return tuple(out)


def _case(rng: random.Random, w: str) -> str:
    r = rng.random()
    if r < 0.12:
        return w.capitalize()
    if r < 0.17:
        return w.upper()
    if r < 0.20:  # mixed case, as in product and gene names
        return "".join(ch.upper() if rng.random() < 0.3 else ch for ch in w)
    return w


def _letters(rng: random.Random, lo: int = 2, hi: int = 12) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(lo, hi)))


def _number(rng: random.Random) -> str:
    kind = rng.randrange(9)
    if kind == 0:
        return str(rng.randint(0, 99999))
    if kind == 1:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 4)}f}"
    if kind == 2:
        return f"{rng.uniform(1, 10):.{rng.randint(1, 3)}f}e{rng.choice('-+')}{rng.randint(1, 12):02d}"
    if kind == 3:
        return f"{rng.randint(1, 99)}.{rng.randint(0, 20)}.{rng.randint(0, 40)}"  # version
    if kind == 4:
        return f"{rng.randint(1, 999)} {rng.choice(['mm', 'nm', 'kg', 'ms', 'Hz', 'MHz', 'GB', 'K', 'mol', 'µm', '°C', '%'])}"
    if kind == 5:
        return f"{rng.randint(1900, 2030)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == 6:
        return f"({rng.randint(1, 999)})"
    if kind == 7:
        return f"{rng.randint(1, 9)}{rng.choice(string.ascii_uppercase)}{rng.randint(0, 999)}"
    return f"±{rng.uniform(0, 10):.{rng.randint(1, 3)}f}"


class RandomText:
    """Samples lines of unpredictable text to fill about ``max_chars`` characters.

    Kinds, each a fifth or so of the lines: random words (any case, light punctuation), names
    and places (initials + capitalised list entries, as in author lists and references),
    identifiers and command lines (snake/camel case from word parts, options, paths), addresses
    (URLs, e-mail addresses, DOIs), and random letter strings mixed with numbers.
    """

    def __init__(self, words: tuple[str, ...] | None = None) -> None:
        self.words = words if words is not None else load_words("train")
        if not self.words:
            raise ValueError("RandomText needs a non-empty word list")
        self.proper = tuple(w for w in self.words if w[:1].isupper()) or self.words
        self.lower = tuple(w for w in self.words if w.islower() and "." not in w) or self.words

    def word(self, rng: random.Random) -> str:
        return rng.choice(self.words)

    def _words(self, rng: random.Random) -> str:
        w = _case(rng, self.word(rng))
        r = rng.random()
        if r < 0.08:
            return w + ","
        if r < 0.12:
            return w + "."
        if r < 0.14:
            return f"({w})"
        if r < 0.17:
            return f"{w}-{self.word(rng)}"
        if r < 0.22:
            return _number(rng)
        return w

    def _name(self, rng: random.Random) -> str:
        r = rng.random()
        surname = rng.choice(self.proper)
        if r < 0.4:
            return f"{rng.choice(string.ascii_uppercase)}. {surname}" + rng.choice([",", "", " and", ","])
        if r < 0.6:
            return f"{surname}, {rng.choice(string.ascii_uppercase)}." + rng.choice([",", "", ";"])
        if r < 0.8:
            return f"{rng.choice(self.proper)} {surname}"
        return f"{surname} ({rng.randint(1950, 2026)})"

    def _ident(self, rng: random.Random) -> str:
        parts = [rng.choice(self.lower)[: rng.randint(2, 8)] for _ in range(rng.randint(1, 3))]
        r = rng.random()
        if r < 0.3:
            return "_".join(parts)
        if r < 0.5:
            return parts[0] + "".join(p.capitalize() for p in parts[1:])
        if r < 0.65:
            return "--" + "-".join(parts) + (f"={rng.randint(0, 512)}" if rng.random() < 0.4 else "")
        if r < 0.8:
            return "/" + "/".join(parts) + rng.choice(["", ".c", ".py", ".h", ".tex", ".so", ".txt"])
        return "".join(parts) + (f"({rng.choice(self.lower)[:6]})" if rng.random() < 0.5 else "")

    def _address(self, rng: random.Random) -> str:
        a, b = rng.choice(self.lower)[:10], rng.choice(self.lower)[:10]
        tld = rng.choice(["org", "edu", "com", "net", "de", "fr", "ac.uk", "io", "ch", "jp"])
        r = rng.random()
        if r < 0.35:
            return f"{a}.{b}@{rng.choice(self.lower)[:8]}.{tld}"
        if r < 0.75:
            path = "/".join(rng.choice(self.lower)[:8] for _ in range(rng.randint(0, 3)))
            return f"{rng.choice(['https://', 'http://', 'https://www.'])}{a}.{tld}/{path}"
        return f"doi:10.{rng.randint(1000, 9999)}/{_letters(rng, 2, 5)}.{rng.randint(1990, 2026)}.{rng.randint(1, 99999)}"

    def _gibberish(self, rng: random.Random) -> str:
        r = rng.random()
        w = _letters(rng)
        if r < 0.6:
            return _case(rng, w)
        if r < 0.8:
            return _number(rng)
        return w + str(rng.randint(0, 99))

    def line(self, rng: random.Random, max_chars: int) -> str:
        """One line: tokens of one kind (a fifth of the time any mix), single-spaced."""
        kinds = (self._words, self._name, self._ident, self._address, self._gibberish)
        kind = rng.choice(kinds) if rng.random() < 0.8 else None
        target = max_chars if rng.random() < 0.75 else rng.randint(1, max(1, max_chars))
        out: list[str] = []
        n = 0
        while True:
            tok = (kind or rng.choice(kinds))(rng)
            if out and n + 1 + len(tok) > target:
                break
            out.append(tok)
            n += len(tok) + (1 if n else 0)
            if n >= target:
                break
        return " ".join(out)[: max(1, max_chars)].strip()
