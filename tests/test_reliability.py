"""Issue 14: nothing in a real PDF stops a batch, nothing a user does loses or mixes pages.

Text-layer decoding (surrogate pairs, lone surrogates, U+FFFD and control characters), a failure
injected at every stage of reading a document, exit statuses, resume consistency (--overwrite
with --pages, runs with other settings, output names), honest records (dpi, the text-layer
verdict) and an unwritable OUT.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from PIL import Image

from docencoder.cli import main
from docencoder.ocr.samples import make_scanned_pdf, make_whitepaper
from rawpdf import stream, write_pdf

TEXGYRE = Path("/usr/share/doc/fonts-texgyre")

#: glyph codes of :func:`tounicode_pdf`'s font and the text they map to: four mathematical
#: italic letters outside the BMP (UTF-16 surrogate pairs in the ToUnicode map), and a code that
#: maps to a lone high surrogate (as the TeX Gyre manuals' encoding tables do)
MATH_ITALIC = {0x61: "\U0001D44E", 0x62: "\U0001D44F", 0x63: "\U0001D450", 0x78: "\U0001D465"}
LONE = {0x7E: "\ud800"}


def tounicode_pdf(path: Path, lines: list[bytes], mapping: dict[int, str]) -> Path:
    """A one-page PDF in Helvetica whose ToUnicode CMap maps the codes of ``mapping`` to its
    strings (as UTF-16BE, so astral characters become surrogate pairs) and the other printable
    ASCII codes to themselves: the way unicode-math fonts put mathematical letters in the text
    layer, without needing a TeX installation to make one."""
    def utf16(text: str) -> str:
        return text.encode("utf-16-be", "surrogatepass").hex().upper()

    full = {c: chr(c) for c in range(0x20, 0x7F)} | mapping
    bfchar = "\n".join(f"<{c:02X}> <{utf16(u)}>" for c, u in sorted(full.items()))
    cmap = (f"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /T def\n"
            f"/CMapType 2 def\n1 begincodespacerange\n<00> <FF>\nendcodespacerange\n"
            f"{len(full)} beginbfchar\n{bfchar}\nendbfchar\nendcmap\n"
            f"CMapName currentdict /CMap defineresource pop\nend\nend").encode()
    content = b"BT /F1 11 Tf 72 720 Td 14 TL " + b" ".join(b"(" + line + b") '" for line in lines) + b" ET"

    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
            b"/Resources << /Font << /F1 5 0 R >> >> >>",
            stream(content),
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
            stream(cmap)]
    return write_pdf(path, objs)


MATH_LINES = [b"Let a + b = c hold for every x in the set; this is plain prose.",
              b"The next line of the page has words and no formula at all here.",
              b"A marker ~ maps to a lone surrogate and must simply disappear."]


@pytest.fixture(scope="module")
def math_pdf(tmp_path_factory) -> Path:
    return tounicode_pdf(tmp_path_factory.mktemp("math") / "math.pdf", MATH_LINES,
                         MATH_ITALIC | LONE)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _clean(text: str) -> bool:
    """No U+FFFD, control characters (but newlines) or surrogates."""
    import unicodedata

    return all(c == "\n" or (unicodedata.category(c) not in ("Cc", "Cs") and c != "\ufffd")
               for c in text)


# ------------------------------------------------------------------------------------------------
# 1. text-layer characters
# ------------------------------------------------------------------------------------------------

def test_surrogate_pairs_are_joined_and_normalised(math_pdf):
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    # the fixture does what unicode-math PDFs do: pdfium hands out both halves of each pair
    pdf = pdfium.PdfDocument(str(math_pdf))
    textpage = pdf[0].get_textpage()
    codes = [raw.FPDFText_GetUnicode(textpage, i) for i in range(raw.FPDFText_CountChars(textpage))]
    assert 0xD835 in codes and 0xDC4E in codes and 0xD800 in codes
    textpage.close()
    pdf.close()

    from docencoder.pdf.textlayer import page_text, read_pages
    from docencoder.pdf.trust import text_layer_quality

    text = page_text(math_pdf, 0)
    assert text.splitlines()[0] == "Let a + b = c hold for every x in the set; this is plain prose."
    assert "A marker maps to a lone surrogate" in text  # the lone half is gone, not U+FFFD
    assert _clean(text) and text.encode("utf-8")
    assert text_layer_quality(text) == (True, "ok")
    (layout,) = read_pages(math_pdf)
    # one character, with a box, per joined pair (code 0x61 is U+1D44E wherever it is set)
    first = layout.lines[0]
    assert len(first.glyphs) == len(first.text.replace(" ", ""))
    a = [c for c in first.glyphs if c.text == "a"]
    assert len(a) == 2 and all(c.box[2] > c.box[0] for c in a)  # "a" and the a of "plain"


def test_text_layer_only_writes_clean_utf8(math_pdf, tmp_path):
    out = tmp_path / "out"
    assert main(["ocr", str(math_pdf), "-o", str(out), "--text-layer", "only", "--quiet"]) == 0
    (rec,) = _records(out / "math.jsonl")
    assert rec["source"] == "text-layer" and rec["text_layer"] == "trusted"
    assert "Let a + b = c" in rec["text"] and _clean(rec["text"])
    from docencoder import OCR

    (page,) = OCR(text_layer="only").read(math_pdf)  # the API returns the same, clean text
    assert page.text == rec["text"]


@pytest.mark.skipif(not (TEXGYRE / "qtm-info.pdf").exists(), reason="fonts-texgyre docs missing")
def test_texgyre_encoding_table_page(tmp_path):
    """The issue's reproduction: page 21 of qtm-info.pdf maps a glyph to a lone U+D800."""
    out = tmp_path / "out"
    rc = main(["ocr", str(TEXGYRE / "qtm-info.pdf"), "-o", str(out), "--pages", "21",
               "--text-layer", "only", "--quiet"])
    assert rc == 0
    (rec,) = _records(out / "qtm-info.jsonl")
    assert _clean(rec["text"]) and "EC (Cork aka T1) encoding table" in rec["text"]


