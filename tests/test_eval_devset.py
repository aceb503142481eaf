"""The committed dev set is consistent: files exist, licences recorded, no reserved package."""

from __future__ import annotations

from pathlib import Path

import pytest

from docencoder.eval.bench import select_pages
from docencoder.eval.devset import DEFAULT_DEV_DIR, SOURCES, is_reserved, load_manifest

#: the dev set must stay small enough to commit
MAX_DEVSET_BYTES = 15 * 1024 * 1024


@pytest.fixture(scope="module")
def rows():
    return load_manifest(DEFAULT_DEV_DIR)


def _packages_file(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {line.split("\t")[0].strip() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def test_manifest_files_exist_and_are_unique(rows):
    assert 30 <= len(rows) <= 60
    assert len({r.id for r in rows}) == len(rows)
    for r in rows:
        for rel in (r.pdf, r.gt, r.scan):
            assert (DEFAULT_DEV_DIR / rel).is_file(), rel
        gt = (DEFAULT_DEV_DIR / r.gt).read_text(encoding="utf-8")
        assert sum(not c.isspace() for c in gt) == r.chars > 0


def test_provenance_and_licences_recorded(rows):
    listed = _packages_file(DEFAULT_DEV_DIR / "packages.txt")
    for r in rows:
        assert r.package and r.version and r.source_file and r.source_page >= 1
        assert r.licence and ("GPL" in r.licence or "BSD" in r.licence or "MIT" in r.licence)
        assert r.package in listed, f"{r.package} missing from packages.txt"


def test_no_reserved_or_training_package(rows):
    assert is_reserved("texlive-latex-base-doc") and is_reserved("pari-doc")
    assert not any(is_reserved(s.package) for s in SOURCES)
    assert not any(is_reserved(r.package) for r in rows)
    training = _packages_file(DEFAULT_DEV_DIR.parent / "real" / "packages.txt")
    assert not training & {r.package for r in rows}, "dev-set package also used for training"


def test_layouts_covered_and_size_budget(rows):
    assert {"1col"} < {r.layout for r in rows}  # some multi-column pages too
    total = sum(p.stat().st_size for p in DEFAULT_DEV_DIR.rglob("*") if p.is_file())
    assert total <= MAX_DEVSET_BYTES


def test_page_pdfs_text_layers_match_ground_truth(rows):
    """The stored ground truth is what the text-layer reader gives today (no silent drift)."""
    from docencoder.pdf.textlayer import page_text

    drifted = [r.id for r in rows if page_text(DEFAULT_DEV_DIR / r.pdf, 0)
               != (DEFAULT_DEV_DIR / r.gt).read_text("utf-8")]
    assert not drifted, f"ground truth differs from the text layer: {drifted}"


def test_select_pages_is_deterministic_and_spread(rows):
    a, b = select_pages(rows, 8), select_pages(rows, 8)
    assert [r.id for r in a] == [r.id for r in b]
    assert len({r.package for r in a}) >= 4
    assert any(r.layout != "1col" for r in a)
    assert select_pages(rows, None) == list(rows)
    with pytest.raises(ValueError):
        select_pages(rows, 3, ids=["no-such-page"])
