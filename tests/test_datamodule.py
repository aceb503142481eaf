"""The line batch stream of dynamic-width models: one width per batch, prefixes that match it,
batches that are a pure function of (seed, b)."""

from __future__ import annotations

import random

import pytest
import torch

from docencoder.data.datamodule import LineBatchStream, full_width, mixed_widths
from docencoder.data.lines import LineGenerator, LineGeneratorConfig, ink_box
from docencoder.model import get_config


def _stream(tokenizer, widths, seed=0):
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    corpus = ["the quick brown fox jumps over the lazy dog and keeps on running far away"] * 4
    gen = LineGenerator(corpus, LineGeneratorConfig(degrade_prob=0.0))
    return cfg, LineBatchStream(gen.sample, tokenizer, 3, seed, lambda w: cfg.prefix_length(width=w),
                                48, widths=widths, full=512)


def test_mixed_widths_are_units_and_half_full():
    draw = mixed_widths(512, 32)
    ws = [draw(random.Random(i)) for i in range(400)]
    assert all(w % 32 == 0 and 64 <= w <= 512 for w in ws)
    assert 0.4 < ws.count(512) / len(ws) < 0.6
    assert len(set(ws)) > 10
    assert {full_width(512)(random.Random(i)) for i in range(20)} == {512}


def test_batches_have_one_width_matching_prefix_and_are_deterministic(tokenizer):
    cfg, stream = _stream(tokenizer, mixed_widths(512, 32))
    seen = set()
    for b in range(12):
        batch = stream.batch(b)
        W = batch.pixel_values.shape[-1]
        seen.add(W)
        slots = (batch.input_ids == cfg.tokens.image_id).sum(1)
        assert torch.all(slots == cfg.prefix_length(width=W))
        again = stream.batch(b)
        assert torch.equal(batch.pixel_values, again.pixel_values) and batch.texts == again.texts
    assert len(seen) > 2  # widths vary between batches


def test_narrow_lines_are_filled_not_clipped(tokenizer):
    gen = LineGenerator(["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu"] * 3,
                        LineGeneratorConfig(degrade_prob=0.0))
    for seed in range(6):
        img, text = gen.sample(random.Random(seed), 128)
        assert img.size == (128, 32) and text
        box = ink_box(__import__("numpy").asarray(img))
        assert box is not None and box[3] < 128


def test_fonts_know_their_glyphs():
    from docencoder.data.fonts import available_fonts

    fonts = available_fonts()
    assert all(f.covers("Hello, world 123") for f in fonts)
    assert not all(f.covers("ω≈∑") for f in fonts)  # some faces lack Greek and math: detected
    assert any(f.covers("ω") for f in fonts)


def test_every_drawn_character_has_a_glyph_and_mixed_lines_render(tokenizer):
    import numpy as np

    from docencoder.data.lines import code_snippet, synthetic_snippet

    corpus = ["alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi"] * 3
    gen = LineGenerator(corpus, LineGeneratorConfig(degrade_prob=0.0, synthetic_prob=0.5,
                                                    mixed_prob=1.0, code_prob=1.0))
    for seed in range(40):
        img, text = gen.sample(random.Random(seed), 512)
        assert text and img.size == (512, 32)
        assert (np.asarray(img) < 128).any()  # ink drawn
    assert "(" in code_snippet(random.Random(0)) or "<" in code_snippet(random.Random(0))
    assert synthetic_snippet(random.Random(3))


def test_a_flat_glyph_wider_than_a_narrow_piece_still_gives_a_line():
    gen = LineGenerator(["—"] * 3, LineGeneratorConfig(degrade_prob=0.0, synthetic_prob=0.0,
                                                         mixed_prob=0.0))
    for seed in range(5):  # used to loop forever: one char can't be shortened
        img, text = gen.sample(random.Random(seed), 32)
        assert img.size == (32, 32) and text == "—"


def test_program_output_lines_render_at_every_width():
    """Rules of one character (flat: no x-height) and number rows must always give a line."""
    import numpy as np

    from docencoder.data.lines import output_snippet

    kinds = {output_snippet(random.Random(seed), 40)[:1] for seed in range(60)}
    assert {"[", "*"} & kinds and any(k.isdigit() or k == "-" for k in kinds)
    gen = LineGenerator(["unused"], LineGeneratorConfig(degrade_prob=0.0, code_prob=1.0,
                                                        output_prob=1.0, monospace_weight=1.0))
    for seed in range(40):
        width = (64, 128, 512)[seed % 3]
        img, text = gen.sample(random.Random(seed), width)
        assert text and img.size == (width, 32)
        assert (np.asarray(img) < 128).any()


def test_monospace_weight_sets_the_typewriter_share():
    """The other face classes keep their relative weights; the weights still sum to 1."""
    from docencoder.data.lines import KIND_WEIGHTS, kind_weights

    w = kind_weights(0.3)
    assert w["monospace"] == 0.3 and abs(sum(w.values()) - 1.0) < 1e-9
    assert abs(w["times"] / w["helvetica"] - KIND_WEIGHTS["times"] / KIND_WEIGHTS["helvetica"]) < 1e-9
    assert kind_weights(None) == KIND_WEIGHTS
    with pytest.raises(ValueError):
        kind_weights(1.5)


def test_pieces_end_at_word_spaces_not_at_gaps_beside_narrow_letters():
    """Packing ends a piece at a wide gap in its second half: with segments whose gaps are 4 px
    (inside a word) and 12 px (word spaces), no piece ends at a 4-px gap; all pieces fit."""
    from docencoder.data.lines import piece_spans

    segs, x = [], 0
    for k in range(30):  # words of 3 segments: gaps 4, 4, then a 12-px word space
        segs.append((x, x + 20))
        x += 20 + (12 if k % 3 == 2 else 4)
    pieces = piece_spans(segs, 200)
    assert pieces[0][0] == 0 and pieces[-1][1] == segs[-1][1]
    ends = {e: i for i, (_, e) in enumerate(segs)}
    for s, e in pieces:
        assert e - s <= 200
        i = ends[e]
        assert i == len(segs) - 1 or i % 3 == 2, (s, e)  # the end of a word
    assert piece_spans([(0, 450)], 200) == [(0, 200), (200, 400), (400, 450)]  # hard cuts


def test_typewriter_lines_split_at_word_spaces():
    """On a rendered typewriter line, every piece ends where a word ends (it cut '(Hilbert' in two:
    the gap beside 'l' is nearly a word space)."""
    from PIL import Image, ImageDraw, ImageFont

    from docencoder.data.fonts import available_fonts
    from docencoder.data.lines import _gray, max_piece_ink, piece_spans, split_line, word_segments

    mono = next(f for f in available_fonts() if f.kind == "monospace")
    font = ImageFont.truetype(str(mono.path), 18)
    text = "9 lattice points in polytope (Hilbert basis elements of degree 1) fill all"
    img = Image.new("L", (int(font.getlength(text)) + 40, 40), 255)
    ImageDraw.Draw(img).text((20, 8), text, font=font, fill=0)
    a = _gray(img)
    box = ink_box(a)
    pieces = piece_spans(word_segments(a, box), max_piece_ink(box, 32, 512))
    assert len(pieces) >= 2 and len(split_line(img)) == len(pieces)
    word_ends, x = [], 20.0
    for w in text.split():
        x += font.getlength(w)
        word_ends.append(x)
        x += font.getlength(" ")
    for _, e in pieces[:-1]:
        assert min(abs(e - w) for w in word_ends) <= 3, (e, word_ends)
