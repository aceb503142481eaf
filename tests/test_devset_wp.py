"""The whitepaper dev set (data/devset_wp): provenance, ground truth, scans, and the benchmark's
reading of it through the CLI's PDF path. Fast: nothing is OCRed or typeset here."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from docencoder.eval.devset import DEFAULT_DEV_DIR, is_reserved, load_manifest, page_ok
from docencoder.eval.devset_wp import JOURNAL_SOURCES, WP_DEV_DIR, excluded_packages, typeset_pages

REPO = Path(__file__).resolve().parents[1]
#: the dev set must stay small in the repository
MAX_BYTES = 40 * 1024 * 1024


@pytest.fixture(scope="module")
def rows():
    return load_manifest(WP_DEV_DIR)


def _packages(rel: str) -> set[str]:
    return {line.split("\t")[0] for line in (REPO / rel).read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def test_manifest_files_exist_and_ids_are_unique(rows):
    assert len(rows) >= 24
    assert len({r.id for r in rows}) == len(rows)
    for r in rows:
        for rel in (r.pdf, r.gt, r.scan, *r.variants.values()):
            assert (WP_DEV_DIR / rel).is_file(), rel
        assert set(r.inputs()) == {"clean", "scan", "harsh"}
        assert r.inputs()["scan"] == r.scan and r.scan.endswith(".pdf")


def test_mix_of_sources_and_layouts(rows):
    kinds = [r.kind for r in rows]
    assert set(kinds) == {"typeset", "journal"}
    assert min(kinds.count("typeset"), kinds.count("journal")) >= len(rows) / 3
    assert sum(r.layout == "2col" for r in rows) >= len(rows) / 3
    styles = {r.version for r in rows if r.kind == "typeset"}
    assert len(styles) >= 10  # many publisher classes, not one look


def test_no_training_reserved_or_old_devset_package(rows):
    training, old = _packages("data/real/packages.txt"), _packages("data/devset/packages.txt")
    journal = {r.package for r in rows if r.kind == "journal"}
    assert journal == _packages("data/devset_wp/packages.txt")
    for package in journal:
        assert not is_reserved(package) and package not in training and package not in old
    excluded = set(excluded_packages(REPO))
    assert training <= excluded and old <= excluded and journal <= excluded


def test_text_pool_leaves_out_excluded_packages():
    from docencoder.eval.wp_text import load_pool

    pool = load_pool(WP_DEV_DIR / "text" / "pool.json.gz")
    excluded = set(excluded_packages(REPO))
    assert len(pool.descriptions) >= 300 and len(pool.surnames) >= 300
    for d in pool.descriptions:
        assert d.package not in excluded and not is_reserved(d.package)
        assert not d.package.endswith("-doc")


def test_licences_and_readme_name_every_source(rows):
    readme = (WP_DEV_DIR / "README.md").read_text()
    for r in rows:
        assert r.licence
        if r.kind == "journal":
            assert r.package in readme and Path(r.source_file).name in readme
        else:
            assert r.version in readme  # the style
    assert "reserved for evaluation" in readme.lower()


def test_ground_truth_is_the_checked_text_layer(rows):
    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.textlayer import page_text

    for r in rows:
        gt = (WP_DEV_DIR / r.gt).read_text(encoding="utf-8")
        assert r.chars == sum(1 for c in gt if not c.isspace())
    sample = random.Random(0).sample(rows, 8)  # reading text layers is slow: a sample
    for r in sample:
        gt = (WP_DEV_DIR / r.gt).read_text(encoding="utf-8")
        assert page_text(WP_DEV_DIR / r.pdf, 0) == gt, r.id
    for r in sample[:3]:  # the old set's page checks, reused
        pdf = open_pdf(WP_DEV_DIR / r.pdf)
        try:
            ok, reason, _ = page_ok(pdf, 0)
        finally:
            pdf.close()
        assert ok, (r.id, reason)


def test_typeset_pages_hold_what_papers_hold(rows):
    text = " ".join((WP_DEV_DIR / r.gt).read_text(encoding="utf-8")
                    for r in rows if r.kind == "typeset")
    assert len(re.findall(r"[\w.-]+@[\w-]+\.[\w.-]+", text)) >= 10  # e-mail addresses
    assert "doi:10." in text and "http" in text
    assert re.search(r"Table\s+\w+|TABLE\s+\w+", text) and re.search(r"Fig(ure|\.)", text)
    for tex in (WP_DEV_DIR / "tex").glob("*.tex"):
        source = tex.read_text(encoding="utf-8")
        for part in (r"\begin{equation}", r"\begin{tabular}", r"\begin{tikzpicture}",
                     r"\footnote", r"\begin{thebibliography}", r"\caption"):
            assert part in source, (tex.name, part)


def test_scans_are_image_only_pdfs_of_the_clean_render(rows):
    import io

    from PIL import Image

    from docencoder.data.scan import HARSH, SCAN, pdf_jpeg
    from docencoder.ocr.pages import PdfDocument
    from docencoder.pdf.textlayer import page_text

    for r in random.Random(1).sample(rows, 4):
        with PdfDocument(WP_DEV_DIR / r.pdf) as doc:
            clean, _ = doc.render(1, 150)
        for name, params in (("scan", SCAN), ("harsh", HARSH)):
            path = WP_DEV_DIR / r.variants[name]
            assert page_text(path, 0).strip() == ""
            with Image.open(io.BytesIO(pdf_jpeg(path))) as im:
                assert im.size == clean.size and im.format == "JPEG"
            drawn = r.extra["degradation"][name]
            assert abs(drawn["angle_deg"]) <= params.max_rotation_deg
            assert params.noise_sigma[0] <= drawn["noise_sigma"] <= params.noise_sigma[1]
            assert params.jpeg_quality[0] <= drawn["jpeg_quality"] <= params.jpeg_quality[1]


def test_size_budget():
    total = sum(p.stat().st_size for p in WP_DEV_DIR.rglob("*") if p.is_file())
    assert total < MAX_BYTES


def test_typeset_page_plan():
    assert typeset_pages(None, 3, (1, -1)) == [0, 2]
    assert typeset_pages(None, 2, (1, 2)) == [0, 1]
    assert typeset_pages(None, 1, (1, -1)) == [0]  # one page: not twice
    assert typeset_pages(None, 2, (2, 3)) == [1]


def test_journal_sources_name_their_pages():
    for source in JOURNAL_SOURCES:
        assert source.kind == "journal" and len(source.page_numbers) == source.pages


def test_papers_are_deterministic_and_escaped():
    from docencoder.eval.papers import STYLES, escape, paper_tex
    from docencoder.eval.wp_text import load_pool

    assert escape("a_b & 50% #1 $x$ ~/{y}") == (r"a\_b \& 50\% \#1 \$x\$ \textasciitilde{}/\{y\}")
    pool = load_pool(WP_DEV_DIR / "text" / "pool.json.gz")
    style = STYLES[0]
    assert paper_tex(style, pool, 0) == paper_tex(style, pool, 0)
    assert paper_tex(style, pool, 0) != paper_tex(style, pool, 1)
    assert paper_tex(style, pool, 0) == (WP_DEV_DIR / "tex" / f"{style.name}.tex").read_text(
        encoding="utf-8")


def test_bench_feeds_pdfs_to_docencoder_and_the_same_pixels_to_tesseract(rows, tmp_path):
    import numpy as np
    from PIL import Image

    from docencoder.eval.bench import BenchConfig, available_variants, prepare_inputs

    assert available_variants(rows) == ["clean", "scan", "harsh"]
    assert available_variants(load_manifest(DEFAULT_DEV_DIR)) == ["clean", "degraded"]
    cfg = BenchConfig(dev_dir=WP_DEV_DIR, out=tmp_path)
    row = rows[0]
    inputs, images = prepare_inputs([row], cfg, ["clean", "scan"])
    assert inputs[("clean", row.id)] == WP_DEV_DIR / row.pdf
    assert inputs[("scan", row.id)] == WP_DEV_DIR / row.scan
    assert images[("clean", row.id)].suffix == ".png"
    assert images[("scan", row.id)].suffix == ".jpg"
    from docencoder.ocr.pages import PdfDocument

    with PdfDocument(inputs[("clean", row.id)]) as doc:
        cli, _ = doc.render(1, 150)  # what `docencoder ocr` sees
    with Image.open(images[("clean", row.id)]) as im:
        assert np.array_equal(np.asarray(im.convert("L")), np.asarray(cli))


def test_breakdown_groups_by_layout_and_kind(rows):
    from docencoder.eval.bench import SystemRun, breakdown, breakdown_table
    from docencoder.eval.metrics import score_page

    scores = [score_page("x" if r.layout == "2col" else (WP_DEV_DIR / r.gt).read_text("utf-8"),
                         (WP_DEV_DIR / r.gt).read_text("utf-8"), key=r.id) for r in rows]
    run = SystemRun("fake", "clean", scores, {}, 1.0, 1.0)
    out = {(b["by"], b["group"]): b for b in breakdown([run], rows)}
    assert out[("layout", "1col")]["bow_f1"] == 1.0 > out[("layout", "2col")]["bow_f1"]
    assert out[("layout", "2col")]["pages"] == sum(r.layout == "2col" for r in rows)
    assert {("kind", "typeset"), ("kind", "journal")} <= set(out)
    assert "| 2col" in breakdown_table(list(out.values()))