def test_clean_text():
    from docencoder.ocr.results import PageResult, clean_text

    assert clean_text("a\ufffdb\x00c\x07d\ud800e\r\nf\tg\x0ch\uffffi") == "abcde\nf ghi"
    assert clean_text("x\u00b2 \u2212 \U0001D44E \u00ad") == "x\u00b2 \u2212 \U0001D44E \u00ad"
    assert PageResult("d", 1, "bad\ufffd\x1b text", "ocr", "m", 150, 0.0).text == "bad text"


def test_model_output_is_cleaned(math_pdf, tmp_path, monkeypatch, model_dir):
    """Byte-fallback decoding can produce U+FFFD (an invalid byte run): it never reaches `text`."""
    from docencoder.ocr.reader import Reader

    monkeypatch.setattr(Reader, "read_page_pieces",
                        lambda self, pages: ["r\ufffdead \x1b[0mme\x00" for _ in pages])
    out = tmp_path / "out"
    assert main(["ocr", str(math_pdf), "-o", str(out), "--model", str(model_dir),
                 "--text-layer", "never", "--quiet"]) == 0
    (rec,) = _records(out / "math.jsonl")
    assert rec["text"] == "read [0mme" and rec["text_layer"] == "not-checked"


# ------------------------------------------------------------------------------------------------
# 2. no exception while reading one document ends the batch
# ------------------------------------------------------------------------------------------------

#: Installed in this process by :func:`_inject`, and in spawned worker processes through a
#: sitecustomize.py on PYTHONPATH: documents named ``boom-<stage>`` raise at that stage, and
#: decoding is faked (a random model's run-away lines would only make the test slow).
INJECTOR = '''
import os


def install(stage_env="DOCENCODER_TEST_FAIL"):
    if not os.environ.get(stage_env):
        return
    from docencoder.ocr import api, pages, reader, writers

    current = {"doc": ""}

    def boom(stage):
        if f"boom-{stage}" in current["doc"]:
            raise RuntimeError(f"injected {stage} failure")

    real_open, real_document = pages.open_document, api.OCR._document

    def open_document(path, *a, **k):
        current["doc"] = str(path)
        boom("open")
        return real_open(path, *a, **k)

    def document(self, path, *a, **k):
        current["doc"] = str(path)
        return real_document(self, path, *a, **k)

    def patch(cls, name, stage, fake=None):
        real = getattr(cls, name)

        def wrapper(self, *a, **k):
            boom(stage)
            return fake(self, *a, **k) if fake else real(self, *a, **k)
        setattr(cls, name, wrapper)

    api.open_document = open_document
    api.OCR._document = document
    patch(pages.PdfDocument, "text", "text")
    patch(pages.PdfDocument, "render", "render")
    patch(pages.ImageDocument, "render", "render")
    patch(reader.Reader, "page_pieces", "layout")
    patch(reader.Reader, "read_page_pieces", "model",
          fake=lambda self, pieces: [f"page of {p.count} pieces" for p in pieces])
    patch(writers.DocumentWriter, "write", "write")
    patch(writers.DocumentWriter, "finish", "finish")

    import multiprocessing
    import signal

    def render_or_die(self, *a, **k):
        if "boom-die" in current["doc"] and multiprocessing.parent_process() is not None:
            os.kill(os.getpid(), signal.SIGKILL)  # a worker dies as in a segfault or OOM kill
        return real_render(self, *a, **k)
    real_render = pages.PdfDocument.render
    pages.PdfDocument.render = render_or_die
'''

#: appended to :data:`INJECTOR` in a worker's sitecustomize: a ``boom-die`` document also kills
#: its worker process when its text layer is read (for ``--text-layer only``, which renders nothing)
DIE_ON_TEXT = '''

def install_die_on_text():
    import multiprocessing
    import signal

    from docencoder.ocr import pages

    real_text = pages.PdfDocument.text

    def text_or_die(self, *a, **k):
        if "boom-die" in str(self.path) and multiprocessing.parent_process() is not None:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_text(self, *a, **k)
    pages.PdfDocument.text = text_or_die


install_injector = install


def install():
    install_injector()
    if os.environ.get("DOCENCODER_TEST_FAIL"):
        install_die_on_text()
'''

STAGES = ("open", "text", "render", "layout", "model", "write", "finish")


@pytest.fixture(scope="module")
def boom_dir(tmp_path_factory):
    """Two good documents (one digital, one scanned) and one document per failing stage; the
    stages that need pixels get scanned PDFs (auto mode OCRs them)."""
    d = tmp_path_factory.mktemp("boom")
    digital = make_whitepaper(d / "src.pdf", n_pages=2, seed=3)
    scanned = make_scanned_pdf(digital.path, d / "good-scan.pdf")
    shutil.copy(digital.path, d / "good-digital.pdf")
    for stage in STAGES:
        src = digital.path if stage in ("open", "text", "write", "finish") else scanned
        shutil.copy(src, d / f"boom-{stage}.pdf")
    digital.path.unlink()
    return d


