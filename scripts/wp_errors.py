"""Classify OCR word errors of a ``docencoder bench ocr`` run, order-free, per system and input.

    .venv/bin/python scripts/wp_errors.py out/bench_wp [--dev-dir data/devset_wp] [--examples 6]

Why order-free: on two-column pages a system that reads across the gutter scrambles the word order,
and an alignment would then call every word an error. Here the ground truth's words missing from a
prediction are paired with the predicted words that are not in the ground truth (greedy, most
similar first, similarity >= 0.5), and each pair or leftover is put in one class:

* ``rare->familiar``: a word the training corpus (``data/corpus/corpus.txt.gz``) has at most
  ``RARE`` times read as a word it has more often (the language prior winning over the pixels);
* ``rare->mangled``: a rare word read as another rare/unknown string;
* ``common``: a word the corpus knows read wrongly; ``case/punct``: only case or punctuation differ;
* ``number``, ``math/symbol``, ``email/url``: the ground-truth word holds digits, non-ASCII
  symbols, or ``@`` / ``://`` / ``www.``;
* ``lost``: missing words with no partner (lines or blocks not read at all);
* ``extra``: predicted words with no partner (hallucinated or repeated text).

Also: the share of ground-truth words read exactly (bag of words), by how often the training
corpus has the word (``rare`` <= 2, ``mid`` 3-1000, ``common`` > 1000; alphabetic words of 4+
letters), per layout: whether the model reads what it sees or what it expects.

And per page: ``order`` pages, whose bag of words is right (F1 >= 0.9) but whose edit distance is
high (NED >= 0.3): the text is all there, in the wrong order (columns read across).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from docencoder.eval.devset import load_manifest  # noqa: E402
from docencoder.eval.metrics import normalize  # noqa: E402

RARE = 2
MIN_SIMILARITY = 0.5
CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus" / "corpus.txt.gz"
_STRIP = re.compile(r"^[^\w]+|[^\w]+$")


def corpus_counts(path: Path = CORPUS) -> Counter:
    counts: Counter = Counter()
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            counts.update(_STRIP.sub("", w).lower() for w in line.split())
    return counts


def _key(word: str) -> str:
    return _STRIP.sub("", word).lower()


def classify(gt_word: str, pred_word: str | None, counts: Counter) -> str:
    if pred_word is None:
        return "lost"
    if _key(gt_word) == _key(pred_word):
        return "case/punct"
    if "@" in gt_word or "://" in gt_word or "www." in gt_word:
        return "email/url"
    if any(c.isdigit() for c in gt_word):
        return "number"
    if any(ord(c) > 127 and not c.isalpha() for c in gt_word) or any(
            "\u0370" <= c <= "\u03ff" for c in gt_word):
        return "math/symbol"
    g, p = counts[_key(gt_word)], counts[_key(pred_word)]
    if g <= RARE:
        return "rare->familiar" if p > max(g, RARE) else "rare->mangled"
    return "common"


def page_errors(pred: str, gt: str, counts: Counter) -> list[tuple[str, str, str | None]]:
    """[(class, ground-truth word, predicted word or None)] plus ("extra", "", word)."""
    ref, hyp = Counter(normalize(gt).split()), Counter(normalize(pred).split())
    missing = list((ref - hyp).elements())
    extra = list((hyp - ref).elements())
    pairs = []
    for g in missing:
        best, best_sim = None, MIN_SIMILARITY
        for i, p in enumerate(extra):
            if p is None:
                continue
            sim = Levenshtein.normalized_similarity(g, p)
            if sim > best_sim:
                best, best_sim = i, sim
        if best is None:
            pairs.append((classify(g, None, counts), g, None))
        else:
            pairs.append((classify(g, extra[best], counts), g, extra[best]))
            extra[best] = None
    pairs.extend(("extra", "", p) for p in extra if p is not None)
    return pairs


#: corpus-frequency bands of :func:`word_accuracy`
BANDS = (("rare", 0, RARE), ("mid", RARE + 1, 1000), ("common", 1001, 10 ** 12))


def word_accuracy(pairs, counts: Counter) -> dict[str, tuple[int, int]]:
    """{band: (words read exactly, words)} over [(prediction, ground truth)] pages."""
    out = {name: [0, 0] for name, _, _ in BANDS}
    for pred, gt in pairs:
        ref, hyp = Counter(normalize(gt).split()), Counter(normalize(pred).split())
        for word, n in ref.items():
            k = _key(word)
            if len(k) < 4 or not k.isalpha():
                continue
            for name, lo, hi in BANDS:
                if lo <= counts[k] <= hi:
                    out[name][0] += min(n, hyp[word])
                    out[name][1] += n
    return {k: (v[0], v[1]) for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", type=Path, help="the bench's --out folder (bench_ocr.json)")
    ap.add_argument("--dev-dir", type=Path, default=None)
    ap.add_argument("--examples", type=int, default=6)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    result = json.loads((args.bench / "bench_ocr.json").read_text())
    dev_dir = args.dev_dir or Path(result.get("dev_dir", "data/devset"))
    rows = {r.id: r for r in load_manifest(dev_dir)}
    gt = {i: (dev_dir / rows[i].gt).read_text(encoding="utf-8") for i in result["pages"]}
    counts = corpus_counts()
    report = {}
    for run in result["runs"]:
        name = f"{run['system']} {run['variant']}"
        tally: Counter = Counter()
        examples: dict[str, list] = defaultdict(list)
        n_words = 0
        order_pages = []
        for page in run["pages"]:
            pid = page["key"]
            pred = run["texts"].get(pid, "")
            n_words += len(normalize(gt[pid]).split())
            errs = page_errors(pred, gt[pid], counts)
            for cls, g, p in errs:
                tally[cls] += 1
                if len(examples[cls]) < 200:
                    examples[cls].append((pid, g, p))
            if page["bow_f1"] >= 0.9 and page["ned"] >= 0.3:
                order_pages.append(pid)
        accuracy = {}
        for layout in sorted({rows[p["key"]].layout for p in run["pages"]}):
            acc = word_accuracy([(run["texts"].get(p["key"], ""), gt[p["key"]])
                                 for p in run["pages"] if rows[p["key"]].layout == layout], counts)
            accuracy[layout] = acc
            print(f"{name} {layout}: words read exactly: " + ", ".join(
                f"{band} {hit / max(n, 1):.3f} ({n})" for band, (hit, n) in acc.items()))
        report[name] = {"words": n_words, "accuracy": accuracy, "classes": dict(tally), "order_pages": order_pages,
                        "examples": {k: v[:args.examples * 4] for k, v in examples.items()}}
        print(f"\n## {name}: {n_words} ground-truth words; order pages: {len(order_pages)}")
        for cls, n in tally.most_common():
            ex = examples[cls]
            step = max(1, len(ex) // args.examples)
            shown = "; ".join(f"{g}->{p}" if cls != "extra" else f"+{p}"
                              for _, g, p in ex[::step][:args.examples])
            print(f"- {cls}: {n} ({100 * n / max(n_words, 1):.1f} %)  e.g. {shown}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
