"""``docencoder bench memory`` (issue 14 item 6): PDFs of real pages, a child per run, the table."""

from __future__ import annotations

import json

import pypdfium2 as pdfium
import pytest

from docencoder.cli import main
from docencoder.eval.memory import MemoryConfig, build_pdf, source_pages
from docencoder.ocr.samples import make_whitepaper


@pytest.fixture(scope="module")
def sources(tmp_path_factory):
    """Two folders of digital PDFs: 2 pages and 1 page."""
    d = tmp_path_factory.mktemp("sources")
    make_whitepaper(d / "a" / "two.pdf", n_pages=2, seed=1)
    make_whitepaper(d / "b" / "one.pdf", n_pages=1, seed=2)
    return [d / "a", d / "b"]


def test_pages_alternate_between_sources_and_repeat(sources, tmp_path):
    pages = source_pages(sources)
    assert [(p.name, i) for p, i in pages] == [("two.pdf", 0), ("one.pdf", 0), ("two.pdf", 1)]
    pdf = build_pdf(pages, 7, tmp_path / "seven.pdf")
    doc = pdfium.PdfDocument(str(pdf))
    try:
        assert len(doc) == 7
        texts = [doc[i].get_textpage().get_text_range() for i in range(7)]
    finally:
        doc.close()
    assert texts[0] == texts[3] == texts[6] and texts[1] == texts[4] and texts[0] != texts[1]


def test_bad_options():
    with pytest.raises(ValueError, match="pages-small"):
        MemoryConfig(pages_small=5, pages_big=4)
    with pytest.raises(ValueError, match="modes"):
        MemoryConfig(modes=("sometimes",))


def test_bench_runs_a_child_per_size_and_prints_the_table(sources, tmp_path, capsys):
    out = tmp_path / "bench"
    rc = main(["bench", "memory", *map(str, sources), "--pages-small", "2", "--pages-big", "4",
               "--modes", "only", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    rows = [line for line in printed.splitlines() if line.startswith("| ") and "only" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["2", "4"]
    assert "1.00 (reference)" in rows[0] and "within 1.20x" in printed
    runs = json.loads((out / "bench_memory.json").read_text())["runs"]
    assert [(r["pages"], r["written"], r["exit_code"]) for r in runs] == [(2, 2, 0), (4, 4, 0)]
    assert all(r["peak_rss_mib"] > 10 for r in runs)
    assert runs[1]["ratio"] == pytest.approx(runs[1]["peak_rss_mib"] / runs[0]["peak_rss_mib"])
