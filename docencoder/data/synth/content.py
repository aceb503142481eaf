"""What the documents say: corpus prose cut into the texts of a paper's elements.

Prose comes from the project corpus (:mod:`docencoder.data.corpus`: technical English with code,
numbers and symbols, close to what whitepapers contain); titles, headings, table cells and code
are made from its words too, in the shapes papers give them. Formulas come from a few templates,
names and affiliations from short fixed lists.
"""

from __future__ import annotations

import functools
import random
import re
from typing import Sequence

from .faces import Face, fit_text

#: a few paragraphs for tests and for machines without the corpus
FALLBACK_PARAGRAPHS: tuple[str, ...] = (
    "The encoder compresses a rendered page into a short sequence of vision tokens, and a small "
    "language model decodes the text from them. Windowed attention keeps the activations small "
    "at high resolution, while global attention runs only on the compressed tokens.",
    "We evaluate the system on scanned and digital documents with one or two columns, tables and "
    "mathematical notation. Character error rates are reported per page and aggregated over the "
    "whole collection, together with the throughput in pages per second.",
    "Training data is produced synthetically: paragraphs of technical prose are typeset in several "
    "fonts and sizes, rasterised at resolutions between 100 and 300 dots per inch, and paired "
    "with the exact text that was drawn.",
    "Hyphenation, ligatures and justified spacing make the text layer of a digital document "
    "harder to read than it looks; the extraction therefore rebuilds every line from the "
    "positions of its characters instead of trusting the order of the content stream.",
)

FIRST_NAMES = ("Ada", "Alan", "Grace", "Edsger", "Barbara", "Donald", "Frances", "John", "Leslie",
               "Radia", "Tim", "Margaret", "Ken", "Dennis", "Niklaus", "Shafi", "Yann", "Fei")
LAST_NAMES = ("Lovelace", "Turing", "Hopper", "Dijkstra", "Liskov", "Knuth", "Allen", "Backus",
              "Lamport", "Perlman", "Berners", "Hamilton", "Thompson", "Ritchie", "Wirth",
              "Goldwasser", "LeCun", "Li", "Okafor", "Nakamura", "Schmidt", "Rossi")
INSTITUTES = ("Department of Computer Science", "Institute for Applied Mathematics",
              "School of Engineering", "Research Laboratory for Document Analysis")
CITIES = ("Zurich", "Toronto", "Kyoto", "Lisbon", "Nairobi", "Austin", "Helsinki", "Pune")
#: words kept lower case inside a title (title case otherwise)
_TITLE_SMALL_WORDS = frozenset({"and", "the", "for", "with", "from", "into", "over"})


@functools.lru_cache(maxsize=1)
def default_paragraphs() -> tuple[str, ...]:
    """The project corpus when it is built, else :data:`FALLBACK_PARAGRAPHS`."""
    try:
        from ..corpus import load_corpus

        corpus = load_corpus()
    except (ImportError, FileNotFoundError, OSError):
        return FALLBACK_PARAGRAPHS
    return tuple(corpus) if corpus else FALLBACK_PARAGRAPHS


class Content:
    """Draws text from the corpus as the elements of a paper (every choice from ``rng``)."""

    def __init__(self, paragraphs: Sequence[str], rng: random.Random) -> None:
        self.paragraphs = paragraphs
        self.rng = rng

    def prose(self, n_words: tuple[int, int]) -> str:
        """A run of corpus words (continuing into following paragraphs when needed)."""
        rng = self.rng
        i = rng.randrange(len(self.paragraphs))
        words = self.paragraphs[i].split()
        want = rng.randint(*n_words)
        while len(words) < want:
            i = (i + 1) % len(self.paragraphs)
            words += self.paragraphs[i].split()
        return " ".join(w for w in words[:want] if "\ufffd" not in w)

    def sentence(self, max_words: int = 18) -> str:
        """A capitalised run of words ending in a full stop."""
        text = self.prose((6, max_words)).rstrip(",;:")
        return text[0].upper() + text[1:] + ("" if text.endswith(".") else ".")

    def title_words(self, lo: int, hi: int) -> str:
        """``lo`` to ``hi`` alphabetic words in title case (a title, a heading, a column head)."""
        words = [re.sub(r"[^\w-]", "", w) for w in self.prose((lo * 3, hi * 3)).split()]
        words = [w for w in words if w.isalpha() and len(w) > 2][: self.rng.randint(lo, hi)] or ["Method"]
        return " ".join(w if w.lower() in _TITLE_SMALL_WORDS and i else w[0].upper() + w[1:]
                        for i, w in enumerate(words))

    def authors(self) -> str:
        """One to four author names, comma-separated."""
        rng = self.rng
        return ", ".join(f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                         for _ in range(rng.randint(1, 4)))

    def affiliation(self) -> str:
        """An institute and a city."""
        return f"{self.rng.choice(INSTITUTES)}, {self.rng.choice(CITIES)}"

    def math(self, face: Face) -> str:
        """A display formula, restricted to what ``face`` can draw (may come back empty)."""
        rng = self.rng
        v = rng.choice("xyzuvw")
        i = rng.choice("ijkn")
        g = rng.choice("αβγλμσθη")
        n = f"{rng.uniform(0, 10):.{rng.randint(1, 3)}f}"
        forms = [
            f"f({v}) = Σ_{i} a_{i} {v}^{i}",
            f"E[{v.upper()}] = ∫ {v} p({v}) d{v}",
            f"‖{v} − {v}*‖ ≤ ε",
            f"L(θ) = −Σ_n log p(y_n | {v}_n; θ)",
            f"{v}_(t+1) = {v}_t − η ∇f({v}_t)",
            f"σ² = E[({v.upper()} − μ)²]",
            "P(A | B) = P(B | A) P(A) / P(B)",
            f"{g} = {n},  {i} ∈ {{1, …, N}}",
            f"T(n) = {rng.randint(2, 8)} T(n/2) + O(n log n)",
            f"{g}_max ≈ {n} × 10^{rng.randint(-6, 6)}",
            f"h_t = tanh(W h_(t−1) + U {v}_t + b)",
            f"||{v}||_2 = sqrt(Σ_{i} {v}_{i}²)",
        ]
        return fit_text(rng.choice(forms), face)

    def cell(self, numeric: bool) -> str:
        """A table cell: a number in one of several formats, or one or two words."""
        rng = self.rng
        if numeric:
            return rng.choice([f"{rng.uniform(0, 100):.{rng.randint(1, 2)}f}", str(rng.randint(0, 5000)),
                               f"{rng.uniform(0, 1):.3f}", f"{rng.randint(1, 99)}%"])
        words = [w.strip(".,;:()") for w in self.prose((2, 6)).split()]
        words = [w for w in words if w]
        return " ".join(words[: rng.randint(1, 2)]) or "n/a"

    def code(self) -> str:
        """One line of Python-like code with identifiers made from corpus words."""
        rng = self.rng
        names = [re.sub(r"\W", "", w).lower() for w in self.prose((6, 12)).split()]
        names = [n for n in names if n.isidentifier()] or ["value"]
        a, b = rng.choice(names), rng.choice(names)
        return rng.choice([f"{a} = {b}({rng.randint(0, 64)}, {rng.choice(names)})",
                           f"for {a} in range({rng.randint(2, 512)}):",
                           f"    {a}.{b}({rng.choice(names)}=True)",
                           f"return {a}[{rng.randint(0, 9)}] + {b}",
                           f"def {a}_{b}(x, y={rng.randint(0, 9)}):",
                           f"if {a} is None: raise ValueError(\"{b}\")"])
