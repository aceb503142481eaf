"""docencoder.data.latex: escaping, determinism, and one tiny document typeset into shards."""

from __future__ import annotations

import shutil

import pytest

from docencoder.data.latex import LatexConfig, TextSource, document_tex, escape, latex_to_shards

SRC = TextSource(
    paragraphs=["The first office file flow uses the --verbose option; costs are 5% & $3 "
                "for item_1 {a} ~b^c <x> \"q\" ''w'' back\\slash, finally. " * 3] * 4,
    words=["Quixotic", "zymurgy", "Abelard", "Xanthippe", "ferrocene", "Omsk"],
    proper=["Quixotic", "Abelard", "Xanthippe", "Omsk"])


def test_escape_keeps_printed_characters():
    out = escape("a--b ''c'' 5% $x_1 {y} ~ ^ <> | \" ` \\")
    assert "-{}-" in out and "'{}'" in out
    for raw in ("%", "$", "_", "{", "}"):
        assert f"\\{raw}" in out
    assert "\\textbackslash{}" in out and "\\textless{}" in out


def test_document_is_deterministic():
    a, plan_a = document_tex(SRC, 3)
    b, plan_b = document_tex(SRC, 3)
    assert a == b and plan_a == plan_b
    assert "\\begin{thebibliography}" in a and "\\section" in a


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex missing")
def test_one_document_to_shards(tmp_path):
    from docencoder.data.shards import read_manifest

    cfg = LatexConfig(classes=("article",), fonts=("lmodern",), paragraphs=(2, 3), latex_runs=1)
    summary = latex_to_shards(tmp_path / "shards", docs=1, seed=1, pdf_dir=tmp_path / "pdf",
                              cfg=cfg, log=lambda m: None, src=SRC)
    assert summary["typeset"]["failed"] == 0 and summary["pdfs"] == 1
    assert summary["samples"]["line"] > 10
    assert summary["samples"]["line"] <= summary["text_layer_lines"]
    assert read_manifest(tmp_path / "shards")["shards"]
    # the text layer spells what was typeset: two hyphens stay two, ligatures are letters
    from docencoder.data.pdf_shards import find_pdfs
    from docencoder.pdf.textlayer import read_pages

    text = " ".join(line.text for p in find_pdfs(tmp_path / "pdf") for page in read_pages(p) for line in page.lines)
    assert "--verbose" in text.replace("- -", "--")
    assert "\ufb01" not in text and "office" in text.replace("-", "")
    # resume: a second run typesets nothing and reads nothing again
    again = latex_to_shards(tmp_path / "shards", docs=1, seed=1, pdf_dir=tmp_path / "pdf",
                            cfg=cfg, log=lambda m: None, src=SRC)
    assert again["typeset"]["kept"] == 1 and again["already_done"] == 1
