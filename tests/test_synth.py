"""Synthetic whitepaper PDFs (docencoder.data.synth): determinism, exact ground truth, the samples
cut from them, and the pieces (config checks, line breaking, hyphenation) on their own."""

from __future__ import annotations

import random

import numpy as np
import pytest

from docencoder.data.shards import read_manifest
from docencoder.data.synth import (
    ELEMENT_KINDS,
    FALLBACK_PARAGRAPHS,
    PdfGenConfig,
    PdfGenerator,
    document_samples,
    fit_text,
    generate_pdf,
    synth_to_shards,
    truetype_families,
)
from docencoder.data.synth.elements import ELEMENTS
from docencoder.data.synth.faces import standard_face
from docencoder.data.synth.linebreak import (
    as_words,
    break_lines,
    hyphenate_word,
    split_long,
    text_width,
    word_width,
)
from docencoder.pdf.textlayer import read_pages

PARAS = FALLBACK_PARAGRAPHS


def _norm(text: str) -> str:
    return " ".join(text.split())


def test_same_seed_same_pdf_and_text():
    a = generate_pdf(PARAS, seed=7)
    b = generate_pdf(PARAS, seed=7)
    c = generate_pdf(PARAS, seed=8)
    assert a.pdf == b.pdf and a.pages == b.pages and a.dpi == b.dpi
    assert a.pdf != c.pdf


@pytest.mark.parametrize("seed", range(8))
def test_text_layer_equals_generated_text(seed):
    doc = generate_pdf(PARAS, seed=seed, cfg=PdfGenConfig(pages=(1, 2)))
    layouts = list(read_pages(doc.pdf))
    assert len(layouts) == len(doc.pages) >= 1
    for i, layout in enumerate(layouts):
        assert _norm(layout.text) == _norm(doc.page_text(i)), f"seed {seed} page {i}"
        assert len(_norm(layout.text)) > 200


def test_layouts_vary():
    styles = [generate_pdf(PARAS, seed=s).style for s in range(12)]
    assert {s["columns"] for s in styles} == {1, 2}
    assert {s["justified"] for s in styles} == {True, False}
    assert len({s["body"] for s in styles}) >= 2
    assert all(7 <= s["size"] <= 14 for s in styles)


def test_every_truetype_family_typesets_exactly():
    """Each family as body font: the text layer still matches what was drawn."""
    for fam in truetype_families():
        if fam.kind == "monospace":
            continue
        cfg = PdfGenConfig(pages=(1, 1), body_kinds={fam.kind: 1.0})
        for seed in range(20):  # find a document set in this family
            doc = generate_pdf(PARAS, seed=seed, cfg=cfg)
            if doc.style["body"] == fam.family:
                break
        else:
            continue
        layout = next(read_pages(doc.pdf))
        assert _norm(layout.text) == _norm(doc.page_text(0)), fam.family


def test_missing_glyphs_fall_back_to_ascii():
    fams = {f.family: f for f in truetype_families()}
    lib = fams.get("Liberation Serif")
    if lib is None:
        pytest.skip("Liberation Serif not installed")
    face = lib.face("regular")
    assert fit_text("a ∈ B", face) == "a in B"
    assert fit_text("x ≤ 1 \U0001F600", face) == "x ≤ 1"  # Liberation has ≤; emoji word dropped


def test_document_samples_pages_and_lines():
    doc = generate_pdf(PARAS, seed=3, cfg=PdfGenConfig(pages=(1, 1), dpi=(150, 150)))
    samples = document_samples(doc)
    pages = [s for s in samples if s.kind == "page"]
    lines = [s for s in samples if s.kind == "line"]
    assert len(pages) == 1 and len(lines) >= 20
    assert _norm(pages[0].text) == _norm(doc.page_text(0))
    assert pages[0].image.mode == "L"
    assert pages[0].image.size[0] == pytest.approx(doc.style["page"][0] * 150 / 72, abs=2)
    drawn = set(doc.pages[0])
    assert sum(s.text in drawn for s in lines) >= 0.6 * len(lines)
    for s in lines:
        a = np.asarray(s.image)
        assert s.image.mode == "L" and a.min() < 128  # ink inside
        assert (a[0] > 200).mean() > 0.5 and (a[:, 0] > 200).mean() > 0.5  # white-ish margins


def test_generator_stream_and_shards(tmp_path):
    gen = PdfGenerator(PARAS, PdfGenConfig(pages=(1, 1), dpi=(100, 100)), seed=1, kinds=("line",))
    first = gen.document(0)
    assert first and all(s.kind == "line" for s in first)
    counts = synth_to_shards(tmp_path, 2, seed=1, paragraphs=PARAS,
                             cfg=PdfGenConfig(pages=(1, 1), dpi=(100, 100)))
    assert counts["documents"] == 2 and counts["page"] == 2 and counts["line"] > 20
    again = synth_to_shards(tmp_path, 2, seed=1, paragraphs=PARAS,
                            cfg=PdfGenConfig(pages=(1, 1), dpi=(100, 100)))
    assert again["skipped_documents"] == 2
    assert read_manifest(tmp_path)["total_samples"] == counts["page"] + counts["line"]


