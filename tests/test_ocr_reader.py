"""The reader: the path its geometry kind picks, the page path (DeepSeek-OCR geometries), tiling,
the line path's caps and dynamic widths, model ids, int8 wiring (numerics: test_quantize.py)."""

from __future__ import annotations

import shutil

import pytest
import torch
from PIL import Image, ImageDraw

from docencoder.ocr.reader import (
    DecodingConfig,
    ModelLoadError,
    PagePieces,
    Reader,
    check_model_dir,
    model_id,
    tile_grid,
)
from docencoder.pdf.render import fit_page


def _save(name: str, directory, **overrides):
    from docencoder.data.tokenizer import DEFAULT_TOKENIZER, load_tokenizer
    from docencoder.model import DocEncoder, get_config, save_pretrained

    tok = load_tokenizer()
    torch.manual_seed(0)
    cfg = get_config(name, vocab_size=tok.vocab_size, tokens=tok.token_config(), **overrides)
    d = save_pretrained(DocEncoder(cfg), directory)
    shutil.copy(DEFAULT_TOKENIZER, d / "tokenizer.json")
    return d


def _page(w: int = 850, h: int = 1100) -> Image.Image:
    img = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(img)
    for i in range(12):
        d.text((60, 80 + 40 * i), f"line {i} of a page with some words", fill=0)
    return img


def test_tile_grid_follows_aspect():
    assert tile_grid((850, 1100), 2, 9) in ((3, 2), (4, 3))  # portrait: more rows than columns
    assert tile_grid((2000, 500), 2, 9) == (1, 4)
    assert tile_grid((1000, 1000), 2, 9) == (3, 3)  # square: ties go to more tiles
    rows, cols = tile_grid((100, 3000), 2, 6)
    assert 2 <= rows * cols <= 6 and rows > cols


def test_fit_page_keeps_aspect():
    out = fit_page(Image.new("L", (400, 200), 0), width=512, height=512)
    assert out.size == (512, 512)
    assert out.getpixel((10, 10)) == 0 and out.getpixel((10, 300)) == 255  # padded below
    wide = fit_page(Image.new("L", (100, 400), 0), width=300, height=200)  # (width, height)
    assert wide.size == (300, 200)
    assert wide.getpixel((49, 199)) == 0 and wide.getpixel((51, 10)) == 255  # padded right


def test_page_model_reads_a_page(tmp_path):
    d = _save("tiny", tmp_path / "tiny-page")
    r = Reader(d, generation=DecodingConfig(page_max_new_tokens=6), batch_size=2)
    assert not r.is_line_model
    texts = r.read_pages([_page(), _page(600, 400), _page()])
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert all(len(r.tokenizer.encode(t)) <= 6 + 2 for t in texts)


def test_gundam_tiles(tmp_path):
    d = _save("gundam", tmp_path / "gundam", geometry=dict(height=1024, width=1024, tile_size=640,
                                                          min_tiles=2, max_tiles=4))
    r = Reader(d, generation=DecodingConfig(page_max_new_tokens=3))
    pixels, tiles, grid = r.page_tensors(_page())
    assert pixels.shape == (3, 1024, 1024)
    assert grid == (2, 2)  # 850 x 1100 is closest to square among 2..4 tiles
    assert tiles.shape == (grid[0] * grid[1], 3, 640, 640)
    assert isinstance(r.read_image(_page()), str)


def test_model_dir_checks_and_id(tmp_path):
    with pytest.raises(ModelLoadError, match="has no config.json"):
        check_model_dir(tmp_path)
    d = _save("line-tiny", tmp_path / "m")
    mid = model_id(d)
    assert mid.startswith("m-") and len(mid) == len("m-") + 8
    (d / "tokenizer.json").unlink()
    with pytest.raises(ModelLoadError, match="tokenizer.json"):
        Reader(d)


def test_line_caps_bound_runaways(tmp_path):
    """A random model never emits eos on its own: every piece must still stop at its cap."""
    from docencoder.data.lines import split_line

    d = _save("line-tiny", tmp_path / "m")
    r = Reader(d, generation=DecodingConfig(tokens_per_char=0.25, token_margin=2))
    line = Image.new("L", (300, 30), 255)
    ImageDraw.Draw(line).text((5, 8), "short", fill=0)
    pieces = split_line(line)
    (text,) = r.read_pieces(pieces)
    assert len(r.tokenizer.encode(text)) <= r.line_reader.line_cap(0.2) + 2