def _inject(tmp_path: Path, monkeypatch) -> Path:
    """Write the injector as sitecustomize.py, put it on PYTHONPATH (for spawned workers) and
    install it here."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(INJECTOR + "\ninstall()\n")
    monkeypatch.setenv("DOCENCODER_TEST_FAIL", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(site), str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]))
    namespace: dict = {}
    exec(INJECTOR, namespace)  # noqa: S102 - the test's own code
    from docencoder.ocr import api, pages, reader, writers

    for obj, names in ((api, ("open_document",)), (api.OCR, ("_document",)),
                       (pages.PdfDocument, ("text", "render")), (pages.ImageDocument, ("render",)),
                       (reader.Reader, ("page_pieces", "read_page_pieces")),
                       (writers.DocumentWriter, ("write", "finish"))):
        for name in names:
            monkeypatch.setattr(obj, name, getattr(obj, name))  # restored after the test
    namespace["install"]()
    return site


@pytest.mark.parametrize("workers, isolate", [(1, False), (2, True)])
def test_a_failure_at_any_stage_fails_that_document_only(boom_dir, model_dir, tmp_path,
                                                          monkeypatch, workers, isolate):
    """In this process (one worker, ``isolate=False``) and in worker processes alike."""
    _inject(tmp_path, monkeypatch)
    from docencoder import OCR

    out = tmp_path / "out"
    ocr = OCR(model_dir, text_layer="auto")
    summary = ocr.ocr_files([boom_dir], out, workers=workers, threads=1, isolate=isolate)
    assert (ocr._reader is None) == isolate  # the workers load the model, this process not
    assert summary.exit_code == 1 and summary.documents == 2 + len(STAGES)
    errors = _records(out / "errors.jsonl")
    by_doc = {Path(e["doc"]).stem: e for e in errors}
    # every stage but the text layer's fails its document (a row with type and message) ...
    assert set(by_doc) == {f"boom-{s}" for s in STAGES if s != "text"}
    for stage in set(STAGES) - {"text"}:
        e = by_doc[f"boom-{stage}"]
        assert f"RuntimeError: injected {stage} failure" in e["error"], e
        assert e["kind"] == "exception"
    # ... pages that could not be rendered or laid out are rows of their own page
    assert by_doc["boom-render"]["page"] is not None and by_doc["boom-layout"]["page"] is not None
    # an unreadable text layer in auto mode is not trusted: the page is OCR'd and says why
    for rec in _records(out / "boom-text.jsonl"):
        assert rec["source"] == "ocr"
        assert rec["text_layer"].startswith("untrusted: cannot read it (RuntimeError: injected")
    # every other document is done
    assert [r["source"] for r in _records(out / "good-digital.jsonl")] == ["text-layer"] * 2
    assert [r["source"] for r in _records(out / "good-scan.jsonl")] == ["ocr"] * 2
    assert (out / "good-scan.md").exists() and (out / "good-digital.md").exists()
    # what was written before a writer failure is whole: finish() failed after both pages
    assert [r["page"] for r in _records(out / "boom-finish.jsonl")] == [1, 2]


@pytest.mark.slow  # three pools of two spawned workers: ~2 minutes on a busy 2-core machine
def test_a_document_that_kills_its_worker_is_reported_alone(boom_dir, model_dir, tmp_path,
                                                            monkeypatch):
    """The pool breaks for every document in flight: each is retried alone, and only the one
    that kills its worker again is reported."""
    _inject(tmp_path, monkeypatch)
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("good-digital.pdf", "good-scan.pdf"):
        shutil.copy(boom_dir / name, docs / name)
    shutil.copy(boom_dir / "good-scan.pdf", docs / "boom-die.pdf")
    shutil.copy(boom_dir / "good-scan.pdf", docs / "other-scan.pdf")
    from docencoder import OCR

    out = tmp_path / "out"
    summary = OCR(model_dir).ocr_files([docs], out, workers=2, threads=1)
    assert summary.exit_code == 1
    (row,) = _records(out / "errors.jsonl")
    assert Path(row["doc"]).name == "boom-die.pdf" and row["kind"] == "worker"
    assert "died" in row["error"]
    for name in ("good-digital", "good-scan", "other-scan"):
        assert [r["page"] for r in _records(out / f"{name}.jsonl")] == [1, 2], name


@pytest.mark.parametrize("mode", ["only", pytest.param("auto", marks=pytest.mark.slow)])
def test_a_document_that_kills_the_one_worker_is_reported_alone(boom_dir, model_dir, tmp_path,
                                                                 monkeypatch, capsys, mode):
    """``--workers 1`` (the default) with several documents reads them in one worker process:
    a document that kills it (as a segfault in pdfium or torch would) is reported, the others
    are done, and the run ends as usual (exit 1, the summary line). Three worker starts: the
    first dies with the suspect after a good document, the suspect alone, the rest.

    ``only``: the worker dies reading the text layer, and starts without torch (~20 s beside a
    training job); ``auto``: it dies rendering a scan, and loads the tiny model (~70 s)."""
    _inject(tmp_path, monkeypatch)
    (tmp_path / "site" / "sitecustomize.py").write_text(INJECTOR + DIE_ON_TEXT + "\ninstall()\n")
    docs = tmp_path / "docs"
    docs.mkdir()
    first = "good-digital.pdf" if mode == "only" else "good-scan.pdf"
    shutil.copy(boom_dir / first, docs / "a-first.pdf")
    shutil.copy(boom_dir / first, docs / "boom-die.pdf")
    shutil.copy(boom_dir / "good-digital.pdf", docs / "z-digital.pdf")
    out = tmp_path / "out"
    assert main(["ocr", str(docs), "-o", str(out), "--model", str(model_dir), "--threads", "1",
                 "--text-layer", mode]) == 1
    (row,) = _records(out / "errors.jsonl")
    assert Path(row["doc"]).name == "boom-die.pdf" and row["kind"] == "worker"
    assert "worker process died" in row["error"]
    for name in ("a-first", "z-digital"):
        assert [r["page"] for r in _records(out / f"{name}.jsonl")] == [1, 2], name
    err = capsys.readouterr().err
    assert "3 documents (1 with failures), 4 pages written" in err, err
    assert "failures are listed in" in err


def test_text_layer_failure_in_only_mode_is_a_page_row(boom_dir, tmp_path, monkeypatch):
    _inject(tmp_path, monkeypatch)
    out = tmp_path / "out"
    assert main(["ocr", str(boom_dir / "boom-text.pdf"), str(boom_dir / "good-digital.pdf"),
                 "-o", str(out), "--text-layer", "only", "--quiet"]) == 1
    rows = _records(out / "errors.jsonl")
    assert [(r["page"], r["kind"]) for r in rows] == [(1, "page"), (2, "page")]
    assert "cannot read the text layer: RuntimeError: injected text failure" in rows[0]["error"]
    assert len(_records(out / "good-digital.jsonl")) == 2


@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_a_model_that_does_not_load_is_exit_3(boom_dir, model_dir, tmp_path, capsys, workers):
    broken = tmp_path / "broken-model"
    shutil.copytree(model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"\0" * 64)  # present, but not weights
    out = tmp_path / "out"
    rc = main(["ocr", str(boom_dir / "good-scan.pdf"), str(boom_dir / "boom-model.pdf"),
               "-o", str(out), "--model", str(broken), "--workers", str(workers), "--threads",
               "1", "--quiet"])
    assert rc == 3
    err = capsys.readouterr().err
    assert "the model cannot be loaded" in err and "Traceback" not in err
    assert not list(out.glob("*.jsonl")) or not (out / "errors.jsonl").exists()


def test_a_bug_outside_documents_is_exit_3(tmp_path, capsys, monkeypatch):
    from docencoder.ocr import api

    def bug(inputs):
        raise AttributeError("a bug in expanding inputs")

    monkeypatch.setattr(api, "expand_inputs", bug)
    doc = make_whitepaper(tmp_path / "a.pdf", n_pages=1)
    assert main(["ocr", str(doc.path), "-o", str(tmp_path / "out"), "--text-layer", "only",
                 "--quiet"]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "AttributeError: a bug in expanding inputs" in err


@pytest.mark.parametrize("workers, delay", [(1, 0.8), (1, 2.5), (2, 4.0)])
def test_ctrl_c_during_start_up_is_one_line_and_130(boom_dir, model_dir, tmp_path, workers, delay):
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) while Python imports torch,
    loads the model or starts workers: exit 130, a one-line message, no traceback from anyone."""
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "docencoder.cli", "ocr", str(boom_dir / "good-scan.pdf"),
           str(boom_dir / "boom-model.pdf"), "-o", str(tmp_path / "out"), "--model",
           str(model_dir), "--text-layer", "never", "--workers", str(workers), "--threads", "1"]
    env = dict(os.environ, PYTHONPATH=str(root))
    proc = subprocess.Popen(cmd, env=env, cwd=root, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "interrupted" in err


def _run_as_program(tmp_path: Path, source: str):
    """Run ``source`` (a module that patches docencoder.cli and calls ``cli.entry()``) as
    ``python -m`` with docencoder importable: how the program itself starts and ends."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    (tmp_path / "as_program.py").write_text(
        "import sys\nimport docencoder.cli as cli\n" + source
        + "sys.argv = ['docencoder', 'ocr']\ncli.entry()\n")
    env = dict(os.environ, PYTHONPATH=f"{tmp_path}{os.pathsep}{root}")
    return subprocess.run([sys.executable, "-m", "as_program"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)


def test_ctrl_c_caught_after_a_string_exec_is_130_under_python_m(tmp_path):
    """A Ctrl-C that lands in a string exec (dataclasses, namedtuple, typing build methods that
    way during imports) and is caught by main() must still end `python -m` with 130: CPython
    marks such an interrupt unhandled and kills the process with SIGINT (-2) at finalization,
    which cli.entry skips after an interrupt. Deterministic form of a CI flake."""
    proc = _run_as_program(tmp_path, (
        "def parser(**kw):\n"
        "    exec('raise KeyboardInterrupt')\n"
        "cli.build_parser = parser\n"))
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr and "Traceback" not in proc.stderr


def test_ctrl_c_swallowed_by_a_finalizer_still_stops_the_run(tmp_path):
    """A KeyboardInterrupt raised inside a __del__ is dropped by Python (only reported to
    sys.unraisablehook); main() redelivers it, so the run stops with 130 instead of going on."""
    import time

    t0 = time.monotonic()
    proc = _run_as_program(tmp_path, (
        "import time\n"
        "class Finalized:\n"
        "    def __del__(self):\n"
        "        raise KeyboardInterrupt\n"
        "class Args:\n"
        "    def func(self, args):\n"
        "        Finalized()\n"
        "        for _ in range(300):\n"
        "            time.sleep(0.1)\n"
        "        return 0\n"
        "class Parser:\n"
        "    def parse_args(self, argv):\n"
        "        return Args()\n"
        "cli.build_parser = lambda **kw: Parser()\n"))
    assert proc.returncode == 130, proc.stderr
    assert time.monotonic() - t0 < 20, "the run went on after the interrupt"
    assert "interrupted" in proc.stderr and "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------------------------
# 3. exactly once, never mixed
# ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def six(tmp_path_factory):
    return make_whitepaper(tmp_path_factory.mktemp("six") / "six.pdf", n_pages=6, seed=5)


def test_overwrite_with_pages_redoes_only_those(six, tmp_path):
    out = tmp_path / "out"
    base = ["ocr", str(six.path), "-o", str(out), "--text-layer", "only", "--quiet"]
    assert main(base + ["--pages", "3-6"]) == 0
    jsonl = out / "six.jsonl"
    before = {r["page"]: r for r in _records(jsonl)}
    # mark page 4's record so a redo is visible
    lines = jsonl.read_text().splitlines()
    lines[1] = lines[1].replace('"text": "', '"text": "OLD ')
    jsonl.write_text("\n".join(lines) + "\n")
    assert main(base + ["--pages", "4", "--overwrite"]) == 0
    after = _records(jsonl)
    assert [r["page"] for r in after] == [3, 4, 5, 6]  # the others kept, in page order
    assert not after[1]["text"].startswith("OLD") and after[1]["text"] == before[4]["text"]
    assert [r["text"] for r in after if r["page"] != 4] == [before[p]["text"] for p in (3, 5, 6)]
    md = (out / "six.md").read_text()
    assert md.count("<!-- page ") == 4 and "OLD" not in md
    # --overwrite without --pages redoes the whole document
    assert main(base + ["--overwrite"]) == 0
    assert [r["page"] for r in _records(jsonl)] == [1, 2, 3, 4, 5, 6]


def test_a_resume_with_other_settings_is_refused(six, model_dir, tmp_path, capsys, monkeypatch):
    from docencoder.ocr.reader import Reader

    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: ["fast"] * len(pages))
    out = tmp_path / "out"
    base = ["ocr", str(six.path), "-o", str(out), "--quiet"]
    tiny = ["--model", str(model_dir)]
    assert main(base + tiny + ["--pages", "1-2", "--text-layer", "never"]) == 0
    jsonl = out / "six.jsonl"
    first = jsonl.read_bytes()
    capsys.readouterr()
    other = tmp_path / "other-model"  # the same weights under another name: another model id
    shutil.copytree(model_dir, other)
    refused = [(tiny + ["--text-layer", "never", "--dpi", "100"], "rendered at 150 dpi"),
               (["--model", str(other), "--text-layer", "never"], "OCR'd by model tiny-line-"),
               (tiny + ["--text-layer", "auto"], "without a look at its text layer"),
               (["--text-layer", "only"], "OCR'd by tiny-line-"),
               # redoing page 2 alone would keep page 1 read otherwise
               (tiny + ["--text-layer", "auto", "--pages", "2", "--overwrite"],
                "--overwrite without --pages")]
    for extra, why in refused:
        assert main(base + extra) == 2, extra
        err = capsys.readouterr().err
        assert why in err and "would mix" in err and str(jsonl) in err, (extra, err)
        assert jsonl.read_bytes() == first  # nothing was touched
    assert not (out / "errors.jsonl").exists()
    # the same settings resume; a narrower --pages of the same settings too
    assert main(base + tiny + ["--text-layer", "never"]) == 0
    assert [r["page"] for r in _records(jsonl)] == [1, 2, 3, 4, 5, 6]
    # --overwrite redoes it all with the new settings: never mixed
    assert main(base + ["--text-layer", "only", "--overwrite"]) == 0
    assert {r["source"] for r in _records(jsonl)} == {"text-layer"}
    # auto resumes the trusted text-layer pages of an `only` run (it would read them alike)
    jsonl.write_text("".join(line + "\n" for line in jsonl.read_text().splitlines()[:3]))
    assert main(base + tiny + ["--text-layer", "auto"]) == 0
    assert [(r["page"], r["text_layer"]) for r in _records(jsonl)] == [(p, "trusted")
                                                                        for p in range(1, 7)]


def test_output_names_depend_on_the_path_not_the_other_inputs(tmp_path):
    """The issue's case: two inputs sharing a name, then a run on one of them, then the corpus
    grows: every document keeps its output file, so every re-run resumes (0 pages written)."""
    a = make_whitepaper(tmp_path / "a" / "p-02.pdf", n_pages=1, seed=1).path
    b = make_whitepaper(tmp_path / "b" / "p-02.pdf", n_pages=1, seed=2).path
    out = tmp_path / "out"
    from docencoder import OCR

    def run(*inputs: Path) -> int:
        return OCR(text_layer="only").ocr_files(list(inputs), out).pages

    assert run(a, b) == 2
    names = sorted(p.name for p in out.glob("*.jsonl"))
    assert len(names) == 2 and all(n.startswith("p-02-") for n in names)
    assert run(b) == 0 and run(a) == 0  # each alone: resumed, not redone under "p-02"
    c = make_whitepaper(tmp_path / "c" / "p-02.pdf", n_pages=1, seed=3).path
    assert run(c) == 1 and (out / "p-02.jsonl").exists()  # a new, unique stem stays plain
    d = make_whitepaper(tmp_path / "d" / "p-02.pdf", n_pages=1, seed=4).path
    assert run(tmp_path / "a", tmp_path / "b", tmp_path / "c", d) == 1  # only d is new
    from docencoder.ocr.writers import hashed_name

    assert (out / f"{hashed_name(d)}.jsonl").exists()  # "p-02" belongs to c
    assert len(list(out.glob("*.jsonl"))) == 4
    for f in out.glob("p-02*.jsonl"):
        recs = _records(f)
        assert len(recs) == 1 and len({r["doc"] for r in recs}) == 1


def test_errors_is_not_a_document_name(tmp_path):
    doc = make_whitepaper(tmp_path / "errors.pdf", n_pages=1).path
    out = tmp_path / "out"
    assert main(["ocr", str(doc), "-o", str(out), "--text-layer", "only", "--quiet"]) == 0
    (jsonl,) = [p for p in out.glob("errors-*.jsonl")]
    assert _records(jsonl)[0]["page"] == 1 and not (out / "errors.jsonl").exists()


def test_pages_past_the_end(six, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["ocr", str(six.path), "-o", str(out), "--text-layer", "only", "--quiet"]
    assert main(base + ["--pages", "999"]) == 2
    err = capsys.readouterr().err
    assert "--pages 999" in err and "6 pages" in err
    assert not list(out.glob("six*"))  # no empty output
    assert main(base + ["--pages", "6-8,10-"]) == 1  # page 6 exists: done, the rest reported
    (row,) = _records(out / "errors.jsonl")
    assert row["kind"] == "pages" and "--pages 7-8,10-" in row["error"]
    assert [r["page"] for r in _records(out / "six.jsonl")] == [6]
    from docencoder import OCR
    from docencoder.ocr.api import OCRError

    with pytest.raises(OCRError, match="past the end"):
        OCR(text_layer="only").read(six.path, pages="7")


def test_image_dpi_is_0_when_unknown(tmp_path, model_dir, monkeypatch):
    from docencoder.ocr.pages import image_dpi, open_document
    from docencoder.ocr.reader import Reader

    img = Image.new("L", (300, 120), 255)
    img.save(tmp_path / "nores.tif")
    img.save(tmp_path / "res.tif", dpi=(300, 300))
    assert Image.open(tmp_path / "nores.tif").info.get("dpi") == (1, 1)  # what PIL makes of it
    assert image_dpi(Image.open(tmp_path / "nores.tif")) == 0
    with open_document(tmp_path / "res.tif") as d:
        assert d.render(1, 150)[1] == 300
    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: [""] * len(pages))
    out = tmp_path / "out"
    assert main(["ocr", str(tmp_path / "nores.tif"), "-o", str(out), "--model", str(model_dir),
                 "--quiet"]) == 0
    (rec,) = _records(out / "nores.jsonl")
    assert rec["dpi"] == 0 and rec["source"] == "ocr" and rec["text_layer"] == "absent"


def test_each_page_says_why_it_was_read_so(six, model_dir, tmp_path, monkeypatch):
    from docencoder import OCR
    from docencoder.ocr.reader import Reader

    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: ["x"] * len(pages))
    mixed = make_scanned_pdf(six.path, tmp_path / "mixed.pdf", pages=[2])
    garbled = tounicode_pdf(tmp_path / "garbled.pdf", MATH_LINES,
                            {c: "\ue000" for c in range(0x41, 0x7B)})  # private-use glyphs
    ocr = OCR(model_dir)
    pages = ocr.read(mixed, pages="1-2")
    assert [(p.source, p.text_layer) for p in pages] == [("text-layer", "trusted"),
                                                          ("ocr", "absent")]
    (g,) = ocr.read(garbled)
    assert g.source == "ocr" and g.text_layer.startswith("untrusted: private-use characters")
    (g,) = ocr.read(garbled, text_layer="only")
    assert g.source == "text-layer" and g.text_layer.startswith("untrusted: ")
    (n,) = ocr.read(mixed, pages="1", text_layer="never")
    assert (n.source, n.text_layer, n.dpi) == ("ocr", "not-checked", 150)


# ------------------------------------------------------------------------------------------------
# 4. kill -9 at random moments, re-run after each: the output of an uninterrupted run
# ------------------------------------------------------------------------------------------------

def _snapshot(out: Path) -> dict[str, object]:
    """OUT's files, comparable across runs: page records without their timing, markdown and the
    name index byte for byte, errors.jsonl as a sorted list of rows (workers append in any
    order)."""
    snap: dict[str, object] = {}
    for f in sorted(out.iterdir()):
        if f.name == "errors.jsonl":
            snap[f.name] = sorted(f.read_text(encoding="utf-8").splitlines())
        elif f.suffix == ".jsonl":
            recs = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines()]
            snap[f.name] = [{k: v for k, v in r.items() if k != "seconds"} for r in recs]
        else:
            snap[f.name] = f.read_bytes()
    return snap


def _kill_docs(d: Path, n_docs: int, n_pages: int, scanned: bool) -> Path:
    """A batch: ``n_docs`` generated papers (scanned copies with ``scanned``), a truncated PDF,
    an encrypted one, and, without ``scanned``, an image (no text layer for --text-layer only)."""
    d.mkdir()
    for i in range(n_docs):
        doc = make_whitepaper(d / f"doc{i}.pdf", n_pages=n_pages, seed=10 + i)
        if scanned:
            make_scanned_pdf(doc.path, d / f"scan{i}.pdf")
            doc.path.unlink()
    data = (d / ("scan0.pdf" if scanned else "doc0.pdf")).read_bytes()
    (d / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (d / "zz-notes.pdf").write_text("not a pdf")
    if not scanned:
        Image.new("L", (200, 100), 255).save(d / "figure.png")
    return d


def _pages_in(out: Path) -> int:
    """Complete page lines in OUT's JSONL files (errors.jsonl aside)."""
    n = 0
    for f in out.glob("*.jsonl") if out.exists() else ():
        if f.name != "errors.jsonl":
            try:
                n += f.read_bytes().count(b"\n")
            except FileNotFoundError:  # renamed away this instant
                pass
    return n


def _kill_test(tmp_path: Path, inputs: Path, args: list[str], kills: int, seed: int) -> dict:
    """Run the batch once uninterrupted, then again from scratch with up to ``kills`` SIGKILLs
    (to the whole process group, workers included), a re-run after each and a final run to the
    end; check that both outputs are the same and return how many kills hit a running batch.

    A kill's moment is random in the batch's progress: after none or one more page of this run
    plus a random fraction of a page's time, so kills land in start-up (imports, model loading,
    the name index), before, inside and between page writes, markdown renames and error-log
    appends, and many kills fit in a small batch.
    """
    import random
    import signal
    import subprocess
    import sys
    import time

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root), OMP_NUM_THREADS="1")

    def cmd(out: Path) -> list[str]:
        return [sys.executable, "-m", "docencoder.cli", "ocr", str(inputs), "-o", str(out),
                "--quiet", "--threads", "1"] + args

    ref = tmp_path / "ref"
    t0 = time.monotonic()
    first = None
    proc = subprocess.Popen(cmd(ref), env=env, cwd=root)
    while proc.poll() is None:
        if first is None and _pages_in(ref):
            first = time.monotonic()
        time.sleep(0.005)
    expected_rc = proc.returncode
    assert expected_rc in (0, 1)
    total_pages = _pages_in(ref)
    per_page = (time.monotonic() - (first or t0)) / max(1, total_pages)
    rng = random.Random(seed)
    out = tmp_path / "out"
    hits = 0
    for _ in range(kills):
        left = total_pages - _pages_in(out)
        if left < 1:
            break
        start = _pages_in(out)
        target = start + rng.randint(0, min(1, left - 1))
        proc = subprocess.Popen(cmd(out), env=env, cwd=root, start_new_session=True)
        deadline = time.monotonic() + 300
        while proc.poll() is None and _pages_in(out) < target and time.monotonic() < deadline:
            time.sleep(0.002)
        time.sleep(rng.uniform(0, per_page))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            hits += 1
        proc.wait()
    rc = subprocess.run(cmd(out), env=env, cwd=root, timeout=600).returncode
    assert rc == expected_rc
    assert _snapshot(out) == _snapshot(ref)
    assert not [f for f in out.iterdir() if ".tmp" in f.name or "probe" in f.name]
    return {"kills": hits, "pages": total_pages}


