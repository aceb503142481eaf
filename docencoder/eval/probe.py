"""The reading probe: does the model read what it sees, or guess familiar words?

Lines set in 10 pt TeX Gyre Termes (a Times face, the commonest whitepaper body type) at 150 DPI,
one line an image, read by ``OCR().read_image`` — the same layout and reader path as a page —
and by Tesseract 5 (``--psm 7``, one line) on the same pixels, in three sets:

- ``common``: prose of everyday words, which a language prior predicts well;
- ``rare``: real words from the word list's held-out slice (:func:`docencoder.data.vocab.held_out`:
  never in the synthetic training lines), rare enough that the prior cannot predict them;
- ``random``: random lowercase letter strings, which only reading gets right.

A model that reads scores alike on the three; one that guesses does well on ``common`` only.
Character error rate is summed over the set (edit distance / reference characters), after the
dev set's text normalisation.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

TERMES = Path("/usr/share/texmf/fonts/opentype/public/tex-gyre/texgyretermes-regular.otf")
#: everyday words (the commonest of written English) for the ``common`` set
_COMMON = ("the of and to in is that for it as was with be by on not he this are or his from at "
           "which but have an they you were her she there been one all we their has would when "
           "if so no will more can time new some could them other than these two may then do first "
           "any my now such like our over man me even most made after also did many before must "
           "through back years where much your way well down should because each just those people "
           "how too little state good very make world still own see men work long get here between "
           "both life being under never day same another know while last might us great old year "
           "off come since against go came right used take three small large next early young "
           "important few public found since table results paper method model data section").split()

SETS = ("common", "rare", "random")


@dataclass(frozen=True)
class ProbeConfig:
    lines: int = 30  # lines per set
    words: int = 7  # words per line
    pt: float = 10.0
    dpi: int = 150
    seed: int = 0
    font: Path = TERMES


def probe_lines(cfg: ProbeConfig) -> dict[str, list[str]]:
    """The probe's texts per set, a fixed function of ``cfg.seed``."""
    from docencoder.data.vocab import load_words

    rng = random.Random(cfg.seed)
    rare = [w for w in load_words("probe") if w.isalpha() and w.islower() and 6 <= len(w) <= 14]
    gen: dict[str, Callable[[], str]] = {
        "common": lambda: rng.choice(_COMMON),
        "rare": lambda: rng.choice(rare),
        "random": lambda: "".join(rng.choice(string.ascii_lowercase)
                                  for _ in range(rng.randint(3, 10))),
    }
    return {name: [" ".join(gen[name]() for _ in range(cfg.words)) for _ in range(cfg.lines)]
            for name in SETS}