# ---------------------------------------------------------------------- dynamic-width reading
def _inked(end: int, width: int = 512, height: int = 32, ink: int = 0, paper: int = 255) -> Image.Image:
    """A normalised piece whose ink (a few bars, so it is not uniform) ends at column ``end``."""
    img = Image.new("L", (width, height), paper)
    d = ImageDraw.Draw(img)
    for x in range(2, end, 12):
        d.rectangle((x, 8, min(x + 6, end - 1), 24), fill=ink)
    return img


class _Spy:
    """Wraps ``model.encode_image``: records every batch's pixels and returns the real prefix."""

    def __init__(self, model) -> None:
        self.encode, self.pixels = model.encode_image, []
        model.encode_image = self

    def __call__(self, pixels, *args, **kwargs):
        self.pixels.append(pixels.clone())
        return self.encode(pixels, *args, **kwargs)

    @property
    def widths(self) -> list[int]:
        return [p.shape[-1] for p in self.pixels]


def test_piece_ink_end_and_crop_width():
    from docencoder.ocr.reader import crop_width, piece_ink_end

    assert piece_ink_end(Image.new("L", (512, 32), 255)) == 0
    assert piece_ink_end(_inked(100)) == 100
    # a faint scan: grey ink on grey paper is still ink (a fixed level of 128 saw none)
    assert piece_ink_end(_inked(100, ink=150, paper=225)) == 100
    assert piece_ink_end(Image.new("L", (512, 32), 200)) == 0  # flat grey: blank
    assert crop_width(0, 32, 512) == 32  # a blank piece still has one token
    assert crop_width(28, 32, 512, margin=4) == 32 and crop_width(29, 32, 512, margin=4) == 64
    assert crop_width(511, 32, 512) == 512  # never wider than the geometry


def test_dynamic_width_batches_are_cropped_to_their_ink(tmp_path):
    from docencoder.data.lines import to_tensor
    from docencoder.ocr.reader import CROP_MARGIN_PX

    d = _save("line-tiny", tmp_path / "m")
    r = Reader(d, batch_size=2, quantize="none",
               generation=DecodingConfig(tokens_per_char=0.1, token_margin=1))
    assert r.cfg.geometry.dynamic_width
    spy = _Spy(r.model)
    ends = [40, 300, 480, 0, 120]
    pieces = [_inked(e) if e else Image.new("L", (512, 32), 255) for e in ends]
    texts = r.read_pieces(pieces)
    assert len(texts) == 5 and texts[3] == ""  # the blank piece is not decoded
    # widest first, two per batch: (480, 300), (120, 40)
    assert spy.widths == [512, 128]
    unit = r.cfg.width_unit
    assert all(w % unit == 0 and w <= 512 for w in spy.widths)
    for pixels, batch in zip(spy.pixels, ([480, 300], [120, 40])):
        assert pixels.shape[-1] >= max(batch) + CROP_MARGIN_PX  # no ink is cut off
        full = to_tensor([pieces[ends.index(e)] for e in batch])  # (B, 3, 32, 512)
        assert torch.equal(pixels, full[..., :pixels.shape[-1]])  # the left part, unchanged
        assert bool((full[..., pixels.shape[-1]:] == 1.0).all())  # and only white dropped
    full_cost = 5 * r.cfg.view_tokens
    assert r.vision_tokens == 2 * 16 + 2 * 4 == sum(p.shape[0] * p.shape[-1] // unit
                                                     for p in spy.pixels) < full_cost


def test_piece_reads_the_same_alone_and_among_wider_pieces(tmp_path):
    """Cropping to the batch's widest ink never changes what a narrower piece reads as.

    The stand-in decoder "reads" each row's ink columns (so its text depends on exactly the
    pixels it is given, unlike a random model's); any ink cut off or any piece given another's
    row would change the text.
    """
    d = _save("line-tiny", tmp_path / "m")
    r = Reader(d, batch_size=3, quantize="none")
    tok, eos, pad = r.tokenizer, r.cfg.tokens.eos_id, r.cfg.tokens.pad_id

    def read_ink(pixels, prompt_ids, max_new_tokens, vision=None, **kwargs):
        pixels = pixels if vision is None else vision  # (B, 3, H, W): "encoded" as themselves
        ink = (pixels[:, 0] < 0).any(dim=1)  # (B, W) columns holding ink
        rows = [tok.encode(f"{int(c.sum())} {int(c.nonzero().max()) + 1 if c.any() else 0}")
                + [eos] for c in ink]
        T = max(len(row) for row in rows)
        return torch.tensor([row + [pad] * (T - len(row)) for row in rows])  # (B, T)

    r.model.generate = read_ink
    r.model.encode_image = lambda pixels, *args, **kwargs: pixels
    ends = [40, 90, 300, 480, 91]
    pieces = [_inked(e) for e in ends]
    alone = [r.read_pieces([p])[0] for p in pieces]
    assert len(set(alone)) == len(alone) and alone[1].endswith(" 90")
    assert r.read_pieces(pieces) == alone  # batches (480, 300, 91), (90, 40)
    r.batch_size = 8
    assert r.read_pieces(pieces) == alone  # one batch, 512 px wide


