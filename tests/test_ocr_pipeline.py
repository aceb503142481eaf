"""End to end: `docencoder ocr` and the OCR API on generated PDFs with a tiny random model."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from docencoder.cli import main
from docencoder.ocr.samples import SampleStyle, make_scanned_pdf, make_whitepaper

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = {"doc": str, "page": int, "text": str, "source": str, "text_layer": str, "model": str,
          "quantize": (str, type(None)), "decoding": (str, type(None)), "dpi": int,
          "seconds": float, "markdown": str, "blocks": list}


def _norm(text: str) -> str:
    return " ".join(text.split())


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _check_schema(rec: dict) -> None:
    assert list(rec) == list(SCHEMA)
    for key, typ in SCHEMA.items():
        assert isinstance(rec[key], typ), (key, rec[key])
    assert rec["source"] in ("ocr", "text-layer") and rec["page"] >= 1 and rec["seconds"] >= 0
    # the model's weights are read in a quantization; a text-layer page used no model
    assert (rec["quantize"] is None) == (rec["source"] == "text-layer"), rec
    # so is the decoding: joint CTC/attention search or greedy; none for a text-layer page
    assert (rec["decoding"] is None) == (rec["source"] == "text-layer"), rec
    assert rec["decoding"] in (None, "joint", "greedy"), rec


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return make_whitepaper(tmp_path_factory.mktemp("docs") / "paper.pdf", n_pages=2)


def test_text_layer_only_gives_the_known_text(sample, tmp_path):
    out = tmp_path / "out"
    assert main(["ocr", str(sample.path), "-o", str(out), "--text-layer", "only", "--quiet"]) == 0
    recs = _records(out / "paper.jsonl")
    assert [r["page"] for r in recs] == [1, 2]
    for rec in recs:
        _check_schema(rec)
        assert rec["source"] == "text-layer" and rec["model"] == "text-layer" and rec["dpi"] == 0
        assert rec["doc"] == str(sample.path)
        assert _norm(rec["text"]) == _norm(sample.text(rec["page"]))
    md = (out / "paper.md").read_text()
    assert md.startswith("<!-- page 1 -->") and "<!-- page 2 -->" in md
    # the structured markdown: the title and every paragraph whole, on one line; the running
    # header, the page numbers in it and in the footer left out
    words = re.sub(r"<!-- page \d+ -->", "", md).split()
    assert md.splitlines()[2] == "# Optical Compression of Technical Documents"
    for page in sample.pages:
        for block in page.blocks():
            body = " ".join(line.text for line in block)
            furniture = block[0].column == 0 and block[0].size < SampleStyle().title_size
            if furniture:
                assert body not in " ".join(words) and body not in words, body
            else:
                assert _norm(body) in " ".join(words), body
    assert not (out / "errors.jsonl").exists()


def test_auto_uses_text_layer_where_trustworthy_and_ocr_elsewhere(sample, model_dir, tmp_path):
    mixed = make_scanned_pdf(sample.path, tmp_path / "mixed.pdf", pages=[1])
    out = tmp_path / "out"
    rc = main(["ocr", str(mixed), "-o", str(out), "--model", str(model_dir), "--quiet",
               "--text-layer", "auto"])
    assert rc == 0
    recs = _records(out / "mixed.jsonl")
    assert [(r["page"], r["source"]) for r in recs] == [(1, "ocr"), (2, "text-layer")]
    assert recs[0]["model"].startswith("tiny-line-") and len(recs[0]["model"]) == len("tiny-line-") + 8
    assert recs[0]["dpi"] == 150
    # the redrawn text layer of page 2 carries the page's words
    assert set(_norm(sample.text(2)).split()) <= set(_norm(recs[1]["text"]).split())


def test_never_reads_pixels_with_schema_and_bounded_lines(sample, model_dir):
    from docencoder import OCR

    pages = OCR(model_dir, batch_size=32).read(sample.path, pages="2", text_layer="never")
    assert len(pages) == 1
    page = pages[0]
    _check_schema(json.loads(page.to_json()))
    assert page.source == "ocr" and page.page == 2 and page.dpi == 150
    # a random model runs away on every piece: the token cap still ends each one
    from docencoder.ocr.reader import MAX_CHARS_PER_LINE

    assert all(len(line) <= 3 * (MAX_CHARS_PER_LINE + 4) for line in page.text.splitlines())


def test_pieces_are_assembled_into_lines_and_blocks(sample, model_dir, monkeypatch):
    """With a stand-in decoder, the page text mirrors the layout: one line per text line,
    one blank-line-separated block per paragraph, in reading order."""
    from docencoder import OCR
    from docencoder.ocr.reader import Reader

    calls = []

    def fake(self, pieces):
        calls.append(len(pieces))
        return [f"w{i}" for i in range(len(pieces))]

    monkeypatch.setattr(Reader, "read_pieces", fake)
    ocr = OCR(model_dir, batch_size=1000)
    pages = ocr.read(sample.path, text_layer="never")
    assert len(calls) == 1  # both pages decoded in one shared batch
    for page, result in zip(sample.pages, pages):
        blocks = result.text.split("\n\n")
        assert [len(b.splitlines()) for b in blocks] == [len(b) for b in page.blocks()]
    first = [int(w[1:]) for w in pages[0].text.split()]
    assert first == sorted(first)  # pieces come back in reading order


def test_image_inputs_and_read_image(sample, model_dir, tmp_path):
    from docencoder import OCR
    from docencoder.ocr.pages import open_document

    with open_document(sample.path) as d:
        img, _ = d.render(1, 150)
    img.crop((100, 250, 700, 420)).save(tmp_path / "snippet.png", dpi=(150, 150))
    out = tmp_path / "out"
    assert main(["ocr", str(tmp_path / "snippet.png"), "-o", str(out), "--model", str(model_dir),
                 "--quiet"]) == 0
    (rec,) = _records(out / "snippet.jsonl")
    assert rec["source"] == "ocr" and rec["dpi"] == 150 and rec["page"] == 1
    assert isinstance(OCR(model_dir).read_image(Image.open(tmp_path / "snippet.png")), str)
    # --text-layer only cannot read an image: reported, exit 1
    out2 = tmp_path / "out2"
    assert main(["ocr", str(tmp_path / "snippet.png"), "-o", str(out2), "--text-layer", "only",
                 "--quiet"]) == 1
    (err,) = _records(out2 / "errors.jsonl")
    assert err["page"] is None and "no text layer" in err["error"]


def test_bad_inputs_are_reported_and_the_rest_done(model_dir, bad_inputs, tmp_path):
    src = bad_inputs
    out = tmp_path / "out"
    rc = main(["ocr", str(src), str(tmp_path / "missing.pdf"), "-o", str(out), "--model",
               str(model_dir), "--text-layer", "never", "--quiet"])
    assert rc == 1
    errors = {Path(e["doc"]).name: e for e in _records(out / "errors.jsonl")}
    assert set(errors) == {"empty.pdf", "notpdf.pdf", "truncated.pdf", "corrupt.pdf", "broken.pdf",
                           "bad.png", "bad.tiff", "encrypted.pdf", "huge.pdf", "missing.pdf"}
    assert "empty file" in errors["empty.pdf"]["error"]
    assert "not a PDF" in errors["notpdf.pdf"]["error"]
    assert "truncated" in errors["truncated.pdf"]["error"]
    assert "encrypted" in errors["encrypted.pdf"]["error"]
    assert "not a readable image" in errors["bad.tiff"]["error"]
    assert "no such file" in errors["missing.pdf"]["error"]
    assert errors["huge.pdf"]["page"] == 1 and "megapixels" in errors["huge.pdf"]["error"]
    assert all(e["page"] is None for n, e in errors.items() if n != "huge.pdf")
    (rec,) = _records(out / "good.jsonl")
    assert rec["source"] == "ocr" and rec["text"]
    assert (out / "good.md").exists()


def test_usage_errors_exit_2(sample, tmp_path, capsys):
    out = str(tmp_path / "out")
    assert main(["ocr", str(sample.path), "-o", out, "--pages", "3-1"]) == 2
    assert "bad page range" in capsys.readouterr().err
    assert main(["ocr", str(sample.path), "-o", out, "--model", str(tmp_path / "nomodel")]) == 2
    assert "has no config.json" in capsys.readouterr().err
    assert main(["ocr", str(sample.path), "-o", out, "--dpi", "0"]) == 2
    assert main(["ocr", str(sample.path), "-o", out, "--device", "tpu"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["ocr", str(sample.path), "-o", out, "--text-layer", "sometimes"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["ocr", str(sample.path)])  # no -o
    assert e.value.code == 2
    assert not Path(out).exists()


def test_page_ranges_and_resume(tmp_path):
    doc = make_whitepaper(tmp_path / "three.pdf", n_pages=3)
    out = tmp_path / "out"
    base = ["ocr", str(doc.path), "-o", str(out), "--text-layer", "only", "--quiet"]
    assert main(base + ["--pages", "2"]) == 0
    assert [r["page"] for r in _records(out / "three.jsonl")] == [2]
    from docencoder import OCR

    summary = OCR(text_layer="only").ocr_files([doc.path], out, pages="1-3,9")
    # page 9 is past the end: reported (kind "pages"), the pages that exist are done
    assert (summary.pages, summary.pages_skipped, summary.exit_code) == (2, 1, 1)
    (err,) = _records(out / "errors.jsonl")
    assert err["kind"] == "pages" and "--pages 9" in err["error"] and "3 pages" in err["error"]
    recs = _records(out / "three.jsonl")
    assert [r["page"] for r in recs] == [1, 2, 3]  # sorted when the document completes
    md = (out / "three.md").read_text()
    assert [md.index(f"<!-- page {n} -->") for n in (1, 2, 3)] == sorted(
        md.index(f"<!-- page {n} -->") for n in (1, 2, 3))
    # --overwrite redoes everything
    summary = OCR(text_layer="only").ocr_files([doc.path], out, overwrite=True)
    assert (summary.pages, summary.pages_skipped) == (3, 0)


def test_resume_after_kill(model_dir, tmp_path):
    """kill -9 mid-run, add a torn line as a crash mid-write would, re-run: every page once."""
    doc = make_whitepaper(tmp_path / "long.pdf", n_pages=4)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "docencoder.cli", "ocr", str(doc.path), "-o", str(out),
           "--model", str(model_dir), "--text-layer", "never", "--threads", "1", "--quiet",
           "--batch-size", "256"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
    jsonl = out / "long.jsonl"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if jsonl.exists() and jsonl.read_text().count("\n") >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    written = jsonl.read_text().count("\n")
    assert 1 <= written < 4, "the run should have been killed part-way"
    with open(jsonl, "a") as f:
        f.write('{"doc": "torn", "page": ')
    rc = subprocess.run(cmd, env=env, cwd=ROOT, timeout=300).returncode
    assert rc == 0
    recs = _records(jsonl)
    assert [r["page"] for r in recs] == [1, 2, 3, 4]
    assert (out / "long.md").read_text().count("<!-- page ") == 4


def test_workers_split_documents(tmp_path):
    docs = [make_whitepaper(tmp_path / f"d{i}.pdf", n_pages=1, seed=i) for i in range(3)]
    out = tmp_path / "out"
    from docencoder import OCR

    summary = OCR(text_layer="only").ocr_files([tmp_path], out, workers=2)
    assert (summary.documents, summary.pages, summary.exit_code) == (3, 3, 0)
    for i, d in enumerate(docs):
        (rec,) = _records(out / f"d{i}.jsonl")
        assert _norm(rec["text"]) == _norm(d.text(1))


def test_progress_events_and_no_prints_from_the_library(tmp_path, capsys):
    """``ocr_files`` reports progress through its callback and prints nothing: the bar and the
    summary are the CLI's."""
    from docencoder import OCR

    docs = [make_whitepaper(tmp_path / f"p{i}.pdf", n_pages=2, seed=i).path for i in range(2)]
    events: list[tuple[str, int]] = []
    summary = OCR(text_layer="only").ocr_files(
        docs + [tmp_path / "missing.pdf"], tmp_path / "out", pages="1-2,5",
        progress=lambda event, n: events.append((event, n)))
    assert sorted(set(events)) == [("page", 1), ("total", 2)]
    assert events.count(("total", 2)) == 2 and events.count(("page", 1)) == 4 == summary.pages
    assert capsys.readouterr() == ("", "")
    out = tmp_path / "cli"
    assert main(["ocr", *map(str, docs), "-o", str(out), "--text-layer", "only"]) == 0
    err = capsys.readouterr().err
    assert "docencoder ocr: 2 documents (0 with failures), 4 pages written, 0 already done" in err