def test_kill_9_at_random_moments_changes_nothing(tmp_path):
    inputs = _kill_docs(tmp_path / "in", n_docs=5, n_pages=3, scanned=False)
    stats = _kill_test(tmp_path, inputs, ["--text-layer", "only"], kills=4, seed=14)
    assert stats["pages"] == 15 and stats["kills"] >= 2  # the kills hit a running batch


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_kill_9_20_times_with_the_model(tmp_path, model_dir, workers):
    """20 kills of a batch read by a (tiny) model in float32, so a page's text cannot depend on
    what it was batched with (README: int8 quantises activations per batch)."""
    inputs = _kill_docs(tmp_path / "in", n_docs=6, n_pages=3, scanned=True)
    stats = _kill_test(tmp_path, inputs, ["--model", str(model_dir), "--quantize", "none",
                                          "--text-layer", "auto", "--workers", str(workers)],
                       kills=20, seed=workers)
    assert stats["kills"] >= 10


# ------------------------------------------------------------------------------------------------
# 5. the sweep over real PDFs (a fast subset), and an unwritable OUT
# ------------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
#: math-heavy training PDFs (data/real/fetch.sh): unmapped glyphs, private-use symbols, formulas
MATH_REAL = ("lme4__doc__Theory.pdf", "lme4__doc__PLSvGLS.pdf", "quantreg__doc__rq.pdf",
             "robustbase__doc__psi_functions.pdf", "gmm__doc__gmm_with_R.pdf",
             "Rmpfr__doc__log1mexp-note.pdf", "mvtnorm__doc__MVT_Rnews.pdf", "eRm__doc__eRm.pdf")


