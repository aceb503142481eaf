"""Inputs, page ranges, documents and crash-safe writers of the OCR pipeline."""

from __future__ import annotations

import json
import os

import pytest
from PIL import Image

from docencoder.ocr.pages import (
    DocumentError,
    PageError,
    expand_inputs,
    open_document,
    pages_past_end,
    parse_pages,
    select_pages,
)
from docencoder.ocr.results import PageResult
from docencoder.ocr.samples import make_whitepaper
from docencoder.ocr.writers import DocumentWriter, ErrorLog, NameIndex, load_done, markdown


def test_parse_pages():
    assert parse_pages(None) is None
    assert parse_pages("1-3,7") == [1, 2, 3, 7]
    assert parse_pages(" 7, 2-3,2 ") == [2, 3, 7]
    assert parse_pages([3, 1, 3]) == [1, 3]
    assert select_pages(parse_pages("2,5-"), 7) == [2, 5, 6, 7]
    assert select_pages(parse_pages("1-3,9"), 2) == [1, 2]  # past the end: named apart
    assert pages_past_end(parse_pages("1-3,9,12-"), 2) == "3,9,12-"
    assert pages_past_end(parse_pages("1-2,2-"), 2) == "" and pages_past_end(None, 1) == ""
    assert select_pages(None, 3) == [1, 2, 3]
    for bad in ("0", "3-1", "a", "1,,2", "-2", ""):
        with pytest.raises(ValueError, match="page"):
            parse_pages(bad)