def test_document_samples_paragraph_blocks():
    doc = generate_pdf(PARAS, seed=5, cfg=PdfGenConfig(pages=(1, 1), dpi=(150, 150)))
    samples = document_samples(doc, kinds=("page", "block"))
    page = next(s for s in samples if s.kind == "page")
    blocks = [s for s in samples if s.kind == "block"]
    assert len(blocks) >= 3
    page_blocks = page.text.split("\n\n")
    for s in blocks:
        assert s.text in page_blocks  # a whole block of the page text, lines joined by newlines
        a = np.asarray(s.image)
        assert a.min() < 128 and s.image.height > 10
    assert sum(len(s.text.splitlines()) for s in blocks) >= 0.5 * len(page.text.splitlines())


def test_progress_bar_on_stderr_only(tmp_path, capsys):
    counts = synth_to_shards(tmp_path, 1, seed=2, paragraphs=PARAS, kinds=("line",), progress=True,
                             cfg=PdfGenConfig(pages=(1, 1), dpi=(100, 100)))
    out, err = capsys.readouterr()
    assert counts["documents"] == 1 and out == ""
    assert "synth-pdf" in err and "1/1" in err


# ---------------------------------------------------------------------- the pieces
@pytest.mark.parametrize("bad", [
    {"pages": (2, 1)}, {"pages": (0, 1)}, {"body_pt": (12.0, 7.0)}, {"max_pt": 5.0},
    {"two_column_prob": 1.5}, {"page_sizes": ("legal",)}, {"page_sizes": ()}, {"dpi": (300, 100)},
    {"leading": (0.5, 1.2)}, {"body_kinds": {}}, {"element_weights": {"paragraph": 0.0}},
    {"element_weights": {"poem": 1.0}},
])
def test_config_rejects_bad_ranges(bad):
    with pytest.raises(ValueError):
        PdfGenConfig(**bad)


def test_every_element_kind_is_drawn():
    assert set(ELEMENTS) == set(ELEMENT_KINDS)
    assert set(PdfGenConfig().element_weights) <= set(ELEMENT_KINDS)


def _body_face():
    return truetype_families()[0].face("regular")


@pytest.mark.parametrize("hyphenate", [False, True])
def test_break_lines_fit_and_keep_every_character(hyphenate):
    face = _body_face()
    rng = random.Random(0)
    vocab = " ".join(PARAS).split() + ["https://example.org/a/very/long/address/that/cannot/fit"]
    hyphenated = 0
    for _ in range(30):
        words = as_words(" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 60))), face, 10.0)
        width, indent = rng.uniform(60, 300), rng.choice([0.0, 15.0])
        lines = break_lines(words, width, indent, hyphenate=hyphenate)
        space = text_width(" ", face, 10.0)
        for i, line in enumerate(lines):
            natural = (indent if i == 0 else 0.0) + sum(map(word_width, line)) + space * (len(line) - 1)
            assert natural <= width + 1e-6 or (len(line) == 1 and len(line[0].text) == 1)
        drawn = "".join(w.text for ln in lines for w in ln)
        assert drawn.replace("-", "") == "".join(w.text for w in words).replace("-", "")
        hyphenated += sum(ln[-1].text.endswith("-") for ln in lines[:-1])
    assert (hyphenated > 0) == hyphenate


def test_hyphenate_word_cuts_after_a_vowel():
    face = _body_face()
    word = as_words("representation,", face, 10.0)[0]
    head, tail = hyphenate_word(word, room=text_width("represen-", face, 10.0))
    assert head.text.endswith("-") and head.text[:-1] + tail.text == word.text
    assert head.text[-2] in "aeiouy" and tail.text[0] not in "aeiouy"
    assert text_width(head.text, face, 10.0) <= text_width("represen-", face, 10.0)
    assert hyphenate_word(as_words("short", face, 10.0)[0], room=1000.0) is None  # too few letters
    assert hyphenate_word(word, room=1.0) is None  # no cut fits


def test_split_long_keeps_the_footnote_on_the_tail():
    face = _body_face()
    word = as_words("abcdefghij", face, 10.0)[0]
    word.sup = "1"
    head, tail = split_long(word, room=text_width("abcd", face, 10.0))
    assert (head.text, tail.text) == ("abcd", "efghij")
    assert head.sup == "" and tail.sup == "1"


def test_standard_face_is_winansi():
    face = standard_face("Times-Roman")
    assert ord("é") in face.cmap and ord("€") in face.cmap and ord("∈") not in face.cmap
    assert fit_text("a ∈ B", face) == "a in B"
    with pytest.raises(ValueError):
        standard_face("Symbol")  # its own encoding
    with pytest.raises(ValueError):
        standard_face("Palatino")  # not a standard PDF font