def render_line(text: str, cfg: ProbeConfig) -> Image.Image:
    """One line on white, as a strip of a page rendered at ``cfg.dpi`` (a 1/4-inch margin)."""
    px = round(cfg.pt * cfg.dpi / 72)
    font = ImageFont.truetype(str(cfg.font), px)
    margin = cfg.dpi // 4
    w = int(font.getlength(text)) + 2 * margin
    img = Image.new("L", (w, px * 2 + 2 * margin), 255)
    ImageDraw.Draw(img).text((margin, margin + px // 2), text, font=font, fill=0)
    return img


@dataclass
class ProbeResult:
    system: str
    cer: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    examples: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def _cer(preds: Sequence[str], refs: Sequence[str]) -> float:
    from .metrics import normalize

    errs = sum(Levenshtein.distance(normalize(p), normalize(r)) for p, r in zip(preds, refs))
    return errs / max(1, sum(len(normalize(r)) for r in refs))


def run_probe(cfg: ProbeConfig, read: Callable[[list[Image.Image]], list[str]],
              system: str) -> ProbeResult:
    """Read every probe line with ``read`` (images -> texts) and score each set."""
    res = ProbeResult(system)
    start = time.perf_counter()
    for name, texts in probe_lines(cfg).items():
        preds = read([render_line(t, cfg) for t in texts])
        res.cer[name] = _cer(preds, texts)
        res.examples[name] = [(r, p) for r, p in zip(texts, preds) if r != p][:3]
    res.seconds = time.perf_counter() - start
    return res


def docencoder_reader(model: Optional[Path], quantize: str, ctc_weight: Optional[float] = None,
                      beam: Optional[int] = None) -> Callable[[list[Image.Image]], list[str]]:
    """Read with ``OCR``; ``ctc_weight``/``beam`` override the decoding defaults (a model
    with a CTC head decodes jointly, see :class:`~docencoder.ocr.base_reader.DecodingConfig`)."""
    import dataclasses

    from docencoder.ocr.api import OCR
    from docencoder.ocr.base_reader import DecodingConfig

    kwargs: dict = {"quantize": quantize}
    changes = {k: v for k, v in (("ctc_weight", ctc_weight), ("beam", beam)) if v is not None}
    if changes:
        kwargs["generation"] = dataclasses.replace(DecodingConfig(), **changes)
    if model is not None:
        kwargs["model_dir"] = str(model)
    ocr = OCR(**kwargs)
    return lambda images: [" ".join(ocr.read_image(im).split()) for im in images]


def tesseract_reader(dpi: int) -> Callable[[list[Image.Image]], list[str]]:
    from .tesseract import TesseractConfig, run_page

    tcfg = TesseractConfig(psm=7, dpi=dpi)

    def read(images: list[Image.Image]) -> list[str]:
        out = []
        with tempfile.TemporaryDirectory() as d:
            for i, im in enumerate(images):
                path = Path(d) / f"{i}.png"
                im.save(path, dpi=(dpi, dpi))
                page = run_page(path, tcfg)
                out.append(" ".join(page.text.split()))
        return out
    return read


def register_probe(bench_subparsers) -> None:
    """Add ``docencoder bench probe``."""
    p = bench_subparsers.add_parser(
        "probe", help="reading probe: common prose vs rare words vs random letters (CER)",
        description=__doc__.splitlines()[0] + " Lines in 10 pt TeX Gyre Termes at 150 DPI, "
        "read by docencoder and Tesseract 5 on the same pixels.")
    p.add_argument("--model", type=Path, action="append", default=None,
                   help="model directory; repeat to compare (default: the shipped model)")
    p.add_argument("--lines", type=int, default=ProbeConfig.lines, help="lines per set")
    p.add_argument("--quantize", default="none", help="auto|int8|none (default none)")
    p.add_argument("--no-tesseract", action="store_true", help="skip the Tesseract baseline")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ctc-weight", type=float, action="append", default=None,
                   help="joint CTC/attention decoding weight for models with a CTC head (0 = "
                   "greedy); repeat to compare (default: the reader's)")
    p.add_argument("--beam", type=int, default=None, help="beam of the joint search (default: the reader's)")
    p.set_defaults(func=_probe_command)


def _probe_command(args: argparse.Namespace) -> int:
    from .report import markdown_table

    cfg = ProbeConfig(lines=args.lines, seed=args.seed)
    if not cfg.font.is_file():
        print(f"docencoder bench probe: {cfg.font} not found (Debian's fonts-texgyre)", file=sys.stderr)
        return 2
    results = []
    try:
        for model in args.model or [None]:
            for lam in args.ctc_weight or [None]:
                name = f"docencoder {model.name if model else 'default'}"
                if lam is not None:
                    name += f" ctc {lam:g}" + (f" beam {args.beam}" if args.beam else "")
                reader = docencoder_reader(model, args.quantize, lam, args.beam)
                results.append(run_probe(cfg, reader, name))
        if not args.no_tesseract:
            results.append(run_probe(cfg, tesseract_reader(cfg.dpi), "tesseract --psm 7"))
    except (OSError, ValueError) as e:
        print(f"docencoder bench probe: {e}", file=sys.stderr)
        return 2
    print(markdown_table(["system", *(f"CER {s} ↓" for s in SETS), "seconds"],
                         [[r.system, *(r.cer[s] for s in SETS), r.seconds] for r in results]))
    for r in results:
        for s in SETS:
            for ref, pred in r.examples[s][:2]:
                print(f"  {r.system} [{s}] {ref!r} -> {pred!r}")
    return 0