def test_expand_inputs(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    make_whitepaper(tmp_path / "a" / "x.pdf", n_pages=1)
    make_whitepaper(tmp_path / "a" / "b" / "x.pdf", n_pages=1)
    Image.new("L", (10, 10), 255).save(tmp_path / "a" / "b" / "scan.PNG")
    (tmp_path / "a" / "notes.txt").write_text("skip me")
    (tmp_path / "empty").mkdir()
    files, failures = expand_inputs([tmp_path / "a", str(tmp_path / "a" / "*.pdf"),
                                     tmp_path / "missing.pdf", tmp_path / "a" / "notes.txt",
                                     tmp_path / "empty", str(tmp_path / "nothing*.pdf")])
    assert [f.relative_to(tmp_path).as_posix() for f in files] == ["a/b/scan.PNG", "a/b/x.pdf", "a/x.pdf"]
    errors = {f.doc.replace(str(tmp_path), ""): f.error for f in failures}
    assert errors["/missing.pdf"] == "no such file or directory"
    assert "unsupported file type '.txt'" in errors["/a/notes.txt"]
    assert "no PDF or image" in errors["/empty"]
    assert "matches no" in errors["/nothing*.pdf"]
    names = NameIndex(tmp_path / "out").assign(files)
    assert names[0] == "scan" and names[1] != names[2] and names[1].startswith("x-")


@pytest.mark.parametrize("name, message", [
    ("empty.pdf", "empty file"),
    ("notpdf.pdf", "not a PDF"),
    ("truncated.pdf", "corrupt or truncated"),
    ("corrupt.pdf", "corrupt or truncated"),
    ("broken.pdf", "no such file"),
    ("encrypted.pdf", "encrypted PDF"),
    ("bad.png", "not a readable image"),
])
def test_bad_documents_have_clear_errors(bad_inputs, name, message):
    with pytest.raises(DocumentError, match=message):
        open_document(bad_inputs / name)


def test_huge_page_is_a_page_error(bad_inputs):
    with open_document(bad_inputs / "huge.pdf") as doc:
        assert doc.n_pages == 1
        with pytest.raises(PageError, match="megapixels, above the cap"):
            doc.render(1, 150)
        img, dpi = doc.render(1, 2)  # small enough at a low resolution
        assert img.size == (400, 400) and dpi == 2


def test_pdf_renders_one_grayscale_page(tmp_path):
    doc = make_whitepaper(tmp_path / "w.pdf", n_pages=3)
    with open_document(doc.path) as d:
        assert d.n_pages == 3 and d.is_pdf
        img, dpi = d.render(2, 100)
        assert img.mode == "L" and img.size == (850, 1100) and dpi == 100


def test_pdf_handle_is_reopened_and_reads_the_same(tmp_path, monkeypatch):
    """pdfium's caches grow with every page read through one handle (a 500-page run: 1.26x the
    memory of a 10-page one); PdfDocument reopens the file every REOPEN_EVERY_PAGES pages, and
    what it reads through the new handle is what one handle gives."""
    from docencoder.ocr import pages

    doc = make_whitepaper(tmp_path / "five.pdf", n_pages=5, seed=3)
    one = open_document(doc.path)
    expected = [(one.text(p), one.render(p, 72)[0].tobytes()) for p in range(1, 6)]
    one.close()
    opened = []
    real_open = pages.open_pdf
    monkeypatch.setattr(pages, "open_pdf", lambda *a, **k: opened.append(a) or real_open(*a, **k))
    monkeypatch.setattr(pages, "REOPEN_EVERY_PAGES", 2)
    again = open_document(doc.path)
    got = [(again.text(p), again.render(p, 72)[0].tobytes()) for p in range(1, 6)]
    again.close()
    assert got == expected
    assert len(opened) == 5  # at open, then after every 2 of the 10 page reads


def test_multipage_tiff_and_image_dpi(tmp_path):
    frames = [Image.new("L", (64, 48), v) for v in (0, 128, 255)]
    frames[0].save(tmp_path / "m.tif", save_all=True, append_images=frames[1:], dpi=(300, 300))
    with open_document(tmp_path / "m.tif") as d:
        assert d.n_pages == 3
        img, dpi = d.render(2, 150)
        assert img.getpixel((0, 0)) == 128 and dpi == 300
    Image.new("RGB", (20, 10), "white").save(tmp_path / "p.jpg")
    with open_document(tmp_path / "p.jpg") as d:
        img, dpi = d.render(1, 150)
        assert img.mode == "L" and dpi == 0


def test_image_modes_become_8bit_gray(tmp_path):
    import numpy as np

    from docencoder.ocr.pages import to_gray

    deep = Image.fromarray(np.array([[0, 30000], [60000, 65535]], dtype=np.uint16))
    g = to_gray(deep)
    assert g.mode == "L" and g.getpixel((0, 0)) == 0 and g.getpixel((1, 1)) == 255
    assert 100 < g.getpixel((1, 0)) < 130  # mid-grey stays mid-grey, not clipped to white
    clear = Image.new("RGBA", (4, 4), (0, 0, 0, 0))  # fully transparent = paper
    assert to_gray(clear).getpixel((0, 0)) == 255


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(tmp_path):
    doc = make_whitepaper(tmp_path / "locked.pdf", n_pages=1)
    doc.path.chmod(0)
    with pytest.raises(DocumentError, match="cannot read file"):
        open_document(doc.path)


def _page(n: int, text: str = "x") -> PageResult:
    return PageResult("d.pdf", n, text, "ocr", "m-1234", 150, 0.5)


def test_load_done_repairs_torn_and_duplicate_lines(tmp_path):
    path = tmp_path / "d.jsonl"
    torn = _page(3).to_json()[:20]
    path.write_text(_page(1).to_json() + "\n" + _page(2).to_json() + "\n" + _page(1, "dup").to_json()
                    + "\nnot json\n" + torn)
    done = load_done(path)
    assert sorted(done) == [1, 2] and done[1].text == "x"
    lines = path.read_text().splitlines()
    assert [json.loads(line)["page"] for line in lines] == [1, 2]
    assert load_done(tmp_path / "none.jsonl") == {}


def test_document_writer_sorts_and_writes_markdown(tmp_path):
    w = DocumentWriter(tmp_path, "doc")
    for n in (3, 1):
        w.write(_page(n, f"text of page {n}"))
    w.finish()
    recs = [json.loads(line) for line in (tmp_path / "doc.jsonl").read_text().splitlines()]
    assert [r["page"] for r in recs] == [1, 3]
    assert list(recs[0]) == ["doc", "page", "text", "source", "text_layer", "model", "quantize",
                             "decoding", "dpi", "seconds", "markdown", "blocks"]
    md = (tmp_path / "doc.md").read_text()
    assert md.index("<!-- page 1 -->") < md.index("text of page 1") < md.index("<!-- page 3 -->")
    assert markdown([]) == ""
    # resuming sees both pages; overwrite forgets them
    assert sorted(DocumentWriter(tmp_path, "doc").done) == [1, 3]
    assert DocumentWriter(tmp_path, "doc", overwrite=True).done == {}
    assert not (tmp_path / "doc.md").exists()


def test_error_log(tmp_path):
    log = ErrorLog(tmp_path)
    log.add("a.pdf", None, "encrypted")
    log.add("b.pdf", 4, "boom")
    recs = [json.loads(line) for line in log.path.read_text().splitlines()]
    assert recs == [{"doc": "a.pdf", "page": None, "kind": "input", "error": "encrypted"},
                    {"doc": "b.pdf", "page": 4, "kind": "input", "error": "boom"}]
    log.reset()
    assert not log.path.exists()


# ------------------------------------------------------------------------------------------------
# --quantize is part of what a page records and what a resume compares (issue 14 item 3)
# ------------------------------------------------------------------------------------------------

def _records(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_resume_with_another_quantize_is_refused(tmp_path, model_dir, capsys, monkeypatch):
    from docencoder.cli import main
    from docencoder.ocr.reader import Reader

    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: ["fast"] * len(pages))
    doc = make_whitepaper(tmp_path / "q.pdf", n_pages=3, seed=3)
    out = tmp_path / "out"
    base = ["ocr", str(doc.path), "-o", str(out), "--quiet", "--model", str(model_dir),
            "--text-layer", "never"]
    assert main(base + ["--pages", "1-2"]) == 0  # --quantize auto: int8 on CPU
    jsonl = out / "q.jsonl"
    assert [r["quantize"] for r in _records(jsonl)] == ["int8", "int8"]
    first = jsonl.read_bytes()
    capsys.readouterr()
    for extra in (["--quantize", "none"], ["--quantize", "none", "--pages", "3", "--overwrite"]):
        assert main(base + extra) == 2, extra
        err = capsys.readouterr().err
        assert "page 1 was OCR'd with --quantize int8" in err and "would mix" in err, err
        assert "--text-layer never, model tiny-line-" in err and ", quantize none, decoding greedy, 150 dpi" in err
        assert jsonl.read_bytes() == first  # nothing was touched
    # the same mode resumes, whether named int8 or auto
    assert main(base + ["--quantize", "int8", "--pages", "3"]) == 0
    assert main(base) == 0
    assert [(r["page"], r["quantize"]) for r in _records(jsonl)] == [(1, "int8"), (2, "int8"),
                                                                      (3, "int8")]
    # --overwrite redoes the document in the new mode: never mixed
    assert main(base + ["--quantize", "none", "--overwrite"]) == 0
    assert [r["quantize"] for r in _records(jsonl)] == ["none"] * 3
    assert main(base + ["--quantize", "none"]) == 0


def test_text_layer_pages_do_not_depend_on_quantize(tmp_path, model_dir, capsys):
    """No model reads a page taken from its text layer: its record says null, and a run with
    any --quantize resumes it."""
    from docencoder.cli import main

    doc = make_whitepaper(tmp_path / "t.pdf", n_pages=2, seed=4)
    out = tmp_path / "out"
    base = ["ocr", str(doc.path), "-o", str(out), "--quiet"]
    assert main(base + ["--text-layer", "only", "--pages", "1"]) == 0
    jsonl = out / "t.jsonl"
    assert [(r["source"], r["quantize"]) for r in _records(jsonl)] == [("text-layer", None)]
    for quantize in ("none", "int8"):
        assert main(base + ["--model", str(model_dir), "--text-layer", "auto",
                            "--quantize", quantize]) == 0, capsys.readouterr().err
    assert [(r["page"], r["source"], r["quantize"]) for r in _records(jsonl)] == [
        (1, "text-layer", None), (2, "text-layer", None)]
    assert main(base + ["--text-layer", "only", "--quantize", "none"]) == 0


def test_records_older_than_the_quantize_field_resume_in_any_mode():
    from docencoder.ocr.api import read_differently
    from docencoder.ocr.results import UNKNOWN_QUANTIZE

    old = json.loads(_page(1).to_json())
    del old["quantize"]
    rec = PageResult.from_dict(old)
    assert rec.quantize == UNKNOWN_QUANTIZE
    assert json.loads(rec.to_json())["quantize"] == UNKNOWN_QUANTIZE  # kept as unknown, not guessed
    for mode in ("int8", "none"):
        assert read_differently(rec, "never", "m-1234", 150, True, mode) is None
    old_text = dict(old, source="text-layer", model="text-layer", dpi=0)
    assert PageResult.from_dict(old_text).quantize is None
    new = PageResult("d.pdf", 1, "x", "ocr", "m-1234", 150, 0.5, "not-checked", "none")
    assert read_differently(new, "never", "m-1234", 150, True, "int8") == \
        "OCR'd with --quantize none"
    assert read_differently(new, "never", "m-1234", 150, True, "none") is None


# ------------------------------------------------------------------------------------------------
# --decoding joint|greedy is recorded and compared like --quantize (issue 15 item 2)
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ctc_model_dir(tmp_path_factory):
    from docencoder.eval.memory import tiny_model_dir
    return tiny_model_dir(tmp_path_factory.mktemp("models") / "tiny-ctc", seed=0, ctc_head=True)


def test_a_resume_with_another_decoding_is_refused(tmp_path, ctc_model_dir, capsys, monkeypatch):
    from docencoder.cli import main
    from docencoder.ocr.reader import Reader

    seen = []
    monkeypatch.setattr(Reader, "read_page_pieces",
                        lambda self, pages: seen.append(self.decoding) or ["x"] * len(pages))
    doc = make_whitepaper(tmp_path / "g.pdf", n_pages=3, seed=5)
    out = tmp_path / "out"
    base = ["ocr", str(doc.path), "-o", str(out), "--quiet", "--model", str(ctc_model_dir),
            "--text-layer", "never"]
    assert main(base + ["--pages", "1-2", "--decoding", "greedy"]) == 0
    assert set(seen) == {"greedy"}
    jsonl = out / "g.jsonl"
    assert [r["decoding"] for r in _records(jsonl)] == ["greedy", "greedy"]
    first = jsonl.read_bytes()
    capsys.readouterr()
    for extra in ([], ["--decoding", "joint"], ["--decoding", "auto", "--pages", "3"]):
        assert main(base + extra) == 2, extra  # auto is joint on a model with a CTC head
        err = capsys.readouterr().err
        assert "page 1 was decoded with --decoding greedy" in err and "would mix" in err, err
        assert ", decoding joint," in err, err
        assert jsonl.read_bytes() == first
    assert main(base + ["--decoding", "greedy"]) == 0
    assert [(r["page"], r["decoding"]) for r in _records(jsonl)] == [
        (1, "greedy"), (2, "greedy"), (3, "greedy")]
    assert main(base + ["--overwrite"]) == 0
    assert [r["decoding"] for r in _records(jsonl)] == ["joint"] * 3 and seen[-1] == "joint"
    assert main(base + ["--decoding", "joint"]) == 0  # auto and joint are one mode here


def test_joint_decoding_needs_a_ctc_head(tmp_path, model_dir, capsys):
    from docencoder.cli import main

    doc = make_whitepaper(tmp_path / "h.pdf", n_pages=1, seed=6)
    base = ["ocr", str(doc.path), "-o", str(tmp_path / "out"), "--quiet", "--model",
            str(model_dir), "--text-layer", "never"]
    assert main(base + ["--decoding", "joint"]) == 2
    err = capsys.readouterr().err
    assert "CTC head" in err and "Traceback" not in err, err
    assert not (tmp_path / "out" / "h.jsonl").exists()
    with pytest.raises(SystemExit) as e:  # argparse's own usage error
        main(base + ["--decoding", "sideways"])
    assert e.value.code == 2 and "--decoding" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["ocr", "--help"])
    assert "--decoding {auto,joint,greedy}" in capsys.readouterr().out


def test_records_older_than_the_decoding_field_resume_in_any_mode():
    from docencoder.ocr.api import read_differently
    from docencoder.ocr.results import UNKNOWN_DECODING

    old = json.loads(_page(1).to_json())
    del old["decoding"]
    rec = PageResult.from_dict(old)
    assert rec.decoding == UNKNOWN_DECODING
    assert json.loads(rec.to_json())["decoding"] == UNKNOWN_DECODING
    for mode in ("joint", "greedy"):
        assert read_differently(rec, "never", rec.model, rec.dpi, True, None, mode) is None
    old_text = dict(old, source="text-layer", model="text-layer", dpi=0)
    assert PageResult.from_dict(old_text).decoding is None
