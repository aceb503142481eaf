"""Real-PDF line source: word spans from the text layer, cutting runs of words, train/val split."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageDraw
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from docencoder.data.lines import ink_mask, normalize_line
from docencoder.data.pdf_shards import from_pdfs, pdf_samples
from docencoder.data.real_lines import ShardLineSource, cut_words, is_val_document, pixel_spans
from docencoder.data.shards import ShardWriter
from docencoder.data.synth import FALLBACK_PARAGRAPHS, PdfGenConfig, generate_pdf
from docencoder.data.tokenizer import normalize_text
from docencoder.pdf.document import open_pdf
from docencoder.pdf.render import render_page

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEJAVU_OBLIQUE = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf"
#: a code/math line set with gaps too tight for word gaps in the pixels (font, word)
CODE_WORDS = [("RLDejaVu", "return"), ("RLDejaVuO", "f(x)"), ("RLDejaVu", "=="),
              ("RLDejaVuO", "y_1"), ("RLDejaVu", "+"), ("RLDejaVu", "0.5;")]
CODE_GAP_PT = 2.2  # a thin space: above the text layer's word-gap threshold, below the pixels'


def render_pages(pdf, dpi: int, first: int, last: int) -> list:
    """Pages ``first..last`` (0-based, inclusive) rendered as training and the CLI render them."""
    doc = open_pdf(pdf)
    try:
        return [render_page(doc, i, dpi) for i in range(first, last + 1)]
    finally:
        doc.close()


def _fonts() -> None:
    try:
        pdfmetrics.registerFont(TTFont("RLDejaVu", DEJAVU))
        pdfmetrics.registerFont(TTFont("RLDejaVuO", DEJAVU_OBLIQUE))
    except Exception:  # noqa: BLE001 - font package missing
        pytest.skip("fonts-dejavu-core not installed")


def _code_pdf() -> bytes:
    """Page 1: the code line; page 2 + k: word k alone, at the same place."""
    _fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(612, 792))

    def line(only=None):
        x = 72.0
        for k, (font, word) in enumerate(CODE_WORDS):
            if only is None or only == k:
                c.setFont(font, 10)
                c.drawString(x, 700, word)
            x += c.stringWidth(word, font, 10) + CODE_GAP_PT
        c.showPage()

    line()
    for k in range(len(CODE_WORDS)):
        line(only=k)
    c.save()
    return buf.getvalue()


@pytest.mark.parametrize("dpi", [100, 150])
def test_text_layer_spans_cut_single_words_cleanly(dpi):
    pdf = _code_pdf()
    (result,) = list(pdf_samples(pdf, dpi=dpi, kinds=("line",), max_pages=1))
    ((kind, crop, text, meta),) = result.samples
    assert text == " ".join(w for _, w in CODE_WORDS)
    spans = [tuple(s) for s in meta["words"]]
    assert len(spans) == len(CODE_WORDS)
    a = np.asarray(crop)  # (H, W)
    assert pixel_spans(a, len(spans)) is None  # the old sampler could not use this line
    x0, y0, x1, y1 = meta["box"]
    solos = render_pages(pdf, dpi, 1, len(CODE_WORDS))
    for k, page in enumerate(solos):
        solo = np.asarray(page.convert("L"))[y0:y1, x0:x1]  # word k alone, same crop
        piece, off = cut_words(a, spans, k, k + 1, margin=0)
        left, right = -off, -off + piece.shape[1]
        # the whole word is inside the cut ...
        assert (solo[:, :left] < 250).sum() == 0 and (solo[:, right:] < 250).sum() == 0, k
        assert ink_mask(piece).sum() > 10, k
        # ... and nothing of its neighbours is: the cut equals the word drawn alone
        assert np.abs(solo[:, left:right].astype(int) - piece.astype(int)).max() <= 8, k


def test_cut_words_stops_at_midpoints_and_pads_white():
    a = np.full((20, 60), 255, dtype=np.uint8)
    a[5:15, 10:20] = 0  # word 0
    a[5:15, 21:30] = 0  # word 1, one column away
    a[5:15, 36:50] = 0  # word 2: its span starts a column early (italic overhang)
    spans = [(10, 20), (21, 30), (29, 50)]
    piece, off = cut_words(a, spans, 1, 2, margin=3)
    # from the midpoint to word 0 (column 20) to the middle of the overlap (30, exclusive)
    assert off == 3 - 20 and piece.shape == (20, 10 + 2 * 3)
    cols = np.flatnonzero((piece < 128).any(0))
    assert cols.min() == 21 + off and cols.max() == 29 + off  # word 1 whole, no word 0 or 2
    assert (piece[:, :3] == 255).all() and (piece[:, -3:] == 255).all()
    piece, off = cut_words(a, spans, 0, 3, margin=0)  # everything
    assert piece.shape == (20, 51 - 9) and off == -9  # first span - 1 .. last span + 1


# ---------------------------------------------------------------------- the source
@pytest.fixture(scope="module")
def shard_dir(tmp_path_factory):
    """Shards of four generated documents plus the code line, as ``from-pdfs`` writes them."""
    root = tmp_path_factory.mktemp("real_lines")
    src = root / "pdfs"
    src.mkdir()
    cfg = PdfGenConfig(pages=(1, 1), dpi=(100, 100))
    for i in range(4):
        (src / f"paper{i}.pdf").write_bytes(generate_pdf(FALLBACK_PARAGRAPHS, seed=i, cfg=cfg).pdf)
    (src / "code.pdf").write_bytes(_code_pdf())
    summary = from_pdfs(src, root / "shards", dpi=100, max_pages=1, kinds=("line",), log=lambda m: None)
    assert summary["lines_with_words"] == summary["samples"]["line"] > 40
    return root / "shards"


def _is_run_of(label: str, lines: list[str]) -> bool:
    return any(f" {label} " in f" {normalize_text(t)} " for t in lines)


def _texts(source: ShardLineSource) -> list[str]:
    return list(source._text)


@pytest.mark.parametrize("width", [64, 96, 256, 512])
def test_sample_size_label_and_determinism(shard_dir, width):
    source = ShardLineSource([shard_dir], split="all")
    assert len(source) == source.n_with_spans
    texts = _texts(source)
    draws = [source.sample(random.Random(seed), width) for seed in range(25)]
    again = [source.sample(random.Random(seed), width) for seed in range(25)]
    for (image, label), (image2, label2) in zip(draws, again):
        assert image.mode == "L" and image.size == (width, 32)
        assert label and _is_run_of(label, texts), label
        assert label == label2 and image.tobytes() == image2.tobytes()
    assert any((np.asarray(im) < 128).any() for im, _ in draws)


def test_wider_pieces_hold_more_words(shard_dir):
    source = ShardLineSource([shard_dir], split="all", degrade_prob=0.0)
    rng = random.Random(0)
    narrow = [len(source.sample(rng, 128)[1].split()) for _ in range(60)]
    wide = [len(source.sample(rng, 512)[1].split()) for _ in range(60)]
    assert np.mean(wide) > 2 * np.mean(narrow)
    assert max(wide) > 4


def test_piece_is_the_normalised_cut(shard_dir):
    """Without degradation, a draw is normalize_line of the cut of its words."""
    source = ShardLineSource([shard_dir], split="all", degrade_prob=0.0)
    code = next(k for k, t in enumerate(source._text) if t.startswith("return"))
    a, words, spans = source._line(code)
    for i in range(len(words)):
        piece, _ = cut_words(a, spans, i, i + 1, margin=2)
        image = normalize_line(Image.fromarray(piece))
        assert (np.asarray(image) < 128).any(), words[i]
    rng = random.Random(3)
    got = [source._draw(code, rng, 64) for _ in range(40)]
    labels = {g[1] for g in got if g is not None}
    assert labels and labels <= {w for _, w in CODE_WORDS} | {" ".join(w for _, w in CODE_WORDS[i:i + 2])
                                                              for i in range(len(CODE_WORDS))}


def test_degradation_changes_pixels_not_labels(shard_dir):
    clean = ShardLineSource([shard_dir], split="all", degrade_prob=0.0)
    dirty = ShardLineSource([shard_dir], split="all", degrade_prob=1.0)
    pairs = [(clean.sample(random.Random(s)), dirty.sample(random.Random(s))) for s in range(20)]
    # the same line and run (a degraded piece that no longer fits loses its last word, and a
    # clean one that did not fit may fit once rotated)
    same = sum(c[1] == d[1] for c, d in pairs)
    assert same >= 15
    for (_, a), (_, b) in pairs:
        short, long = sorted((a.split(), b.split()), key=len)
        assert long[:len(short)] == short
    changed = sum(c[0].tobytes() != d[0].tobytes() for c, d in pairs if c[1] == d[1])
    assert changed >= same // 2  # degrade() draws each effect by chance: some draws get none


def test_split_by_document(shard_dir):
    everything = ShardLineSource([shard_dir], split="all")
    assert everything.documents == {"paper0.pdf", "paper1.pdf", "paper2.pdf", "paper3.pdf", "code.pdf"}
    val_docs = {d for d in everything.documents if is_val_document(d, 0.5)}
    assert 0 < len(val_docs) < 5  # (fixed by sha1 of the names)
    train = ShardLineSource([shard_dir], split="train", val_fraction=0.5)
    val = ShardLineSource([shard_dir], split="val", val_fraction=0.5)
    assert val.documents == val_docs and train.documents == everything.documents - val_docs
    assert len(train) + len(val) == len(everything)
    assert len(ShardLineSource([shard_dir], split="train", val_fraction=0.0)) == len(everything)
    with pytest.raises(ValueError, match="no val line samples"):
        ShardLineSource([shard_dir], split="val", val_fraction=0.0)
    with pytest.raises(ValueError, match="split"):
        ShardLineSource([shard_dir], split="test")


def test_is_val_document_is_stable_and_proportional():
    names = [f"pkg{i}/manual.pdf" for i in range(4000)]
    share = sum(is_val_document(n, 0.1) for n in names) / len(names)
    assert 0.085 < share < 0.115
    assert [is_val_document(n, 0.1) for n in names[:50]] == [is_val_document(n, 0.1) for n in names[:50]]
    assert is_val_document("a.pdf", 1.0) and not is_val_document("a.pdf", 0.0)


def _drawn_line(words: list[str], gap: int) -> Image.Image:
    img = Image.new("L", (40 + 60 * len(words) + gap * len(words), 40), 255)
    draw = ImageDraw.Draw(img)
    x = 10
    for w in words:
        draw.rectangle((x, 12, x + 40, 28), fill=0)  # a "word": one solid block
        x += 40 + gap
    return img


def test_pixel_gap_fallback_for_samples_without_spans(tmp_path):
    """Older shards (no ``words``): lines whose gaps match the label are cut at the gaps,
    the others are never drawn."""
    with ShardWriter(tmp_path, prefix="old") as w:
        w.write("aligned", _drawn_line(["a", "b", "c"], gap=20), "alpha beta gamma",
                {"kind": "line", "source": "old.pdf"})
        w.write("unaligned", _drawn_line(["a", "b", "c"], gap=20), "one two three four",
                {"kind": "line", "source": "old.pdf"})
        w.write("page", Image.new("L", (8, 8), 255), "not a line", {"kind": "page", "source": "old.pdf"})
    source = ShardLineSource([tmp_path], split="all", degrade_prob=0.0)
    assert len(source) == 2 and source.n_with_spans == 0
    assert source.alignment() == {"lines": 2, "with_spans": 0, "pixel_aligned": 1, "usable": 1}
    rng = random.Random(0)
    labels = {source.sample(rng, 128)[1] for _ in range(40)}
    assert labels == {"alpha", "beta", "gamma"}  # one 40-px block fills 128 px at height 32
    labels = [source.sample(rng, 512)[1] for _ in range(80)]
    assert set(labels) <= {"alpha", "beta", "gamma", "alpha beta", "beta gamma", "alpha beta gamma"}
    # the whole line fits 512 px: a run starting mid-line slides back to fill the piece, as
    # inference fills pieces from the line start, so only shortened draws (1 in 4) are partial
    assert labels.count("alpha beta gamma") > 0.6 * len(labels)


def test_ink_threshold_percentile_is_numpys():
    import numpy as np

    from docencoder.data.lines import _percentile_90

    rng = np.random.default_rng(3)
    for n in list(range(1, 60)) + [97, 512, 4001]:
        a = rng.integers(0, 256, (1, n)).astype(np.uint8)
        assert _percentile_90(a) == np.percentile(a, 90), n
    assert _percentile_90(np.full((3, 7), 9, np.uint8)) == 9.0
