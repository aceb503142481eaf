"""The structure benchmark (issue 17): each check type passes and fails on hand-made markdown,
tolerates a few OCR errors; the case file is what its generator writes; the bench runs end to
end on the text layer of two dev pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docencoder.eval.structure_cases import CASE_FILE, TexSource, generate_cases, load_cases, tex_plain
from docencoder.eval.structure_checks import (
    CHECK_FUNCTIONS,
    CHECKS,
    MarkdownDoc,
    StructureCase,
    run_cases,
)

REPO = Path(__file__).resolve().parents[1]
DEV_WP = REPO / "data" / "devset_wp"

PAGE = """# A Study of Structured Markdown

### 2.1 Related Work

The paragraph that crossed a column break is joined here on one line, and the hyphenated \
word measurements is whole again, while micro-sphere keeps its hyphen.

- first item of a list that goes on
2. P. Author, "A referenced paper," J. Things, 2020.

| Package | Version | Size |
|---|---|---|
| wsclean | 3.1-3 | 3,371 |

```
for (int i = 0; i < n; i++) {
    sum += v[i];
}
```

The last sentence of the page comes after everything else.
"""


def _case(check, **fields):
    return StructureCase(f"p:{check}:1", "p", check, **fields)


#: (case that passes on PAGE, case that fails on PAGE) for every check type
EXAMPLES = {
    "heading": (_case("heading", text="Related work", level=3),
                _case("heading", text="Related work", level=2)),  # right text, wrong level
    "joined": (_case("joined", text="column break is joined here on one line"),
               _case("joined", text="micro-sphere keeps its hyphen. first item of a list")),
    "list-item": (_case("list-item", text="P. Author, \"A referenced paper,\""),
                  _case("list-item", text="The last sentence of the page")),  # a paragraph
    "table-row": (_case("table-row", cells=["wsclean", "3.1-3", "3,371"]),
                  _case("table-row", cells=["Related", "Work"])),  # a heading, not a row
    "code": (_case("code", text="sum += v[i];"),
             _case("code", text="first item of a list that goes on")),
    "absent": (_case("absent", text="Journal of Things, vol. 3"),
               _case("absent", text="A Study of Structured Markdown")),
    "order": (_case("order", before="A Study of Structured", after="The last sentence of the page"),
              _case("order", before="The last sentence of the page", after="micro-sphere keeps")),
}


def test_every_check_type_has_a_function_and_examples():
    assert set(CHECK_FUNCTIONS) == set(CHECKS) == set(EXAMPLES)


@pytest.mark.parametrize("check", CHECKS)
def test_check_passes_and_fails(check):
    doc = MarkdownDoc.parse(PAGE)
    good, bad = EXAMPLES[check]
    assert CHECK_FUNCTIONS[check](doc, good).passed, check
    assert not CHECK_FUNCTIONS[check](doc, bad).passed, check


def test_joined_fails_when_the_text_is_split_over_two_paragraphs():
    split = PAGE.replace("crossed a column break is joined", "crossed a column break\n\nis joined")
    case = _case("joined", text="a column break is joined here on one line")
    assert run_cases([case], PAGE)[0].passed
    assert not run_cases([case], split)[0].passed


def test_joined_checks_the_word_a_line_end_hyphen_makes():
    undone = _case("joined", text="hyphenated word measurements is whole", word="measurements")
    kept = _case("joined", text="while micro-sphere keeps its hyphen", word="micro-sphere")
    assert all(r.passed for r in run_cases([undone, kept], PAGE))
    not_undone = PAGE.replace("measurements", "measure-ments")
    assert not run_cases([undone], not_undone)[0].passed
    wrongly_undone = PAGE.replace("micro-sphere", "microsphere")
    assert not run_cases([kept], wrongly_undone)[0].passed


def test_a_few_ocr_errors_do_not_fail_a_case():
    noisy = (PAGE.replace("Related Work", "Relatcd Work").replace("hyphenated", "hyphenatcd")
             .replace("wsclean", "wsc1ean").replace("sum += v[i];", "sum += v[l];"))
    cases = [EXAMPLES[c][0] for c in CHECKS]
    assert [r.passed for r in run_cases(cases, noisy)] == [True] * len(cases)


def test_page_numbers_are_looked_for_at_the_page_ends_only():
    case = _case("absent", text="7")
    assert run_cases([case], PAGE)[0].passed
    assert not run_cases([case], PAGE + "\n7\n")[0].passed
    inside = PAGE.replace("### 2.1 Related Work", "### 2.1 Related Work\n\n7")
    assert run_cases([case], inside)[0].passed  # an equation number, a table cell


def test_an_unread_page_fails_every_case():
    assert [r.passed for r in run_cases([EXAMPLES["absent"][0]], None)] == [False]


def test_cases_are_checked():
    with pytest.raises(ValueError):
        StructureCase("x", "p", "nonsense", text="a")
    with pytest.raises(ValueError):
        StructureCase("x", "p", "order", before="only one side")


def test_tex_sources_read_as_printed():
    assert tex_plain(r"\textbf{Fast} data~\cite{r2} at \SI{5}{\milli\metre}, ``quoted''") == \
        "Fast data at 5 , \u201cquoted\u201d"
    tex = TexSource("t.tex", "\\begin{document}\\title{A: B}\\section{Intro}\nOne two-three.\n\n"
                    "\\begin{tabular}{ll}\\toprule a & b \\\\ c & d \\\\\\bottomrule\\end{tabular}\n"
                    "\\begin{thebibliography}{9}\\bibitem{r1} A. Name, ``T,''\n\\end{thebibliography}")
    assert [(t, lvl) for t, lvl, _ in tex.headings()] == [("A: B", 1), ("Intro", 2)]
    assert [c for c, _ in tex.table_rows()] == [["a", "b"], ["c", "d"]]
    assert tex.bibitems()[0][0] == "A. Name, \u201cT,\u201d"
    assert ["one", "two", "three"] in tex.paragraphs()


@pytest.mark.skipif(not (DEV_WP / CASE_FILE).is_file(), reason="no whitepaper dev set")
def test_case_file_is_what_the_generator_writes(tmp_path):
    out = tmp_path / CASE_FILE
    cases = generate_cases(DEV_WP, out)
    assert out.read_text(encoding="utf-8") == (DEV_WP / CASE_FILE).read_text(encoding="utf-8")
    assert set(c.check for c in cases) == set(CHECKS)
    assert len({c.id for c in cases}) == len(cases) and all(c.source for c in cases)
    assert load_cases(out) == cases


@pytest.mark.skipif(not (DEV_WP / CASE_FILE).is_file(), reason="no whitepaper dev set")
def test_bench_runs_on_the_text_layer_of_two_pages(tmp_path):
    from docencoder.eval.structure_bench import StructureBenchConfig, report, run_structure_bench

    ids = ("tex-ieeetran-conf--p001", "tex-ieeetran-conf--p002")
    cfg = StructureBenchConfig(modes=("text-layer",), variants=("clean",), page_ids=ids,
                               out=tmp_path)
    result = run_structure_bench(cfg, log=lambda line: None)
    passed, total = result["pass_rates"]["text-layer/clean"]["all"]
    assert total == result["cases"] > 10 and passed / total >= 0.9
    assert "text-layer" in report(result)
    saved = json.loads((tmp_path / "bench_structure.json").read_text(encoding="utf-8"))
    assert saved["config"]["pages"] == list(ids)
    assert (tmp_path / "text-layer" / "clean" / f"{ids[1]}.md").is_file()
