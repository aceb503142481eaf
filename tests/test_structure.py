"""Document structure (issue 17): each rule on hand-made lines, then whole PDFs through the
text-layer path and the pixel path into ``.md``, JSONL ``blocks`` and ``PageResult``."""

from __future__ import annotations

import json

import pytest

from docencoder.structure import (
    Block,
    DocumentWords,
    Lexicon,
    Line,
    StructureConfig,
    join_lines,
    mark_running,
    page_blocks,
    render_document,
    render_page,
    text_lines,
)
from docencoder.structure.roles import (
    CAPTION,
    CODE,
    FOOTNOTE,
    HEADING,
    LIST_ITEM,
    MATH,
    PAGE_FOOTER,
    PAGE_HEADER,
    PAGE_NUMBER,
    PARAGRAPH,
    TABLE,
    TITLE,
)

LEX = Lexicon.of(words=["described", "microsphere", "micro", "sphere", "well", "known",
                        "wellknown", "encoders", "de", "state", "art"],
                 common=["described", "encoders"])
BODY = 10.0


def _line(text, y, x0=0.1, x1=0.9, size=BODY, bold=False, mono=False, block=0, h=0.012):
    return Line(text, (x0, y, x1, y + h), size, False, bold, mono, block)


def _roles(blocks):
    return [b.role for b in blocks]


# ------------------------------------------------------------------------------------------------
# dehyphenation and joining
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("left,right,joined", [
    ("de", "scribed", True),  # a common word: the typesetter's hyphen
    ("micro", "sphere", False),  # in the big list but two words, and not common: a compound
    ("well", "known", False),
    ("state-of-the", "art", False),  # already a compound
    ("COVID", "19", False),  # no letters after
    ("Smith", "Jones", False),  # a capital after
    ("foo", "barbaz", False),  # no word
    ("encod", "ers", True),
])
def test_hyphen_joins_only_words(left, right, joined):
    assert LEX.join(left, right) is joined


def test_the_document_itself_decides_first():
    assert not LEX.join("de", "scribed", DocumentWords(["a de-scribed thing"]))
    assert LEX.join("micro", "sphere", DocumentWords(["one microsphere here"]))
    assert not Lexicon().join("de", "scribed")  # without any word list a hyphen stays


def test_join_lines_undoes_line_end_hyphens_only_in_words():
    lines = ["the method is de-", "scribed with a micro-", "sphere, a state-of-the-",
             "art idea - and more"]
    assert join_lines(lines, LEX) == ("the method is described with a micro-sphere, a "
                                      "state-of-the-art idea - and more")


# ------------------------------------------------------------------------------------------------
# roles on one page
# ------------------------------------------------------------------------------------------------

def _body(y, block, n=3, text="Body text of a paragraph that runs on for a while and more"):
    return [_line(text, y + i * 0.015, block=block) for i in range(n)]


def test_title_headings_and_paragraphs():
    lines = [_line("A Title of the Paper", 0.08, 0.3, 0.7, size=18, bold=True, block=0),
             _line("1 Introduction", 0.15, 0.1, 0.3, size=12, bold=True, block=1),
             *_body(0.17, 2),
             _line("2.1 Related work", 0.25, 0.1, 0.3, block=3),  # numbered, same size
             *_body(0.27, 4),
             _line("Abstract", 0.35, 0.1, 0.2, block=5),  # a section name
             *_body(0.37, 6),
             _line("BOLD RUN-IN TITLE", 0.45, 0.1, 0.4, bold=True, block=7)]
    blocks = page_blocks(lines, page=1)
    assert _roles(blocks) == [TITLE, HEADING, PARAGRAPH, HEADING, PARAGRAPH, HEADING, PARAGRAPH,
                              HEADING]
    assert [b.level for b in blocks if b.role in (TITLE, HEADING)] == [1, 2, 3, 3, 3]
    # no title past page 1: the same big line is a heading there
    assert page_blocks(lines, page=2)[0].role == HEADING
    md = render_page(blocks, LEX)
    assert md.startswith("# A Title of the Paper\n\n## 1 Introduction\n\nBody text")
    assert "\n\n### 2.1 Related work\n\n" in md


def test_a_heading_inside_a_source_group_splits_off_by_style():
    lines = [_line("3 Results", 0.1, 0.1, 0.3, size=12, bold=True), *_body(0.115, 0)]
    assert _roles(page_blocks(lines)) == [HEADING, PARAGRAPH]


