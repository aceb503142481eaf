"""Layout analysis on rendered whitepaper pages whose every line position is known."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image, ImageDraw

from docencoder.ocr.layout import find_lines
from docencoder.ocr.samples import SampleStyle, make_whitepaper

DPI = 150


def _render(path, page: int, dpi: int = DPI) -> Image.Image:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        return pdf[page - 1].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()


def _match(layout, page, dpi: int = DPI) -> list[int]:
    """For each detected line (reading order), the index of the known line whose box holds its centre."""
    boxes = [page.pixel_box(line, dpi) for line in page.lines]
    out = []
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hits = [i for i, (a, b, c, d) in enumerate(boxes) if a - 2 <= cx <= c + 2 and b - 4 <= cy <= d + 4]
        out.append(hits[0] if len(hits) == 1 else -1)
    return out


@pytest.fixture(scope="module")
def two_column(tmp_path_factory):
    path = tmp_path_factory.mktemp("layout") / "two.pdf"
    return make_whitepaper(path, n_pages=2)


@pytest.mark.parametrize("page_no", [1, 2])
def test_two_column_lines_in_reading_order(two_column, page_no):
    page = two_column.pages[page_no - 1]
    layout = find_lines(_render(two_column.path, page_no))
    assert len(layout.lines) == len(page.lines)
    # every known line found once, in the known order: header left/right, title, the whole left
    # column, then the whole right column, then the footer
    assert _match(layout, page) == list(range(len(page.lines)))
    assert len(layout.blocks) == len(page.blocks())
    found = [[_match(layout, page)[layout.lines.index(line)] for line in b.lines] for b in layout.blocks]
    known = [[page.lines.index(line) for line in b] for b in page.blocks()]
    assert found == known


def test_columns_read_left_then_right(two_column):
    page = two_column.pages[1]
    layout = find_lines(_render(two_column.path, 2))
    columns = [page.lines[i].column for i in _match(layout, page)]
    body = [c for c in columns if c]
    switch = body.index(2)
    assert body[:switch] == [1] * switch and body[switch:] == [2] * (len(body) - switch)


def test_misaligned_columns_and_other_dpi(tmp_path):
    doc = make_whitepaper(tmp_path / "off.pdf", n_pages=1, style=SampleStyle(right_offset=31.0),
                          seed=3)
    for dpi in (100, 200):
        layout = find_lines(_render(doc.path, 1, dpi))
        assert _match(layout, doc.pages[0], dpi) == list(range(len(doc.pages[0].lines)))


def test_single_column_paragraphs(tmp_path):
    doc = make_whitepaper(tmp_path / "one.pdf", n_pages=1,
                          style=SampleStyle(columns=1, header=False, footer=False), title="")
    layout = find_lines(_render(doc.path, 1))
    page = doc.pages[0]
    assert _match(layout, page) == list(range(len(page.lines)))
    assert [len(b.lines) for b in layout.blocks] == [len(b) for b in page.blocks()]


def test_skewed_noisy_scan(two_column):
    """A scan-like page: rotated 1.2 degrees, blurred, with noise, specks and uneven light."""
    from PIL import ImageFilter

    img = _render(two_column.path, 1).rotate(1.2, resample=Image.Resampling.BICUBIC, fillcolor=255)
    a = np.asarray(img, dtype=np.float32)
    rng = np.random.default_rng(1)
    a = a + rng.normal(0, 18, a.shape)
    a[rng.random(a.shape) < 0.002] = 0  # pepper specks
    a = a * np.linspace(0.8, 1.0, a.shape[1])[None, :]  # darker towards the left edge
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.7))
    layout = find_lines(img)
    assert abs(layout.skew_deg - 1.2) < 0.3
    page = two_column.pages[0]
    assert len(layout.lines) == len(page.lines)
    # the deskewed page turns about the same centre, so the known boxes apply again
    order = _match(layout, page)
    assert sum(i != j for i, j in zip(order, range(len(page.lines)))) <= 2


def test_degraded_scan_with_data_degrade(two_column):
    from docencoder.data.degrade import degrade

    img = degrade(_render(two_column.path, 2), random.Random(5), strength=0.6)
    layout = find_lines(img)
    page = two_column.pages[1]
    assert abs(len(layout.lines) - len(page.lines)) <= 2


def test_blank_and_tiny_pages():
    assert find_lines(Image.new("L", (600, 800), 255)).lines == []
    assert find_lines(Image.new("L", (1, 1), 0)).lines == []
    flat = Image.new("L", (300, 300), 128)  # no contrast at all
    assert find_lines(flat).lines == []


def test_figure_is_not_a_line(tmp_path):
    img = Image.new("L", (800, 600), 255)
    d = ImageDraw.Draw(img)
    d.rectangle((100, 100, 700, 500), fill=0)  # a solid figure
    assert find_lines(img).lines == []


def test_crops_hold_the_line_ink(two_column):
    layout = find_lines(_render(two_column.path, 1))
    crops = layout.crops(pad=2)
    assert [len(c) for c in crops] == [len(b.lines) for b in layout.blocks]
    first = crops[0][0]
    a = np.asarray(first)
    assert (a[:2] == 255).all() and (a[-2:] == 255).all()  # the white pad
    assert (a < 128).any()


def test_lines_inside_a_framed_listing_are_found():
    from PIL import ImageFont

    from docencoder.data.fonts import available_fonts
    from docencoder.ocr.layout import LayoutConfig

    mono = next(f for f in available_fonts() if f.kind == "monospace")
    font = ImageFont.truetype(str(mono.path), 22)
    img = Image.new("L", (900, 700), 255)
    d = ImageDraw.Draw(img)
    d.text((80, 60), "Some prose above the listing, set in a plain face.", font=font, fill=0)
    d.rectangle((60, 140, 840, 520), outline=0, width=2)  # the frame of a boxed code listing
    code = ["x = solve(A, b);", "for (i = 0; i < n; i++) {", "  y[i] = x[i] * 2;", "}", "print(y)"]
    for k, text in enumerate(code):
        d.text((90, 170 + 64 * k), text, font=font, fill=0)
    found = find_lines(img)
    tops = sorted(line.box[1] for line in found.lines)
    assert len(found.lines) == 6, tops
    for k in range(5):  # each code line found on its own
        assert any(abs(t - (170 + 64 * k)) < 16 for t in tops), (k, tops)
    kept = find_lines(img, LayoutConfig(rule_v_em=1e9, frame_v_em=1e9))  # frame sides kept:
    assert len(kept.lines) < 6  # the listing is lost


def test_a_short_frame_and_rules_beside_lines_stay_out_of_the_crops():
    """A two-line boxed listing (shorter than rule_v_em) right under a prose line: every line is
    found on its own and no crop holds the frame (a rule in a crop made the model read garbage)."""
    from PIL import ImageFont

    from docencoder.data.fonts import available_fonts
    from docencoder.ocr.layout import LayoutConfig

    mono = next(f for f in available_fonts() if f.kind == "monospace")
    font = ImageFont.truetype(str(mono.path), 22)
    img = Image.new("L", (900, 320), 255)
    d = ImageDraw.Draw(img)
    d.text((62, 40), "prose just above the frame", font=font, fill=0)
    d.rectangle((60, 74, 840, 134), outline=0, width=2)  # 61 px: under 3 em, over 1.2 em
    d.text((80, 78), "9 Hilbert basis elements", font=font, fill=0)
    d.text((80, 104), "9 lattice points in polytope", font=font, fill=0)
    d.text((62, 168), "prose just below the frame", font=font, fill=0)
    found = find_lines(img)
    assert len(found.lines) == 4, [line.box for line in found.lines]
    for line, crop in zip(found.lines, (c for b in found.crops(pad=2) for c in b)):
        x0, y0, x1, y1 = line.box
        assert x1 - x0 < 600, line.box  # the frame's width is not the line's
        a = np.asarray(crop) < 128  # (h, w)
        assert not a.all(1).any() and (a.sum(1) < 0.5 * a.shape[1]).all()  # no rule row
        assert not a.all(0).any()  # no frame side
    unpainted = find_lines(img, LayoutConfig(rule_h_em=0.0, frame_v_em=1e9))
    assert max(line.box[2] - line.box[0] for line in unpainted.lines) > 700  # the old way: a frame-wide line
    # sides kept (and no splitting of touching lines at profile valleys): joined
    assert len(find_lines(img, LayoutConfig(frame_v_em=1e9, split_line_em=1e9)).lines) < 4


def test_prefix_sums_and_long_runs_match_their_plain_definitions():
    from docencoder.ocr.layout import _cumsum_down, _long_runs

    rng = np.random.default_rng(0)
    ink = rng.random((60, 80)) < 0.3
    ink[10, 5:70] = True  # a horizontal rule
    ink[20:58, 40] = True  # a vertical one
    assert np.array_equal(_cumsum_down(ink.astype(np.int32)), np.cumsum(ink, axis=0))
    want = np.zeros_like(ink)
    for r in range(ink.shape[0]):  # every pixel of a horizontal run of >= 12
        c = 0
        while c < ink.shape[1]:
            e = c
            while e < ink.shape[1] and ink[r, e]:
                e += 1
            if e - c >= 12:
                want[r, c:e] = True
            c = e + 1
    got = _long_runs(ink, 12)
    assert got[10, 5:70].all() and np.array_equal(got, want)
    assert _long_runs(ink.T, 12).T[20:58, 40].all()


def test_histogram_statistics_are_numpys():
    from docencoder.ocr.layout import _median_level, _otsu

    rng = np.random.default_rng(5)
    for shape in ((1, 1), (1, 2), (3, 5), (40, 31), (64, 64)):
        for top in (2, 9, 256):
            a = rng.integers(0, top, shape).astype(np.uint8)
            assert _median_level(Image.fromarray(a)) == int(np.median(a)), (shape, top)
            assert _otsu(a) == _otsu(a.ravel()), (shape, top)  # PIL's histogram = bincount's


def _table_page(right_x: int, right_text: str, left_text: str = "name") -> Image.Image:
    """A prose line, then five rows: ``left_text`` at x=80 and ``right_text`` at ``right_x``."""
    from PIL import ImageFont

    from docencoder.data.fonts import available_fonts

    serif = next(f for f in available_fonts() if f.kind == "times")
    font = ImageFont.truetype(str(serif.path), 22)
    img = Image.new("L", (1000, 600), 255)
    d = ImageDraw.Draw(img)
    d.text((80, 60), "A line of prose above the table, long enough to span both of its columns.",
               font=font, fill=0)
    for k in range(5):
        d.text((80, 140 + 40 * k), f"{left_text}{k}", font=font, fill=0)
        d.text((right_x, 140 + 40 * k), f"{right_text} {k}", font=font, fill=0)
    return img


def test_a_table_is_read_row_by_row_with_its_cells_apart():
    """Two aligned columns, one of them narrow, are a table: one line a row, in row order, whose
    cells are cropped apart (the text layer orders a table row by row; column by column the
    rows were lost)."""
    from docencoder.ocr.layout import LayoutConfig

    layout = find_lines(_table_page(400, "the value of row"))
    rows = [line for line in layout.lines if line.cells]
    assert len(rows) == 5 and len(layout.lines) == 6
    assert [round((r.box[1] - 140) / 40) for r in rows] == [0, 1, 2, 3, 4]  # row order
    assert all(len(r.cells) == 2 and r.cells[0][2] < 200 < 400 <= r.cells[1][0] + 3 for r in rows)
    cells = [c for block in layout.cell_crops() for c in block]
    assert [len(c) for c in cells] == [1, 2, 2, 2, 2, 2]
    joined = [c for block in layout.crops() for c in block][1]  # cells a word space apart
    assert joined.width < rows[0].box[2] - rows[0].box[0]
    columns = find_lines(_table_page(400, "the value of row"), LayoutConfig(table_cell_em=0))
    assert not any(line.cells for line in columns.lines) and len(columns.lines) == 11  # column order


def test_two_wide_aligned_columns_stay_columns():
    """Prose columns share a baseline grid too; wide on both sides, they are not a table."""
    layout = find_lines(_table_page(540, "words of a wide second column that runs on",
                                    "words in a wide first column of prose "))
    assert not any(line.cells for line in layout.lines) and len(layout.lines) == 11


def _column_page(authors: bool = False) -> tuple[Image.Image, list[tuple[str, int, int]]]:
    """A full-width title, optionally two author boxes side by side, two columns whose
    paragraphs both end at the same height (a blank row across the page as wide as the one under
    the title), and a full-width paragraph under them (a float, a footnote block) that leaves no
    gutter down the whole page. Returns the page and each text line's (id, x, y)."""
    from PIL import ImageFont

    from docencoder.data.fonts import available_fonts

    serif = next(f for f in available_fonts() if f.kind == "times")
    font = ImageFont.truetype(str(serif.path), 20)
    img = Image.new("L", (1100, 1300), 255)
    d = ImageDraw.Draw(img)
    rng = random.Random(1)
    words = "the model reads lines of text set in two columns on a paper page".split()
    placed = []

    def put(name, x, y, width):
        text = ""
        while d.textlength(text + " w" + max(words, key=len), font=font) < width:
            text += " " + rng.choice(words)
        d.text((x, y), text.strip(), font=font, fill=0)
        placed.append((name, x, y))

    put("title", 80, 60, 940)
    top = 150
    if authors:  # two centred author boxes, far apart
        for k in range(3):
            put(f"a1-{k}", 200, 150 + 28 * k, 200)
            put(f"a2-{k}", 700, 150 + 28 * k, 200)
        top = 300
    for col, x in (("L", 80), ("R", 590)):
        y = top
        for k in range(14):
            if k == 6:
                y += 60  # both columns: a paragraph and a section end here
            put(f"{col}{k}", x, y, 430)
            y += 28
    put("end0", 80, y + 60, 940)
    put("end1", 80, y + 88, 940)
    return img, placed


