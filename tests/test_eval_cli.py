"""``docencoder eval`` on tiny folders in both input forms (jsonl OCR output and .txt files)."""

from __future__ import annotations

import json

import pytest

from docencoder.eval import commands
from docencoder.eval.pages import align, load_pages

REF_PAGES = {"paper": ["Attention is all you need.\nWe propose a new network.",
                       "Results on translation tasks."],
             "manual": ["Install the package with pip."]}


def _parser():
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    commands.register(sub)
    return parser


def _run(argv):
    args = _parser().parse_args(argv)
    return args.func(args)


@pytest.fixture
def ref_txt(tmp_path):
    d = tmp_path / "ref"
    d.mkdir()
    for doc, pages in REF_PAGES.items():
        (d / f"{doc}.txt").write_text("\f".join(pages) + "\f", encoding="utf-8")
    return d


def _write_jsonl(folder, pages_by_doc, first_page=1, mutate=None):
    folder.mkdir()
    for doc, pages in pages_by_doc.items():
        with (folder / f"{doc}.jsonl").open("w", encoding="utf-8") as f:
            for i, text in enumerate(pages):
                text = mutate(text) if mutate else text
                f.write(json.dumps({"doc": f"/some/where/{doc}.pdf", "page": i + first_page,
                                    "text": text, "source": "ocr"}) + "\n")
    return folder


def test_txt_pages_split_on_form_feeds(ref_txt):
    pages = load_pages(ref_txt)
    assert pages[("paper", 1)].startswith("Attention")
    assert pages[("paper", 2)] == "Results on translation tasks."
    assert set(pages) == {("paper", 1), ("paper", 2), ("manual", 1)}


def test_eval_jsonl_against_txt_perfect(tmp_path, ref_txt, capsys):
    pred = _write_jsonl(tmp_path / "pred", REF_PAGES)
    out = tmp_path / "scores.json"
    assert _run(["eval", str(pred), str(ref_txt), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["summary"]["pages"] == 3
    assert result["summary"]["ned"] == 0.0 and result["summary"]["bow_f1"] == 1.0
    assert "NED" in capsys.readouterr().out


def test_eval_zero_based_pages_are_aligned(tmp_path, ref_txt):
    pred = _write_jsonl(tmp_path / "pred", REF_PAGES, first_page=0)
    aligned = align(load_pages(pred), load_pages(ref_txt))
    assert aligned[("paper", 2)] == "Results on translation tasks."


def test_eval_txt_against_jsonl_with_errors_and_missing(tmp_path, ref_txt):
    ref = _write_jsonl(tmp_path / "ref_jsonl", REF_PAGES)
    pred = tmp_path / "pred"
    pred.mkdir()
    (pred / "paper.txt").write_text("Attention is all you need.\nWe propose a new netwrk.\f"
                                    "Results on translation tasks.\f", encoding="utf-8")
    out = tmp_path / "scores.json"
    assert _run(["eval", str(pred), str(ref), "--json", str(out), "--quiet"]) == 0
    result = json.loads(out.read_text())
    by_key = {p["key"]: p for p in result["pages"]}
    assert by_key["paper#1"]["edit_distance"] == 1
    assert by_key["paper#2"]["ned"] == 0.0
    assert by_key["manual#1"]["missing"] and by_key["manual#1"]["ned"] == 1.0
    assert result["summary"]["missing"] == 1


def test_eval_against_devset_manifest(tmp_path):
    dev = tmp_path / "dev"
    (dev / "gt").mkdir(parents=True)
    (dev / "gt" / "p1.txt").write_text("ground truth text", encoding="utf-8")
    (dev / "manifest.jsonl").write_text(json.dumps({"id": "p1", "doc": "p1", "page": 1,
                                                    "gt": "gt/p1.txt"}) + "\n")
    pred = _write_jsonl(tmp_path / "pred", {"p1": ["ground truth text"]}, first_page=0)
    out = tmp_path / "s.json"
    assert _run(["eval", str(pred), str(dev), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["summary"]["ned"] == 0.0


def test_eval_bad_input_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert _run(["eval", str(bad), str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "ref.txt").write_text("x")
    assert _run(["eval", str(bad), str(tmp_path / "ref.txt")]) == 2
    assert "not JSON" in capsys.readouterr().err


def test_bench_is_registered():
    import argparse

    parser = argparse.ArgumentParser()
    bench = parser.add_subparsers()
    commands.register_bench(bench)
    args = parser.parse_args(["ocr", "--pages", "3", "--systems", "tesseract"])
    assert args.pages == "3" and args.systems == "tesseract"