def test_piece_reads_the_same_alone_and_among_pieces_of_its_width(tmp_path):
    """With a real (random) model: batch mates whose ink ends in the same tokens change nothing."""
    d = _save("line-tiny", tmp_path / "m")
    r = Reader(d, batch_size=8, quantize="none",
               generation=DecodingConfig(tokens_per_char=0.2, token_margin=2))
    spy = _Spy(r.model)
    piece = _inked(90)  # 90 + margin -> 96 px, three tokens
    (alone,) = r.read_pieces([piece])
    mates = [_inked(91), _inked(92)]  # wider, but their ink ends in the same token
    together = r.read_pieces(mates + [piece])
    assert spy.widths == [96, 96]
    assert together[2] == alone
    assert torch.equal(spy.pixels[1][2], spy.pixels[0][0])  # the same pixels, in place 2


def test_encode_chunks_are_cropped_to_their_own_ink(tmp_path, monkeypatch):
    """A decode batch is encoded a chunk at a time, each chunk at its own widest ink; with a real
    (random) model every piece still reads what it reads alone."""
    import docencoder.ocr.reader as reader

    monkeypatch.setitem(reader.ENCODE_CHUNK, "cpu", 2)
    d = _save("line-tiny", tmp_path / "m")
    r = Reader(d, batch_size=8, quantize="none",
               generation=DecodingConfig(tokens_per_char=0.2, token_margin=2))
    with torch.no_grad():  # large logits: greedy choices are no near-ties
        r.model.decoder.model.embed_tokens.weight.mul_(20)
    spy = _Spy(r.model)
    pieces = [_inked(e) for e in (60, 480, 190, 470, 200)]
    alone = [r.read_pieces([p])[0] for p in pieces]
    assert len(set(alone)) > 1
    spy.pixels.clear()
    r.vision_tokens = 0
    assert r.read_pieces(pieces) == alone  # one decode batch, three chunks
    assert spy.widths == [512, 224, 64]  # (480, 470), (200, 190), (60): ink + margin, in tokens
    assert r.vision_tokens == (2 * 512 + 2 * 224 + 64) // r.cfg.width_unit


def test_fixed_width_model_always_encodes_the_full_width(tmp_path):
    d = _save("line-tiny", tmp_path / "m", geometry=dict(height=32, width=512, dynamic_width=False))
    r = Reader(d, batch_size=2, quantize="none",
               generation=DecodingConfig(tokens_per_char=0.1, token_margin=1))
    spy = _Spy(r.model)
    r.read_pieces([_inked(40), _inked(300), _inked(20), Image.new("L", (512, 32), 255)])
    assert spy.widths == [512, 512]  # the blank piece is skipped
    assert r.vision_tokens == 3 * r.cfg.view_tokens


# ---------------------------------------------------------------------- int8 inference
def test_int8_reader_quantizes_linears_but_not_the_tied_head(tmp_path):
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear

    d = _save("line-tiny", tmp_path / "m")
    fp32 = Reader(d, quantize="none")
    int8 = Reader(d)  # auto on CPU
    assert int8.quantize == "int8" and fp32.quantize == "none"
    assert int8.batch_size == 64  # the CPU default (encoded in chunks of 8)
    assert int8.model_id == fp32.model_id  # the output still names the weights
    assert "clip.transformer.resblocks.0.attn.in_proj" in [
        n for n, m in int8.model.named_modules() if isinstance(m, QuantizedLinear)]
    assert not any(isinstance(m, QuantizedLinear) for m in fp32.model.modules())
    texts = int8.read_pieces([_inked(200), _inked(60)])
    assert len(texts) == 2 and all(isinstance(t, str) for t in texts)