def test_reserved_packages_are_never_swept(tmp_path):
    from docencoder.eval.robustness import find_pdfs

    for rel in ("texlive-doc/latex/a.pdf", "pkgs/texlive-latex-base-doc/b.pdf",
                "pkgs/r-doc-pdf/c.pdf", "pkgs/nauty-doc/d.pdf", "pkgs/fine-doc/e.pdf",
                "pkgs/fine-doc/F.PDF"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"%PDF-1.4\n")
    files, reserved = find_pdfs([tmp_path, tmp_path / "pkgs"])
    assert sorted(f.name for f in files) == ["F.PDF", "e.pdf"] and reserved == 4


def test_robustness_sweep_fast_subset(tmp_path, math_pdf, bad_inputs, model_dir, monkeypatch):
    """~20 real PDFs (the installed non-reserved Debian docs: TeX Gyre's manuals with lone
    surrogates and private-use glyphs, Latin Modern's; math-heavy training PDFs when fetched),
    the astral-plane fixture and the bad inputs, in --text-layer only and auto (decoding
    stubbed: this is about the pipeline, not the model): no crash, every failure a known kind."""
    from docencoder.eval.robustness import SweepConfig, find_pdfs, report, sweep
    from docencoder.ocr.reader import Reader

    monkeypatch.setattr(Reader, "read_page_pieces", lambda self, pages: ["text"] * len(pages))
    real = ROOT / "data" / "cache" / "real" / "pdfs"
    installed, _ = find_pdfs([Path("/usr/share/doc")])
    picked = installed[:12] + sorted(p for p in real.rglob("*.pdf") if p.name in MATH_REAL)
    subset = tmp_path / "subset"
    subset.mkdir()
    for i, p in enumerate(picked):
        (subset / f"{i:02d}-{p.name}").symlink_to(p.resolve())
    # a scan (no text layer at all): auto must OCR it, whether or not the math PDFs were fetched
    from PIL import Image, ImageDraw

    scan = Image.new("L", (600, 800), 255)
    ImageDraw.Draw(scan).text((50, 50), "A scanned page without a text layer.", fill=0)
    scan.save(subset / "zz-scan.pdf", resolution=72.0, save_all=True, append_images=[scan])
    picked.append(subset / "zz-scan.pdf")
    cfg = SweepConfig(dirs=[subset, math_pdf, bad_inputs], modes=("only", "auto"),
                      pages_per_file=2, model_dir=model_dir)
    result = sweep(cfg, log=lambda line: None)
    text = report(result)
    assert result["files"] == len(picked) + 1 + 7  # good, huge and 5 bad PDFs (not the link)
    for mode, m in result["modes"].items():
        assert m["crashes"] == [], text
        assert set(m["failures"]) <= {"input", "page"}, text  # the bad inputs, nothing else
        assert m["failures"]["input"] == 5, text  # empty, notpdf, truncated, corrupt, encrypted
        assert m["pages"] >= 2 * len(picked), text
    assert result["modes"]["auto"]["sources"].get("ocr", 0) >= 1  # the scan at least
    if (TEXGYRE / "qtm-info.pdf").exists():
        assert any("qtm-info" in str(p) for p in picked)


