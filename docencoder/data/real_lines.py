"""Line samples from PDF shards (``docencoder data from-pdfs`` / ``synth-pdf``) as a random-access
source for the line data module, so mixing real lines keeps batches a pure function of the seed.

A shard line is a whole text line of a page, often wider than one 512-px piece, so each draw
cuts a random run of consecutive words out of it. Where the words are comes from the text layer
(``meta["words"]``: each word's pixel columns in the crop, written by
:func:`.crops.word_spans`); only samples without it fall back to word gaps found in the
pixels, which miss tight spacing (code, math, justified text) and then cannot use the line.

Documents are split into train / val by a stable hash of their name, so reading can be measured
on documents never trained on.
"""

from __future__ import annotations

import hashlib
import io
import random
from array import array
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
from PIL import Image

from .degrade import degrade, scan_like
from .lines import LINE_HEIGHT, LINE_WIDTH, _box_scale, ink_box, ink_mask, max_piece_ink, normalize_line, word_segments
from .shards import iter_tar, read_manifest
from .tokenizer import normalize_text

#: columns a cut may reach past a word's span for anti-aliased glyph edges (never past the
#: midpoint to the neighbouring word)
EDGE_PAD = 1
#: share of draws whose run of words is shorter than what fits (as line ends are)
SHORT_RUN_PROB = 0.25
#: lines drawn before :meth:`ShardLineSource.sample` gives up
MAX_DRAWS = 200
#: smallest word-gap width (fraction of the ink height) of the pixel fallback, as lines.sample_words
PIXEL_GAP_RATIO = 0.2

Span = tuple[int, int]  # (x0, x1) pixel columns in the line crop, x1 exclusive


def is_val_document(name: str, val_fraction: float) -> bool:
    """True when document ``name`` belongs to the validation split.

    A stable hash (sha1, not Python's salted ``hash``) so every process, rank and session agrees.
    """
    h = int(hashlib.sha1(name.encode("utf-8")).hexdigest()[:15], 16) / 16 ** 15  # uniform [0, 1)
    return h < val_fraction


def pixel_spans(a: np.ndarray, n_words: int) -> Optional[list[Span]]:
    """Word spans from the ink gaps of a line crop, or None when they do not match ``n_words``."""
    mask = ink_mask(a)
    box = ink_box(a, mask)
    if box is None:
        return None
    spans = word_segments(a, box, min_gap_ratio=PIXEL_GAP_RATIO, mask=mask)
    return spans if len(spans) == n_words else None