def test_cli_options_follow_the_api(capsys):
    """Every API option of ``docencoder ocr`` has the API's default and choices, and a value
    the API refuses is exit status 2 with the API's message (no second check in the CLI)."""
    import argparse

    from docencoder.ocr import commands
    from docencoder.ocr.api import CLI_OPTIONS, OPTION_CHOICES, option_default

    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers())
    base = ["ocr", "in.pdf", "-o", "out"]
    defaults = parser.parse_args(base)
    for option in CLI_OPTIONS:
        assert getattr(defaults, option.param) == option_default(option.param), option.param
    for param, choices in OPTION_CHOICES.items():
        (option,) = [o for o in CLI_OPTIONS if o.param == param]
        for choice in choices:
            assert getattr(parser.parse_args(base + [option.flag, choice]), param) == choice
        with pytest.raises(SystemExit):
            parser.parse_args(base + [option.flag, "no-such-mode"])
    capsys.readouterr()


@pytest.mark.parametrize("flag, value, message", [("--dpi", "0", "dpi must be positive"),
                                                  ("--batch-size", "0", "batch_size must be"),
                                                  ("--workers", "0", "workers must be positive"),
                                                  ("--threads", "0", "threads must be positive"),
                                                  ("--device", "tpu", "unknown device")])
def test_bad_values_are_refused_by_the_api(sample, tmp_path, capsys, flag, value, message):
    out = tmp_path / "out"
    assert main(["ocr", str(sample.path), "-o", str(out), "--text-layer", "only", flag,
                 value]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_read_raises_for_bad_documents(tmp_path):
    from docencoder import OCR
    from docencoder.ocr.api import OCRError

    (tmp_path / "x.pdf").write_text("nope")
    with pytest.raises(OCRError, match="not a PDF"):
        OCR(text_layer="only").read(tmp_path / "x.pdf")
    with pytest.raises(ValueError, match="text_layer"):
        OCR(text_layer="maybe")