def test_paragraph_break_after_a_short_sentence_end():
    lines = [_line("A first paragraph that fills the line to the right edge and", 0.1),
             _line("ends here.", 0.115, x1=0.3), _line("Another paragraph starts here and", 0.13)]
    blocks = page_blocks(lines)
    assert _roles(blocks) == [PARAGRAPH, PARAGRAPH]
    assert blocks[1].text == "Another paragraph starts here and"


def test_lists_code_math_captions_footnotes_tables_page_numbers():
    lines = [*_body(0.1, 0),
             _line("\u2022 the first item of a list", 0.2, block=1),
             _line("that goes on", 0.215, 0.12, block=1),
             _line("2) the second item", 0.23, block=1),
             _line("def f(x):", 0.3, 0.1, 0.19, mono=True, block=2),
             _line("return x + 1", 0.315, 0.14, 0.26, mono=True, block=2),
             _line("E = m c^2 + \u2211 x_i (1)", 0.4, 0.4, 0.6, block=3),
             _line("Figure 2: The pipeline, end to end.", 0.5, block=4),
             _line("Name", 0.6, 0.1, 0.2, block=5), _line("Value", 0.6, 0.5, 0.6, block=5),
             _line("alpha", 0.615, 0.1, 0.2, block=5), _line("1.5", 0.615, 0.5, 0.6, block=5),
             _line("1 A footnote about the method.", 0.85, size=8, block=6),
             _line("7", 0.95, 0.49, 0.51, block=7)]
    blocks = page_blocks(lines, page=2)
    assert _roles(blocks) == [PARAGRAPH, LIST_ITEM, LIST_ITEM, CODE, MATH, CAPTION, TABLE,
                              FOOTNOTE, PAGE_NUMBER]
    md = render_page(blocks, LEX)
    assert "\n\n- the first item of a list that goes on\n2. the second item\n\n" in md
    assert "```\ndef f(x):\n    return x + 1\n```" in md  # indentation from the boxes
    assert "$$ E = m c^2 + \u2211 x_i (1) $$" in md
    assert "| Name | Value |\n|---|---|\n| alpha | 1.5 |" in md
    assert "\n\n1 A footnote about the method.\n" in md
    assert "7" not in md.split()


def test_running_heads_with_a_page_number_are_furniture_on_their_own_page():
    for parts, role in ((["Journal of Things", "page 3 of 9"], PAGE_HEADER),  # one row, 2 cells
                        (["4", "smith: a running title"], PAGE_HEADER),
                        (["Journal of Statistical Software 5"], PAGE_HEADER),
                        (["1 Introduction"], HEADING)):  # a section heading at the top
        xs = [(0.1 + 0.5 * k, 0.3 + 0.5 * k) for k in range(len(parts))]
        lines = [_line(t, 0.04, x0, x1, size=BODY) for t, (x0, x1) in zip(parts, xs)]
        blocks = page_blocks(lines + _body(0.15, 1), page=3)
        assert _roles(blocks) == [role, PARAGRAPH], parts
    foot = [*_body(0.1, 0), _line("Preprint 12", 0.95, 0.1, 0.3, block=1)]
    assert _roles(page_blocks(foot)) == [PARAGRAPH, PAGE_FOOTER]


def test_page_rules_found_by_the_structure_benchmark():
    """Rules fixed on the whitepaper dev set's structure tests (docencoder bench structure)."""
    # a page number alone as the page's lowest block, above the footer zone (article class: 0.88)
    low = [*_body(0.1, 0), _line("7", 0.88, 0.49, 0.51, block=1)]
    assert _roles(page_blocks(low, page=2)) == [PARAGRAPH, PAGE_NUMBER]
    # ... but not a number with text below it (an equation number, a table cell)
    mid = [*_body(0.1, 0), _line("7", 0.8, 0.49, 0.51, block=1), *_body(0.85, 2)]
    assert PAGE_NUMBER not in _roles(page_blocks(mid, page=2))
    # IEEEtran's small-capital section headings are smaller than the body, low on the page:
    # headings, not footnotes (whose marks are plain numbers)
    for text in ("III. NUMERICAL EXPERIMENTS", "I. Introduction"):
        lines = [*_body(0.1, 0), _line(text, 0.7, 0.2, 0.4, size=7.5, block=1), *_body(0.72, 2)]
        assert _roles(page_blocks(lines, page=2)) == [PARAGRAPH, HEADING, PARAGRAPH], text
    note = [*_body(0.1, 0), _line("1 A footnote about the method.", 0.85, size=8, block=1)]
    assert _roles(page_blocks(note, page=2)) == [PARAGRAPH, FOOTNOTE]
    # a title only 1.2x the body (revtex, elsarticle preprint) or bold (amsart) on page 1
    for size, bold in ((12.0, False), (10.5, True)):
        lines = [_line("A Modest Title of a Paper", 0.08, 0.3, 0.7, size=size, bold=bold),
                 _line("1 Introduction", 0.2, 0.1, 0.3, size=size, bold=True, block=1),
                 *_body(0.22, 2)]
        assert _roles(page_blocks(lines, page=1)) == [TITLE, HEADING, PARAGRAPH], (size, bold)
    # a numbered section is never the title, however large
    big = [_line("3 Hierarchical credibility model", 0.1, 0.1, 0.6, size=14.4, bold=True),
           *_body(0.15, 1)]
    assert [(b.role, b.level) for b in page_blocks(big, page=1)][0] == (HEADING, 2)


