"""The reader's page path (DeepSeek-OCR geometries), tiling, caps and model ids."""

from __future__ import annotations

import shutil

import pytest
import torch
from PIL import Image, ImageDraw

from docencoder.ocr.reader import (GenerationConfig, ModelLoadError, Reader, check_model_dir,
                                   fit_and_pad, model_id, tile_grid)


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


def test_fit_and_pad_keeps_aspect():
    out = fit_and_pad(Image.new("L", (400, 200), 0), 512, 512)
    assert out.size == (512, 512)
    assert out.getpixel((10, 10)) == 0 and out.getpixel((10, 300)) == 255  # padded below


def test_page_model_reads_a_page(tmp_path):
    d = _save("tiny", tmp_path / "tiny-page")
    r = Reader(d, generation=GenerationConfig(page_max_new_tokens=6), batch_size=2)
    assert not r.is_line_model
    texts = r.read_pages([_page(), _page(600, 400), _page()])
    assert len(texts) == 3 and all(isinstance(t, str) for t in texts)
    assert all(len(r.tokenizer.encode(t)) <= 6 + 2 for t in texts)


def test_gundam_tiles(tmp_path):
    d = _save("gundam", tmp_path / "gundam", geometry=dict(height=1024, width=1024, tile_size=640,
                                                          min_tiles=2, max_tiles=4))
    r = Reader(d, generation=GenerationConfig(page_max_new_tokens=3))
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
    r = Reader(d, generation=GenerationConfig(tokens_per_char=0.25, token_margin=2))
    line = Image.new("L", (300, 30), 255)
    ImageDraw.Draw(line).text((5, 8), "short", fill=0)
    pieces = split_line(line)
    (text,) = r.read_pieces(pieces)
    assert len(r.tokenizer.encode(text)) <= r._line_cap(0.2) + 2