def cut_words(a: np.ndarray, spans: Sequence[Span], i: int, j: int, margin: int) -> tuple[np.ndarray, int]:
    """The columns of words ``i..j-1`` of a line crop, on white, with ``margin`` white columns.

    The cut stops at the midpoint to a neighbouring word (at most :data:`EDGE_PAD` past the
    run's own span), and nothing outside the cut is copied, so no sliver of a neighbour's ink
    reaches the piece (``lines.crop_span`` copies the image's margins, neighbours included).

    Args:
        a: `(H, W)` uint8 grayscale line crop.
        spans: every word's span in ``a``.
        margin: white columns added on each side (the normalisation margin, source pixels).

    Returns:
        The `(H, R - L + 2 * margin)` uint8 piece and the offset that maps a column x of ``a``
        to ``x + offset`` in the piece.
    """
    width = a.shape[1]
    left, right = spans[i][0] - EDGE_PAD, spans[j - 1][1] + EDGE_PAD
    if i > 0:
        left = max(left, (spans[i - 1][1] + spans[i][0]) // 2)
    if j < len(spans):
        right = min(right, (spans[j - 1][1] + spans[j][0] + 1) // 2)
    left, right = max(0, left), min(width, right)
    out = np.full((a.shape[0], max(1, right - left) + 2 * margin), 255, dtype=np.uint8)
    out[:, margin:margin + max(0, right - left)] = a[:, left:right]
    return out, margin - left


def ends_have_ink(piece: np.ndarray, first: Span, last: Span) -> bool:
    """True when the first and the last word of a piece show ink, as normalisation sees it.

    :func:`lines.normalize_line` crops to the ink box, so a run whose end word is blank there
    (not drawn, or drawn so much lighter than its neighbours that it falls below the ink
    threshold, as syntax-highlighted code does) would lose that word while the label keeps it.
    Interior words survive the crop whatever their shade.
    """
    col = ink_mask(piece).any(0)  # (W,)
    return bool(col[first[0]:first[1]].any() and col[last[0]:last[1]].any())


class ShardLineSource:
    """The ``kind == "line"`` samples of some shard directories, held as PNG bytes in memory.

    :meth:`sample` draws a line and a run of its consecutive words that fits the geometry,
    using the word spans stored with the sample or, for samples without them, word gaps found
    in the pixels (lines whose gaps do not match the label's words are redrawn).

    Args:
        dirs: shard directories (each with a ``manifest.json``).
        height: line height in pixels.
        width: default line width in pixels (:meth:`sample` may ask for another).
        split: ``"train"``, ``"val"`` or ``"all"``: which documents (``meta["source"]``) to
            keep, by :func:`is_val_document`.
        val_fraction: the share of documents that are ``"val"``.
        degrade_prob: share of draws whose crop gets scan degradations before normalising.
        scan_share: share of those that get the whole page-scan chain at once
            (:func:`~docencoder.data.degrade.scan_like`; the crops are 150-DPI, as its presets
            assume) instead of a random subset of effects.
    """

    def __init__(self, dirs: Sequence[str | Path], height: int = LINE_HEIGHT, width: int = LINE_WIDTH,
                 split: str = "train", val_fraction: float = 0.1, degrade_prob: float = 0.35,
                 scan_share: float = 0.0) -> None:
        if split not in ("train", "val", "all"):
            raise ValueError(f"split must be 'train', 'val' or 'all', got {split!r}")
        self.height, self.width = height, width
        self.split, self.val_fraction, self.degrade_prob = split, val_fraction, degrade_prob
        self.scan_share = scan_share
        self._png: list[bytes] = []
        self._text: list[str] = []  # as stored: the spans align with text.split()
        self._spans: list[Optional[array]] = []  # flat [x0, x1, x0, x1, ...] or None
        self.documents: set[str] = set()  # meta["source"] of the kept lines
        for d in dirs:
            if not (Path(d) / "manifest.json").is_file():
                raise FileNotFoundError(
                    f"no shards in {d} (no manifest.json): `make data` builds the shipped recipe's "
                    "shards (data/shards/real_v2 from Debian's PDFs, data/shards/synth); or train "
                    "on synthetic lines alone with --data.shard_dirs null")
            for shard in read_manifest(d)["shards"]:
                if self._skip_shard(shard):
                    continue
                for s in iter_tar(Path(d) / shard["name"], decode=False):
                    if s.meta.get("kind") == "line" and s.text.strip() and self._keep(s.meta):
                        self._add(s.image, s.text, s.meta.get("words"))  # type: ignore[arg-type]
                        self.documents.add(str(s.meta.get("source", "")))
        if not self._png:
            hint = (f" (the val split holds {val_fraction:.0%} of the documents, chosen by a hash of "
                    "their names: with few documents, build more or set --data.val_real_batches 0)"
                    if split == "val" else ": build them with `make data` or `docencoder data "
                    "from-pdfs` / `docencoder data synth-pdf`")
            raise ValueError(f"no {split} line samples in {list(dirs)}{hint}")

    def _keep(self, meta: dict) -> bool:
        if self.split == "all":
            return True
        return is_val_document(str(meta.get("source", "")), self.val_fraction) == (self.split == "val")

    def _skip_shard(self, shard: dict) -> bool:
        """True when every document of a shard is on the other side of the split (not read)."""
        sources = shard.get("sources")
        return (self.split != "all" and bool(sources)
                and not any(self._keep({"source": s}) for s in sources))

    def _add(self, png: bytes, text: str, words: Optional[list]) -> None:
        spans = None
        if words is not None and len(words) == len(text.split()):
            spans = array("H", (min(65535, max(0, int(v))) for w in words for v in w))
        self._png.append(png)
        self._text.append(text)
        self._spans.append(spans)

    def __len__(self) -> int:
        return len(self._png)

    @property
    def n_with_spans(self) -> int:
        """Lines whose word spans come from the text layer."""
        return sum(s is not None for s in self._spans)

    def _line(self, k: int) -> tuple[np.ndarray, list[str], Optional[list[Span]]]:
        """Line ``k``: `(H, W)` uint8 pixels, its words and their spans (None: unalignable)."""
        a = np.asarray(Image.open(io.BytesIO(self._png[k])).convert("L"), dtype=np.uint8)
        words = self._text[k].split()
        flat = self._spans[k]
        if flat is not None:
            spans = [(flat[n], flat[n + 1]) for n in range(0, len(flat), 2)]
        else:
            spans = pixel_spans(a, len(words))
        return a, words, spans

    def sample(self, rng: random.Random, width: Optional[int] = None) -> tuple[Image.Image, str]:
        """A `height x width` normalised line image and its exact label.

        Deterministic given the state of ``rng`` (the only randomness used).

        Raises:
            RuntimeError: no line gave a piece in :data:`MAX_DRAWS` draws.
        """
        width = width or self.width
        for _ in range(MAX_DRAWS):
            got = self._draw(rng.randrange(len(self)), rng, width)
            if got is not None:
                return got
        raise RuntimeError(f"no line of {len(self)} gave a {width}-px piece in {MAX_DRAWS} draws")

    def _draw(self, k: int, rng: random.Random, width: int) -> Optional[tuple[Image.Image, str]]:
        """A random run of words of line ``k`` that fits ``width``, or None (redraw)."""
        a, words, spans = self._line(k)
        box = ink_box(a)
        if box is None or not words or spans is None:
            return None
        m, _ = _box_scale(box, self.height)
        max_src = max_piece_ink(box, self.height, width)
        i = rng.randrange(len(words))
        if spans[i][1] - spans[i][0] > max_src:
            return None
        j = i + 1
        while j < len(words) and spans[j][1] - spans[i][0] <= max_src:
            j += 1
        # a run that reaches the line's end with room to spare starts earlier instead: inference
        # fills pieces from the line start (lines.split_line), so most pieces are full
        while j == len(words) and i > 0 and spans[j - 1][1] - spans[i - 1][0] <= max_src:
            i -= 1
        if j - i > 1 and rng.random() < SHORT_RUN_PROB:
            j = rng.randint(i + 1, j)
        degrade_seed = rng.getrandbits(64) if rng.random() < self.degrade_prob else None
        while j > i:
            piece, off = cut_words(a, spans, i, j, m)
            first, last = spans[i], spans[j - 1]
            if not ends_have_ink(piece, (first[0] + off, first[1] + off), (last[0] + off, last[1] + off)):
                j -= 1  # e.g. a light-grey word at the end: a shorter run may still do
                continue
            image = Image.fromarray(piece)
            if degrade_seed is not None:  # the same degradation on every retry
                drng = random.Random(degrade_seed)
                if self.scan_share > 0 and drng.random() < self.scan_share:
                    image = scan_like(image, drng)
                else:
                    image = degrade(image, drng, strength=drng.uniform(0.3, 1.0))
            try:  # a piece whose own ink box is flatter than the line's scales wider: shorten
                image = normalize_line(image, self.height, width)
            except ValueError:
                j -= 1
                continue
            label = normalize_text(" ".join(words[i:j])).strip()
            return (image, label) if label else None
        return None

    def alignment(self, limit: Optional[int] = None) -> dict[str, int]:
        """How many lines each sampler can use: text-layer spans vs word gaps in the pixels.

        ``pixel_aligned`` lines are those the pixel-gap method (``lines.sample_words``) can use;
        ``usable`` adds the lines with text-layer spans. Decodes every line: a report, not a hot path.
        """
        n = len(self) if limit is None else min(limit, len(self))
        counts = {"lines": n, "with_spans": 0, "pixel_aligned": 0, "usable": 0}
        for k in range(n):
            a = np.asarray(Image.open(io.BytesIO(self._png[k])).convert("L"), dtype=np.uint8)
            aligned = pixel_spans(a, len(self._text[k].split())) is not None
            has = self._spans[k] is not None
            counts["with_spans"] += has
            counts["pixel_aligned"] += aligned
            counts["usable"] += has or aligned
        return counts