def test_a_numbered_heading_splits_off_its_paragraph_without_fonts():
    """Pixels: no bold, the heading's ink as high as the body's, one layout block."""
    for heading in ("2. Data structure: epidataCS", "1.3. Special cases: Single-component models"):
        lines = [Line(heading, (0.1, 0.3, 0.5, 0.312), 12.0, True, block=1),
                 *(Line("The first step toward fitting a model is to turn the data into",
                        (0.1, 0.315 + 0.015 * i, 0.9, 0.327 + 0.015 * i), 12.0, True, block=1)
                   for i in range(3))]
        blocks = page_blocks(lines, page=4)
        assert [(b.role, b.text) for b in blocks][0] == (HEADING, heading)
        assert _roles(blocks) == [HEADING, PARAGRAPH]
    # a list item's continuation (lowercase) and a long first row stay in the block
    item = [Line("2. the second point of the list", (0.1, 0.3, 0.5, 0.312), 12.0, True),
            Line("goes on here", (0.12, 0.315, 0.4, 0.327), 12.0, True)]
    assert _roles(page_blocks(item, page=4)) == [LIST_ITEM]


@pytest.mark.parametrize("cells,y,role", [
    (["14", "RProtoBuf: Protocol Buffers in R"], 0.09, PAGE_HEADER),  # JSS: the number apart
    (["Authors Suppressed Due to Excessive Length", "2"], 0.12, PAGE_HEADER),  # llncs, at 0.12
    (["2GIANFRANCO MESSTORFF, ANTOINE KLIMONDA"], 0.122, PAGE_HEADER),  # amsart
    (["RcppGSL Vignette | November 29, 2020 | 1\u20138"], 0.95, PAGE_FOOTER),  # a page range
    (["2 Surveillance Data"], 0.09, HEADING),  # one cell: a section heading at the top
])
def test_running_heads_of_the_dev_set(cells, y, role):
    xs = [(0.1, 0.14), (0.3, 0.8)] if len(cells) == 2 and len(cells[0]) < 4 else \
        [(0.1 + 0.6 * k, 0.5 + 0.4 * k) for k in range(len(cells))]
    lines = [_line(t, y, x0, x1) for t, (x0, x1) in zip(cells, xs)]
    blocks = page_blocks(lines + _body(0.3, 1), page=3)
    assert blocks[0].role == role
    if role in (PAGE_HEADER, PAGE_FOOTER):  # the document pass decides it again the same way
        mark_running([blocks])
        assert blocks[0].role == role


# ------------------------------------------------------------------------------------------------
# across columns and pages
# ------------------------------------------------------------------------------------------------

def test_running_headers_found_across_pages_and_idempotent():
    def page(n, extra):
        return page_blocks([_line("Journal of Things, vol. 3", 0.04, 0.1, 0.4, size=8),
                            _line(extra, 0.05, 0.6, 0.9, size=8, block=1),
                            *_body(0.1, 2), _line(f"Smith et al. {2020 + n}", 0.95, 0.1, 0.4, block=3)],
                           page=n)
    pages = [page(n, f"unique note {'abc'[n - 1]}") for n in (1, 2, 3)]
    mark_running(pages)
    assert [_roles(p) for p in pages] == [[PAGE_HEADER, PARAGRAPH, PARAGRAPH, PAGE_FOOTER]] * 3
    before = [[b.to_dict() for b in p] for p in pages]
    mark_running(pages)
    assert [[b.to_dict() for b in p] for p in pages] == before
    md = render_document([(n + 1, p) for n, p in enumerate(pages)], LEX)
    assert "Journal" not in md and "Smith" not in md and "unique note a" in md


