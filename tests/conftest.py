"""Shared fixtures: tiny random models and the shipped tokenizer."""

from __future__ import annotations

import os

import pytest
import torch

# Tests share 2 cores with each other and with background work: keep torch to one thread each.
torch.set_num_threads(int(os.environ.get("DOCENCODER_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def tokenizer():
    from docencoder.data.tokenizer import load_tokenizer
    return load_tokenizer()


@pytest.fixture()
def tiny_line_model(tokenizer):
    from docencoder.model import DocEncoder, get_config
    torch.manual_seed(0)
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    return DocEncoder(cfg)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny random line model saved like a real checkpoint (weights, config, tokenizer)."""
    from docencoder.eval.memory import tiny_model_dir

    return tiny_model_dir(tmp_path_factory.mktemp("models") / "tiny-line", seed=0)


@pytest.fixture(scope="session")
def bad_inputs(tmp_path_factory):
    """A folder of one readable one-page PDF (good.pdf) among inputs that must each fail cleanly:
    empty, not a PDF, truncated, corrupt, a dangling symlink, encrypted, a page too large to
    render, a broken PNG and a broken TIFF."""
    from reportlab.lib import pdfencrypt
    from reportlab.pdfgen import canvas

    from docencoder.ocr.samples import SampleStyle, make_whitepaper

    d = tmp_path_factory.mktemp("bad_inputs")
    good = make_whitepaper(d / "good.pdf", n_pages=1,
                           style=SampleStyle(columns=1, header=False, footer=False), title="")
    data = good.path.read_bytes()
    (d / "empty.pdf").write_bytes(b"")
    (d / "notpdf.pdf").write_text("plain text, not a PDF\n")
    (d / "truncated.pdf").write_bytes(data[: len(data) // 3])
    (d / "corrupt.pdf").write_bytes(data[:200] + bytes(range(256)) * 8 + data[-300:])
    (d / "broken.pdf").symlink_to(d / "nowhere.pdf")
    c = canvas.Canvas(str(d / "encrypted.pdf"),
                      encrypt=pdfencrypt.StandardEncryption("secret", ownerPassword="owner"))
    c.drawString(72, 720, "secret text")
    c.showPage()
    c.save()
    c = canvas.Canvas(str(d / "huge.pdf"), pagesize=(14400, 14400))
    c.drawString(72, 720, "a very large page")
    c.showPage()
    c.save()
    (d / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    (d / "bad.tiff").write_bytes(b"II*\0garbage")
    return d
