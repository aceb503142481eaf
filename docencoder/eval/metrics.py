"""Page-level OCR metrics: normalised edit distance, CER, WER and an order-free bag-of-words F1.

Why these four:

* **Normalised edit distance** (Levenshtein / max length) is the headline number of OmniDocBench and
  DeepSeek-OCR; it lies in [0, 1] whatever the lengths, so pages average fairly.
* **CER / WER** (errors / reference length) are what OCR papers and Tesseract reports quote; they
  can exceed 1 when the prediction hallucinates.
* **Bag-of-words F1** ignores order. A PDF's text layer gives two-column pages, sidebars and tables
  in content-stream order, which an OCR system need not (and often should not) reproduce, so the
  order-dependent scores above punish a correct reading in another order. Reporting both shows
  whether an error is in *what* was read or only in *where*.

Both texts go through :func:`normalize` first (NFKC, one form of each quote and dash, collapsed
whitespace), as OmniDocBench does, so typographic variants that carry no information do not count.
Distances come from rapidfuzz and jiwer.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Iterable, Optional

import jiwer
from rapidfuzz.distance import Levenshtein

#: typographic variants mapped onto one ASCII form (after NFKC, which leaves these alone)
_QUOTES = {c: "'" for c in "\u2018\u2019\u201a\u201b\u2032\u2035\u00b4\u0060"}
_QUOTES.update({c: '"' for c in "\u201c\u201d\u201e\u201f\u2033\u2036\u00ab\u00bb"})
_DASHES = {c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043"}
#: characters that are invisible on the page: soft hyphen, zero-width space/joiners, BOM
_INVISIBLE = {c: "" for c in "\u00ad\u200b\u200c\u200d\u2060\ufeff"}
_TRANSLATE = str.maketrans({**_QUOTES, **_DASHES, **_INVISIBLE})
_WHITESPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """The comparison form of a text: NFKC, ASCII quotes/dashes, single spaces, no line breaks.

    Line breaks become spaces because line wrapping is layout, not content: an OCR system that
    joins a paragraph into one line has read the same words.
    """
    text = unicodedata.normalize("NFKC", text).translate(_TRANSLATE)
    return _WHITESPACE.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Whitespace-separated tokens of an already normalised text."""
    return text.split()


@dataclass
class PageScore:
    """Every count and score of one page; counts are kept so a corpus can be pooled exactly."""

    key: str
    ref_chars: int
    pred_chars: int
    edit_distance: int  # character Levenshtein distance between the normalised texts
    ned: float  # edit_distance / max(ref_chars, pred_chars); 0 when both are empty
    cer: float  # edit_distance / ref_chars
    ref_words: int
    pred_words: int
    word_errors: int  # substitutions + deletions + insertions over words
    wer: float  # word_errors / ref_words
    bow_hits: int  # size of the multiset intersection of reference and predicted words
    bow_precision: float
    bow_recall: float
    bow_f1: float
    missing: bool = False  # no prediction was found for this page (scored as empty)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


def _ratio(num: float, den: float, empty: float) -> float:
    """``num / den``, or ``empty`` when the denominator is 0 (both texts empty -> perfect)."""
    return num / den if den else empty


def _f1(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def _word_errors(ref_words: list[str], pred_words: list[str]) -> int:
    """Word-level Levenshtein distance (jiwer), defined also for an empty reference."""
    if not ref_words:
        return len(pred_words)
    if not pred_words:
        return len(ref_words)
    out = jiwer.process_words(" ".join(ref_words), " ".join(pred_words))
    return out.substitutions + out.deletions + out.insertions


def score_page(pred: str, ref: str, key: str = "", missing: bool = False) -> PageScore:
    """Score one predicted page text against its reference.

    Args:
        pred: the OCR output for the page (any whitespace/line breaks).
        ref: the ground-truth text of the page.
        key: a name for the page, carried into the result.
        missing: mark the score as coming from a page without prediction.

    Returns:
        A :class:`PageScore`; an empty reference with an empty prediction scores perfectly, an
        empty reference with any prediction has CER/WER of 0 only if the prediction is empty too
        (else the error count is reported against a denominator of 1).
    """
    p, r = normalize(pred), normalize(ref)
    dist = Levenshtein.distance(p, r)
    ned = Levenshtein.normalized_distance(p, r)  # dist / max(len(p), len(r)); 0 for two empties
    pw, rw = words(p), words(r)
    werr = _word_errors(rw, pw)
    hits = sum((Counter(pw) & Counter(rw)).values())
    precision = _ratio(hits, len(pw), 1.0 if not rw else 0.0)
    recall = _ratio(hits, len(rw), 1.0)
    return PageScore(
        key=key, ref_chars=len(r), pred_chars=len(p), edit_distance=dist, ned=ned,
        cer=dist / max(len(r), 1), ref_words=len(rw), pred_words=len(pw), word_errors=werr,
        wer=werr / max(len(rw), 1), bow_hits=hits, bow_precision=precision, bow_recall=recall,
        bow_f1=_f1(precision, recall) if (pw or rw) else 1.0, missing=missing)


def summarize(scores: Iterable[PageScore]) -> dict:
    """Corpus figures over pages.

    ``ned`` is the mean over pages (OmniDocBench's page-averaged edit distance); ``cer``, ``wer``
    and the bag-of-words scores are pooled over all characters/words (micro averages), so a long
    page weighs more than a short one, as in Tesseract's and jiwer's corpus-level reports.
    """
    scores = list(scores)
    n = len(scores)
    if not n:
        return {"pages": 0}
    ref_chars = sum(s.ref_chars for s in scores)
    ref_words = sum(s.ref_words for s in scores)
    pred_words = sum(s.pred_words for s in scores)
    hits = sum(s.bow_hits for s in scores)
    precision = _ratio(hits, pred_words, 1.0 if not ref_words else 0.0)
    recall = _ratio(hits, ref_words, 1.0)
    return {
        "pages": n,
        "missing": sum(s.missing for s in scores),
        "ned": sum(s.ned for s in scores) / n,
        "cer": sum(s.edit_distance for s in scores) / max(ref_chars, 1),
        "wer": sum(s.word_errors for s in scores) / max(ref_words, 1),
        "bow_precision": precision,
        "bow_recall": recall,
        "bow_f1": _f1(precision, recall) if (pred_words or ref_words) else 1.0,
        "ref_chars": ref_chars,
        "ref_words": ref_words,
    }


def score_pages(preds: dict[str, str], refs: dict[str, str],
                missing_ok: bool = True) -> tuple[list[PageScore], dict]:
    """Score every reference page; a page without prediction counts as an empty prediction.

    Args:
        preds: page key -> predicted text.
        refs: page key -> reference text (the pages that are scored).
        missing_ok: if False, a reference page without prediction raises ``KeyError``.

    Returns:
        (per-page scores in reference order, :func:`summarize` of them plus ``extra`` = the number
        of predicted pages that have no reference and were ignored).
    """
    scores = []
    for key, ref in refs.items():
        pred: Optional[str] = preds.get(key)
        if pred is None and not missing_ok:
            raise KeyError(f"no prediction for page {key!r}")
        scores.append(score_page(pred or "", ref, key=key, missing=pred is None))
    summary = summarize(scores)
    summary["extra"] = sum(1 for k in preds if k not in refs)
    return scores, summary