def _order(layout, placed) -> list[str]:
    """The placed lines' ids in the layout's reading order (each line by its top-left corner;
    ids joined by "+" for a line that holds several, "?" for one that holds none)."""
    out = []
    for line in layout.lines:
        x0, y0, x1, y1 = line.box
        hits = [n for n, x, y in placed if x0 - 3 <= x + 2 <= x1 and y0 - 6 <= y + 10 <= y1 + 6]
        out.append("+".join(hits) or "?")
    return out


def test_columns_stay_whole_where_both_have_a_gap_at_one_height():
    """A blank row across both columns as wide as the widest row gap made the XY-cut split the
    page there first: top-left, top-right, bottom-left, bottom-right (two dev pages, NED
    0.42 and 0.29 with every word read)."""
    img, placed = _column_page()
    order = _order(find_lines(img), placed)
    assert order == (["title"] + [f"L{k}" for k in range(14)] + [f"R{k}" for k in range(14)]
                     + ["end0", "end1"])


def test_side_by_side_author_boxes_are_not_part_of_the_columns():
    """Author boxes above the columns have a gap far wider than the gutter: they are read before
    the body (row by row, as the text layer orders them), not as the tops of its columns."""
    img, placed = _column_page(authors=True)
    order = _order(find_lines(img), placed)
    assert order[0] == "title" and "?" not in order, order
    body = [i for i, n in enumerate(order) if n[0] in "LR"]
    authors = [i for i, n in enumerate(order) if n[0] == "a"]
    assert sorted("+".join(order[i] for i in authors).split("+")) == sorted(
        f"a{j}-{k}" for j in (1, 2) for k in range(3))
    assert max(authors) < min(body), order
    assert [order[i] for i in body] == [f"L{k}" for k in range(14)] + [f"R{k}" for k in range(14)]
    assert order[-2:] == ["end0", "end1"]