def _enospc_after(monkeypatch, n_writes: int) -> None:
    """os.write succeeds ``n_writes`` times into OUT, then writes half of its data (as a full
    disk does) and fails with ENOSPC from then on."""
    real_write = os.write
    calls = {"n": 0}

    def write(fd, data):
        if fd <= 2:  # stdout / stderr
            return real_write(fd, data)
        calls["n"] += 1
        if calls["n"] == n_writes + 1:
            return real_write(fd, bytes(data)[: max(1, len(data) // 2)])
        if calls["n"] > n_writes + 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("n_writes", [0, 1, 3])
def test_out_of_space_is_exit_2_and_leaves_nothing_partial(six, tmp_path, capsys, monkeypatch,
                                                           n_writes):
    out = tmp_path / "out"
    out.mkdir()
    _enospc_after(monkeypatch, n_writes)
    rc = main(["ocr", str(six.path), str(tmp_path / "missing.pdf"), "-o", str(out),
               "--text-layer", "only", "--quiet"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "disk is full" in err and "Traceback" not in err
    for f in out.iterdir():  # what is there is whole: complete lines only, no temporaries
        assert ".tmp" not in f.name and "probe" not in f.name
        data = f.read_bytes()
        assert not data or data.endswith(b"\n"), (f.name, data[-40:])
        for line in data.decode().splitlines():
            json.loads(line)
    monkeypatch.undo()
    # with room again, the same command completes the document
    assert main(["ocr", str(six.path), "-o", str(out), "--text-layer", "only", "--quiet"]) == 0
    assert [r["page"] for r in _records(out / "six.jsonl")] == [1, 2, 3, 4, 5, 6]


def test_atomic_write_failure_leaves_no_temporary(tmp_path, monkeypatch, capsys, six):
    """A full disk while the markdown (or sorted JSONL) is renamed into place."""
    out = tmp_path / "out"
    real_replace = os.replace

    def replace(src, dst):
        if str(dst).endswith(".md"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert main(["ocr", str(six.path), "-o", str(out), "--text-layer", "only", "--quiet"]) == 2
    assert "disk is full" in capsys.readouterr().err
    assert sorted(f.name for f in out.iterdir()) == [".docencoder-names", "six.jsonl"]
    assert len(_records(out / "six.jsonl")) == 6


def test_unwritable_out_is_exit_2(six, tmp_path, capsys, monkeypatch):
    # OUT's place is a file
    (tmp_path / "file").write_text("x")
    assert main(["ocr", str(six.path), "-o", str(tmp_path / "file"), "--text-layer", "only",
                 "--quiet"]) == 2
    assert "not a directory" in capsys.readouterr().err
    # a read-only file system (root ignores permission bits, so EROFS is simulated)
    ro = tmp_path / "ro"
    ro.mkdir()
    real_open = os.open

    def os_open(path, flags, *a, **k):
        if str(path).startswith(str(ro)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", os_open)
    assert main(["ocr", str(six.path), "-o", str(ro), "--text-layer", "only", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "read-only" in err and "another -o" in err and "Traceback" not in err
    assert list(ro.iterdir()) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_out_dir(six, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["ocr", str(six.path), "-o", str(ro), "--text-layer", "only",
                     "--quiet"]) == 2
        assert "permission denied" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_auto_keeps_a_text_layer_with_a_few_unmapped_symbols(tmp_path, model_dir):
    """Math pages often carry a few glyphs without a Unicode mapping (big operators, delimiters
    of fonts without ToUnicode): up to 5 % of them, the text layer still reads better than OCR
    (measured: docencoder.pdf.trust.OCR_MAX_UNMAPPED_FRACTION); training keeps 1 %."""
    from docencoder import OCR
    from docencoder.pdf.textlayer import page_text
    from docencoder.pdf.trust import text_layer_quality

    lines = [b"For all x the sum ~ of a over the set ~ is bounded by the norm of b.",
             b"Then ~ holds and the integral ~ of c is finite for every such case."]
    pdf = tounicode_pdf(tmp_path / "sums.pdf", lines, MATH_ITALIC | {0x7E: "\ufffd"})
    text = page_text(pdf, 0)
    assert text.count("\ufffd") == 4 and not text_layer_quality(text)[0]  # 3.4 %: no label
    (page,) = OCR(model_dir).read(pdf)
    assert (page.source, page.text_layer) == ("text-layer", "trusted")
    assert "\ufffd" not in page.text and "the sum of a over the set is bounded" in page.text
