"""Train the shipped tokenizer on the corpus (data/corpus/corpus.txt.gz) and report its figures.

    python data/tokenizer/train.py [--vocab-size 1024] [--out docencoder/assets/default/tokenizer.json]
"""

from __future__ import annotations

import argparse
import sys

from docencoder.data.corpus import load_corpus
from docencoder.data.tokenizer import DEFAULT_TOKENIZER, DocTokenizer, train_tokenizer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vocab-size", type=int, default=1024)
    ap.add_argument("--out", default=str(DEFAULT_TOKENIZER))
    args = ap.parse_args()
    corpus = load_corpus()
    tok = DocTokenizer(train_tokenizer(corpus, args.vocab_size))
    tok.save(args.out)
    held_out = corpus[::50]
    n_tok = sum(len(tok.encode(p)) for p in held_out)
    n_chr = sum(len(p) for p in held_out)
    print(f"vocab {tok.vocab_size}, {n_chr / n_tok:.2f} chars/token on {len(held_out)} paragraphs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
