"""The Tesseract wrapper on one generated page, and the docencoder worker with a stand-in OCR."""

from __future__ import annotations

import shutil

import pytest
from PIL import Image, ImageDraw, ImageFont

from docencoder.eval import ocr_worker
from docencoder.eval.metrics import score_page
from docencoder.eval.tesseract import TesseractConfig, run_page, run_pages, tesseract_version

TEXT = ["Document encoders compress pages", "into a few vision tokens."]


def _font(size: int):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
                 "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    pytest.skip("no TrueType font for the test page")


@pytest.fixture
def page_png(tmp_path):
    """A 150-DPI page fragment with two lines of 11 pt text (~23 px)."""
    img = Image.new("L", (1100, 260), 255)
    draw = ImageDraw.Draw(img)
    font = _font(30)
    for i, line in enumerate(TEXT):
        draw.text((60, 60 + i * 60), line, fill=0, font=font)
    path = tmp_path / "page.png"
    img.save(path)
    return path


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_reads_a_generated_page(page_png):
    assert tesseract_version().startswith("tesseract")
    res = run_page(page_png)
    assert res.error is None
    assert score_page(res.text, "\n".join(TEXT)).cer < 0.05
    assert res.seconds > 0 and 1_000 < res.max_rss_kb < 2_000_000


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_tesseract_failures_are_reported_not_raised(tmp_path, page_png):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not an image")
    results, wall = run_pages([bad, page_png], TesseractConfig(workers=2))
    assert results[0].error and results[0].text == ""
    assert results[1].error is None and "vision" in results[1].text
    assert wall > 0


def test_missing_binary_is_reported(page_png):
    res = run_page(page_png, TesseractConfig(binary="/nonexistent/tesseract"))
    assert res.error and "cannot run" in res.error
    assert tesseract_version("/nonexistent/tesseract") is None


#: a stand-in for docencoder.OCR, importable by the worker subprocess: reads PDFs only (like an
#: API without image support), reports vision tokens, fails on files named "broken"
FAKE_OCR = """
class Page:
    def __init__(self, text):
        self.text = text
        self.vision_tokens = 32


class FakeOCR:
    def __init__(self, batch_size=16, model_dir=None, quantize="auto"):
        self.model_dir = model_dir

    def read(self, path, dpi=150, text_layer="auto"):
        assert text_layer == "never" and dpi == 150
        if not path.endswith(".pdf"):
            raise ValueError("not a PDF")
        if "broken" in path:
            raise RuntimeError("decoder failed")
        return [Page("hello world")]
"""


@pytest.fixture
def fake_ocr(tmp_path, monkeypatch):
    (tmp_path / "fake_ocr_mod.py").write_text(FAKE_OCR)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))  # for the worker subprocess
    return "fake_ocr_mod:FakeOCR"


def test_worker_wraps_images_and_reports_errors(tmp_path, page_png, fake_ocr):
    broken = tmp_path / "broken.png"
    Image.new("L", (50, 50), 255).save(broken)
    result = ocr_worker.run({"batch_size": 4, "dpi": 150, "factory": fake_ocr, "inputs": [
        {"key": "a", "path": str(page_png)}, {"key": "b", "path": str(broken)}]})
    assert result["mode"] == "pdf"
    a, b = result["pages"]
    assert a["text"] == "hello world" and a["vision_tokens"] == 32 and a["error"] is None
    assert b["error"].startswith("RuntimeError") and b["text"] == ""
    assert result["max_rss_kb"] > 0


def test_docencoder_run_in_worker_process(tmp_path, fake_ocr):
    from docencoder.eval.bench import BenchConfig, run_docencoder
    from docencoder.eval.devset import DEFAULT_DEV_DIR, load_manifest

    rows = load_manifest(DEFAULT_DEV_DIR)[:2]
    gt = {rows[0].id: "hello world", rows[1].id: "something else entirely"}
    images = {("degraded", r.id): DEFAULT_DEV_DIR / r.scan for r in rows}
    cfg = BenchConfig(out=tmp_path, ocr_factory=fake_ocr, workers=2)
    run = run_docencoder(rows, "degraded", images, gt, cfg, _model_dir(tmp_path))
    assert run.errors == []
    assert run.scores[0].ned == 0.0 and run.scores[1].bow_f1 == 0.0
    assert run.vision_tokens == {rows[0].id: 32, rows[1].id: 32}
    assert run.load_s is not None and run.wall_s > 0
    assert 10 < run.peak_rss_mb < 4000  # the worker's own memory, not the parent's
    # as Tesseract: two processes of one thread share the pages; speed is the slowest worker's
    assert len(run.workers) == 2 and [w["threads"] for w in run.workers] == [1, 1]
    assert sum(w["pages"] for w in run.workers) == 2
    assert run.wall_s == max(w["wall_s"] for w in run.workers)
    assert run.load_s == max(w["load_s"] for w in run.workers)