def test_paragraphs_join_across_column_and_page_breaks_and_markers_follow():
    cfg = StructureConfig()
    col1 = [_line("Text in the first column that runs to the right edge and", 0.80, 0.1, 0.45),
            _line("goes on to the bottom of the column without a stop, the", 0.815, 0.1, 0.45)]
    col2 = [_line("Next column continues the sentence and ends it here.", 0.1, 0.55, 0.9, block=1),
            _line("Figure 1. A caption at the column top.", 0.3, 0.55, 0.9, block=2),
            _line("A new paragraph is described across the page break and de-", 0.85, 0.55, 0.9,
                  block=3)]
    page1 = page_blocks(col1 + col2, page=1, cfg=cfg)
    page2 = page_blocks([_line("scribed on the next page.", 0.1, 0.1, 0.4)], page=2, cfg=cfg)
    assert page1[0].open_end
    md = render_document([(1, page1), (2, page2)], LEX)
    assert md == ("<!-- page 1 -->\n\n"
                  "Text in the first column that runs to the right edge and goes on to the bottom "
                  "of the column without a stop, the Next column continues the sentence and ends "
                  "it here.\n\nFigure 1. A caption at the column top.\n\n"
                  "A new paragraph is described across the page break and described on the next "
                  "page.\n\n<!-- page 2 -->\n")


def test_a_sentence_end_is_not_joined_across_columns():
    a = Block(PARAGRAPH, "It ends.", (0.1, 0.8, 0.45, 0.9), open_end=True)
    b = Block(PARAGRAPH, "New one", (0.55, 0.1, 0.9, 0.2))
    assert render_document([(1, [a, b])], LEX).count("\n\n") == 2


# ------------------------------------------------------------------------------------------------
# records: text-only structure, JSON round trip, old records
# ------------------------------------------------------------------------------------------------

def test_text_only_pages_and_old_records():
    from docencoder.ocr.results import PageResult

    text = "Running title\n\n1 Introduction\n\nA paragraph with a line\nbroken in two."
    assert [line.block for line in text_lines(text)] == [0, 1, 2, 2]
    rec = PageResult("d.pdf", 1, text, "text-layer", "text-layer", 0, 0.1, "trusted")
    assert _roles(rec.blocks) == [PARAGRAPH, HEADING, PARAGRAPH]
    assert rec.markdown.endswith("## 1 Introduction\n\nA paragraph with a line broken in two.\n")
    d = json.loads(rec.to_json())
    assert list(d)[-2:] == ["markdown", "blocks"]
    assert d["blocks"][1] == {"role": "heading", "text": "1 Introduction", "box": None, "level": 2}
    assert PageResult.from_dict(d) == rec
    old = {k: v for k, v in d.items() if k not in ("markdown", "blocks")}  # before issue 17
    assert PageResult.from_dict(old).markdown == rec.markdown
    with pytest.raises(ValueError):
        Block("no-such-role", "x")


# ------------------------------------------------------------------------------------------------
# end to end: PDFs through the text-layer and the pixel path
# ------------------------------------------------------------------------------------------------

#: what each page of the structured test PDF draws: (font, size, x, y, text), y the baseline
_PAGES = [
    [("Times-Bold", 18, None, 700, "A Structured Test Document"),
     ("Times-Bold", 12, 72, 660, "1 Introduction"),
     ("Times-Roman", 10, 72, 640, "Document encoders turn rendered page images into short "
                                  "sequences of vision tokens. The method is de-"),
     ("Times-Roman", 10, 72, 627.5, "scribed in this report, together with the optical model "
                                    "of a small glass micro-"),
     ("Times-Roman", 10, 72, 615, "sphere which keeps state-of-the-"),
     ("Times-Roman", 10, 72, 602.5, "art accuracy on every page of the collection."),
     ("Times-Roman", 10, 72, 580, "\u2022 the first item of the list"),
     ("Times-Roman", 10, 72, 567.5, "\u2022 the second item of the list"),
     ("Courier", 9, 72, 545, "def read(page):"),
     ("Courier", 9, 72, 533, "    return model(page)")],
    [("Times-Bold", 12, 72, 700, "2 Method"),
     ("Times-Bold", 10, 72, 675, "2.1 Details"),
     ("Times-Roman", 10, 72, 655, "Each page is laid out into lines first; every line is cut into "
                                  "pieces at its word spaces, and"),
     ("Times-Roman", 10, 72, 642.5, "the pieces of many pages are decoded in shared batches, "
                                    "widest first, which keeps a batch"),
     ("Times-Roman", 10, 72, 630, "of similar widths together, so that little white is encoded "
                                  "for nothing at all."),
     ("Times-Roman", 10, 72, 610, "The reader decodes the pieces of many lines together, and "
                                  "the paragraph goes on to the"),
     ("Times-Roman", 10, 72, 597.5, "next page without any stop, so that the markdown has to "
                                    "join it across the break, and"),
     ("Times-Roman", 8, 72, 80, "1 A footnote about the method and its pieces.")],
    [("Times-Roman", 10, 72, 700, "continues here until it ends."),
     ("Times-Roman", 10, 72, 670, "Figure 1: A caption below a figure.")],
]