def _heading_scan(stroke: int, blur: float, size: int) -> Image.Image:
    """A page under a bold "5. Conclusions" heading, with a rule under the text, blurred."""
    from PIL import ImageFilter, ImageFont

    from docencoder.data.fonts import available_fonts

    bold = next(f for f in available_fonts() if f.kind == "times" and f.style == "bold")
    body = next(f for f in available_fonts() if f.kind == "times" and f.style == "regular")
    img = Image.new("L", (1000, 560), 255)
    d = ImageDraw.Draw(img)
    d.text((60, 30), "5. Conclusions", font=ImageFont.truetype(str(bold.path), size), fill=0,
           stroke_width=stroke)
    regular = ImageFont.truetype(str(body.path), 22)
    words = ("the package provides functions to construct several types of canonical congruence "
             "subgroups and their generators in a way that is fast enough for the groups of "
             "interest here and for the larger ones that users bring").split()
    for k in range(12):
        d.text((60, 90 + 34 * k), " ".join(words[(k * 5) % 20:(k * 5) % 20 + 9]), font=regular, fill=0)
    d.rectangle((60, 510, 700, 511), fill=0)  # a rule under the text
    return img.filter(ImageFilter.GaussianBlur(blur))


@pytest.mark.parametrize("stroke,blur,size,cause", [
    (0, 1.3, 22, "rule"),  # letters joined into a long thick run: painted out as a rule
    (1, 1.2, 26, "rule"),
    (1, 1.0, 22, "blob"),  # the line box fuller than max_line_fill: dropped as a blob
])
def test_a_bold_heading_that_a_scan_blurred_is_read_whole(stroke, blur, size, cause):
    """Blur joins the letters of a scan's bold heading: their runs are longer than ``rule_h_em``
    (painted out as a rule, "5. Conclusions" was read "5. C" on a scanned elsarticle page) and
    their box is fuller of ink than ``max_line_fill`` (76 such lines -- "ABSTRACT",
    "REFERENCES", "TABLE 1" -- were dropped from the dev scans as blobs). The rule under the
    text, blurred alike, stays a rule."""
    from docencoder.ocr.layout import LayoutConfig

    scan = _heading_scan(stroke, blur, size)
    heading_ink = (np.asarray(scan.crop((55, 25, 400, 75))) < 128).sum()

    def kept(cfg: LayoutConfig) -> float:
        found = find_lines(scan, cfg)
        assert found.rules is not None and found.rules[510:512, 100:600].all()  # the rule is one
        crop = np.asarray(next(c for b in found.crops(pad=2) for c in b)) < 128  # the heading's
        return crop.sum() / heading_ink

    assert kept(LayoutConfig()) > 0.95
    old = LayoutConfig(rule_thick_em=1e9) if cause == "rule" else LayoutConfig(max_dense_text_fill=0.6)
    assert kept(old) < 0.8  # the case needs the fix it names