def test_page_claims_give_each_page_to_one_worker(tmp_path):
    import threading

    sync = {"dir": str(tmp_path), "count": 2}
    a = ocr_worker.PageClaims(dict(sync, index=0))
    b = ocr_worker.PageClaims(dict(sync, index=1))
    waited = threading.Event()

    def first() -> None:
        a.ready()  # returns only once b is ready too
        waited.set()

    t = threading.Thread(target=first)
    t.start()
    t.join(0.2)
    assert not waited.is_set()
    b.ready()
    t.join(5)
    assert waited.is_set()
    taken = [(n, w) for n in range(6) for w, c in ((0, a), (1, b)) if c.take(n)]
    assert [n for n, _ in taken] == list(range(6)) and {w for _, w in taken} == {0}
    assert all(ocr_worker.PageClaims(None).take(n) for n in range(3))  # no sync: every page


def test_image_to_pdf_keeps_pixels_at_dpi(tmp_path, page_png):
    import pypdfium2 as pdfium

    pdf = ocr_worker.image_to_pdf(page_png, tmp_path / "p.pdf", 150)
    doc = pdfium.PdfDocument(str(pdf))
    w_pt, h_pt = doc[0].get_size()
    assert round(w_pt * 150 / 72) == 1100 and round(h_pt * 150 / 72) == 260
    doc.close()


def _model_dir(tmp_path, name: str = "line-tiny", folder: str = "", **overrides):
    import json

    from docencoder.model import get_config

    d = tmp_path / (folder or name)
    d.mkdir()
    (d / "config.json").write_text(json.dumps(get_config(name, **overrides).to_dict()))
    return d


def test_compression_table_uses_reported_or_counted_vision_tokens(tmp_path):
    from docencoder.eval.bench import SystemRun, compression_table, count_vision_tokens
    from docencoder.eval.devset import DEFAULT_DEV_DIR, load_manifest
    from docencoder.model.weights import load_config

    rows = load_manifest(DEFAULT_DEV_DIR)[:2]
    gt = {r.id: (DEFAULT_DEV_DIR / r.gt).read_text("utf-8") for r in rows}
    images = {("degraded", r.id): DEFAULT_DEV_DIR / r.scan for r in rows}
    scores = [score_page(gt[r.id], gt[r.id], key=r.id) for r in rows]
    run = SystemRun("docencoder:test", "degraded", scores, {}, 1.0, 1.0,
                    vision_tokens={rows[0].id: 160, rows[1].id: None})
    model_dir = _model_dir(tmp_path, folder="fixed",
                           geometry=dict(height=32, width=512, dynamic_width=False))
    comp = compression_table(run, rows, images, gt, model_dir)
    first, second = comp["pages"]
    assert first["vision_tokens"] == 160
    per_line = load_config(model_dir).vision_tokens()
    counted = count_vision_tokens(images[("degraded", rows[1].id)], load_config(model_dir))
    assert second["vision_tokens"] == counted
    assert counted % per_line == 0 and counted > 10 * per_line
    # a dynamic-width model spends only the tokens that cover each piece's ink
    dynamic = count_vision_tokens(images[("degraded", rows[1].id)],
                                  load_config(_model_dir(tmp_path, folder="dynamic")))
    assert counted // per_line <= dynamic < counted
    assert first["compression"] == pytest.approx(first["text_tokens"] / 160)
    assert sum(b["pages"] for b in comp["bins"]) == 2
    assert all(p["precision"] == 1.0 for p in comp["pages"])


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_bench_end_to_end_on_one_page(tmp_path, capsys):
    import json

    from docencoder.eval.bench import BenchConfig, run_bench

    cfg = BenchConfig(pages=1, variants=("degraded",), models=(tmp_path / "no-model",),
                      out=tmp_path / "out")
    result = run_bench(cfg, log=lambda *_: None)
    printed = capsys.readouterr().out
    assert "| tesseract" in printed and "docencoder skipped" in printed
    saved = json.loads((tmp_path / "out" / "bench_ocr.json").read_text())
    assert saved["runs"][0]["summary"]["pages"] == 1 == len(result["pages"])
    assert saved["runs"][0]["summary"]["bow_f1"] > 0.5
    assert (tmp_path / "out" / "accuracy_vs_speed.png").stat().st_size > 1000