def _structured_pdf(path):
    from reportlab.pdfbase.pdfmetrics import stringWidth
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=(612, 792), invariant=1)
    for n, items in enumerate(_PAGES, start=1):
        c.setFont("Times-Roman", 8)
        c.drawString(72, 750, "Structure Test Report")
        c.setFont("Times-Roman", 9)
        c.drawString(306 - stringWidth(str(n), "Times-Roman", 9) / 2, 40, str(n))
        for font, size, x, y, text in items:
            c.setFont(font, size)
            c.drawString((612 - stringWidth(text, font, size)) / 2 if x is None else x, y, text)
        c.showPage()
    c.save()
    return path


def _check_markdown(md, code=True):
    assert "Structure Test Report" not in md
    assert not any(line.strip() in ("1", "2", "3") for line in md.splitlines())
    assert "# A Structured Test Document\n" in md
    assert "\n## 1 Introduction\n" in md and "\n## 2 Method\n" in md
    assert "\n### 2.1 Details\n\nEach page is laid out into lines first; every line is cut " in md
    assert ("The method is described in this report, together with the optical model of a small "
            "glass micro-sphere which keeps state-of-the-art accuracy on every page of the "
            "collection.\n") in md
    assert "\n- the first item of the list\n- the second item of the list\n" in md
    if code:
        assert "\n```\ndef read(page):\n    return model(page)\n```\n" in md
    # joined across the page break; the footnote and the page marker follow the paragraph
    assert ("join it across the break, and continues here until it ends.\n\n"
            "1 A footnote about the method and its pieces.\n\n<!-- page 3 -->\n\n"
            "Figure 1: A caption below a figure.\n") in md


def test_text_layer_pdf_to_structured_markdown_and_records(tmp_path):
    from docencoder import OCR
    from docencoder.ocr.pages import PdfDocument

    pdf = _structured_pdf(tmp_path / "report.pdf")
    out = tmp_path / "out"
    OCR(text_layer="only").ocr_files([pdf], out)
    md = (out / "report.md").read_text()
    _check_markdown(md)
    recs = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    with PdfDocument(pdf) as doc:  # ``text`` is the text layer as before, byte for byte
        assert [r["text"] for r in recs] == [doc.text(n).strip() for n in (1, 2, 3)]
    roles = [[b["role"] for b in r["blocks"]] for r in recs]
    # (in the text layer's order: this PDF draws the page number before the body)
    assert [r for r in roles[0] if r != PAGE_NUMBER][:3] == [PAGE_HEADER, TITLE, HEADING]
    assert all(PAGE_NUMBER in r and r[0] == PAGE_HEADER for r in roles)
    assert FOOTNOTE in roles[1] and CAPTION in roles[2] and CODE in roles[0]
    for r in recs:
        for b in r["blocks"]:
            assert all(0 <= v <= 1 for v in b["box"]) and b["box"][0] < b["box"][2]
        assert "Structure Test Report" not in r["markdown"]
    # the API returns the same structure; resuming the finished output changes nothing
    pages = OCR(text_layer="only").read(pdf)
    assert [p.markdown for p in pages] == [r["markdown"] for r in recs]
    assert [[b.to_dict() for b in p.blocks] for p in pages] == [r["blocks"] for r in recs]
    before = (out / "report.jsonl").read_bytes(), md
    OCR(text_layer="only").ocr_files([pdf], out)
    assert ((out / "report.jsonl").read_bytes(), (out / "report.md").read_text()) == before