# ---------------------------------------------------------------------- the path a kind picks
def _rename(d, name: str, kind=None):
    """Give a saved model another config name (and kind; None = drop it, as older exports)."""
    import json

    path = d / "config.json"
    cfg = json.loads(path.read_text())
    cfg["name"] = name
    if kind is None:
        del cfg["geometry"]["kind"]
    else:
        cfg["geometry"]["kind"] = kind
    path.write_text(json.dumps(cfg))
    return d


def test_geometry_kind_not_the_name_picks_the_path(tmp_path):
    from docencoder.ocr.reader import LineReader, PageReader

    lines = Reader(_rename(_save("line-tiny", tmp_path / "a"), "my-lines", "line"), quantize="none")
    assert lines.is_line_model and isinstance(lines.impl, LineReader)
    assert lines.line_reader is lines.impl
    with pytest.raises(TypeError, match="line model"):
        lines.page_reader
    page = Reader(_rename(_save("tiny", tmp_path / "b"), "line-like-name", "page"), quantize="none")
    assert not page.is_line_model and isinstance(page.impl, PageReader)
    with pytest.raises(TypeError, match="page model"):
        page.page_pieces(_page())
    # a config.json from before the kind: the old rule, its name
    old_line = _rename(_save("line-tiny", tmp_path / "c"), "line-old")
    old_page = _rename(_save("tiny", tmp_path / "d"), "tiny-old")
    assert Reader(old_line, quantize="none").is_line_model
    assert not Reader(old_page, quantize="none").is_line_model


def test_page_texts_joins_pieces_lines_and_blocks():
    from docencoder.ocr.line_reader import all_pieces, page_texts

    blank = Image.new("L", (8, 8), 255)
    a = PagePieces([[[blank, blank], [blank]], [[blank]]])  # [block][line][piece]
    b = PagePieces([[[blank]], [[blank, blank]]])
    assert len(all_pieces([a, b])) == a.count + b.count == 7
    texts = ["one", "two", "three", "", "x", "", "y"]
    assert page_texts([a, b], texts) == ["one two\nthree", "x\n\ny"]  # a's 2nd block is empty
    assert page_texts([PagePieces([])], []) == [""]


def test_readers_refuse_the_other_kind_and_need_no_directory(tiny_line_model, tokenizer):
    from docencoder.ocr.reader import LineReader, PageReader

    with pytest.raises(ValueError, match="PageReader reads page models"):
        PageReader(tiny_line_model, tokenizer)
    r = LineReader(tiny_line_model.eval(), tokenizer, batch_size=4,
                   decoding=DecodingConfig(tokens_per_char=0.1, token_margin=1))
    assert r.kind == "line" and r.batch_size == 4 and r.layout_cfg is not None
    assert r.read_pieces([Image.new("L", (512, 32), 255)]) == [""]


def test_prepared_pages_are_typed_and_read_as_whole_pages(tmp_path):
    """prepare + read_prepared is read_pages in two steps; each prepared page has a count."""
    from docencoder.ocr.reader import PageImage, PagePieces

    line = Reader(_save("line-tiny", tmp_path / "l"), quantize="none",
                  generation=DecodingConfig(tokens_per_char=0.1, token_margin=1))
    prepared = line.prepare(_page())
    assert isinstance(prepared, PagePieces) and prepared.count == len(prepared.flat) > 0
    assert line.read_prepared([prepared]) == line.read_pages([_page()])
    page = Reader(_save("tiny", tmp_path / "p"), quantize="none",
                  generation=DecodingConfig(page_max_new_tokens=3))
    prepared = page.prepare(_page())
    assert isinstance(prepared, PageImage) and prepared.count == 1
    assert page.read_prepared([prepared]) == page.read_pages([_page()])


def test_ocr_reads_page_models_through_prepare_and_read_prepared(tmp_path):
    """The OCR API decodes a page model's pages as the reader does (its pages wait as PageImage)."""
    from docencoder import OCR

    d = _save("tiny", tmp_path / "p")
    path = tmp_path / "page.png"
    _page().save(path)
    ocr = OCR(d, quantize="none", generation=DecodingConfig(page_max_new_tokens=3))
    [result] = ocr.read(path)
    assert result.source == "ocr" and result.text == ocr.read_image(Image.open(path))
    assert ocr.reader.vision_tokens == 2 * ocr.reader.cfg.vision_tokens(0)