def test_old_outputs_resume_and_get_markdown(tmp_path):
    """An OUT written before issue 17 (records without ``markdown``/``blocks``) resumes: its pages
    are kept, the new page gets its structure, and the .md is the structured one."""
    from docencoder import OCR

    pdf = _structured_pdf(tmp_path / "report.pdf")
    out = tmp_path / "out"
    OCR(text_layer="only").ocr_files([pdf], out, pages="1-2")
    lines = (out / "report.jsonl").read_text().splitlines()
    old = [json.dumps({k: v for k, v in json.loads(x).items() if k not in ("markdown", "blocks")})
           for x in lines]
    (out / "report.jsonl").write_text("\n".join(old) + "\n")
    summary = OCR(text_layer="only").ocr_files([pdf], out)
    assert (summary.pages, summary.pages_skipped) == (1, 2)
    recs = [json.loads(x) for x in (out / "report.jsonl").read_text().splitlines()]
    assert [r["page"] for r in recs] == [1, 2, 3] and all("blocks" in r for r in recs)
    md = (out / "report.md").read_text()
    assert "Structure Test Report" not in md and "\n## 2 Method\n" in md


def test_pixel_path_gives_the_same_structure(tmp_path, model_dir, monkeypatch):
    """OCR'd pages get their structure from the layout's line boxes: with a stand-in reader that
    reads each layout line as the text layer has it, the markdown is the text layer's (but for
    code, which pixels do not mark as fixed-pitch)."""
    from docencoder import OCR
    from docencoder.ocr.pages import PdfDocument
    from docencoder.ocr.reader import PagePieces, Reader
    from docencoder.ocr.structured import text_layer_lines

    pdf = _structured_pdf(tmp_path / "report.pdf")
    with PdfDocument(pdf) as doc:
        truth = [text_layer_lines(doc.layout(n)) for n in (1, 2, 3)]
    pages_read = iter(truth)

    def oracle(self, pages):
        texts = []
        for p in pages:
            assert isinstance(p, PagePieces) and p.geometry is not None
            layer = next(pages_read)
            blocks = []
            for block in p.geometry.blocks:
                lines = []
                for g in block:
                    x0, y0, x1, y1 = g.box
                    pad = (y1 - y0) / 2
                    inside = [t for t in layer if y0 - pad <= (t.box[1] + t.box[3]) / 2 <= y1 + pad
                              and x0 - pad <= (t.box[0] + t.box[2]) / 2 <= x1 + pad]
                    lines.append(" ".join(t.text for t in sorted(inside, key=lambda t: t.box[0])))
                if any(lines):
                    blocks.append("\n".join(line for line in lines if line))
            texts.append("\n\n".join(blocks))
        return texts

    monkeypatch.setattr(Reader, "read_page_pieces", oracle)
    out = tmp_path / "out"
    OCR(model_dir, text_layer="never").ocr_files([pdf], out)
    md = (out / "report.md").read_text()
    _check_markdown(md, code=False)
    recs = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    assert all(b["box"] is not None for r in recs for b in r["blocks"])


def test_first_line_indents_split_paragraphs_but_hanging_indents_do_not():
    text = "A sentence of running text that fills its row to the edge here."
    rows = [_line(text, 0.1), _line(text, 0.115),
            _line("Indented first line of the next paragraph, it goes on", 0.13, 0.13),
            _line("and comes back to the left edge for its other rows", 0.145)]
    assert [b.text.count("\n") for b in page_blocks(rows)] == [1, 1]
    refs = [_line("[1] A. Author, a title of a paper that ends in an abbrev. Mol.", 0.1),
            _line("Biol. Evol., vol. 3, 2020.", 0.115, 0.13),
            _line("[2] B. Author, another title.", 0.13)]
    blocks = page_blocks(refs)
    assert _roles(blocks) == [LIST_ITEM, LIST_ITEM]
    assert render_page(blocks, LEX).startswith("- [1] A. Author, a title of a paper that ends in "
                                               "an abbrev. Mol. Biol. Evol., vol. 3, 2020.\n- [2]")


def test_a_footnote_mark_after_the_stop_still_ends_the_sentence():
    from docencoder.structure.blocks import ends_sentence

    assert ends_sentence("in the package.1") and ends_sentence("done.\u2020")
    assert ends_sentence("(see [3]).") and not ends_sentence("version 2") and not ends_sentence("a,")
