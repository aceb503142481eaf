"""Int8 inference (docencoder/ocr/quantize.py): the modes, CLIP's attention rebuild, and int8
numerics against float32 on a tiny random model."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from docencoder.ocr.quantize import quantize_int8, rebuild_clip_attention, resolve_quantize


@pytest.fixture()
def model(tiny_line_model):
    return copy.deepcopy(tiny_line_model).eval()


def _pixels(cfg, B: int = 3, width: int = 256, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(B, 3, cfg.geometry.height, width, generator=g) * 2 - 1  # (B, 3, H, width)


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / a.norm()).item()


def test_quantize_modes():
    assert resolve_quantize("auto", "cpu") == "int8"
    assert resolve_quantize("auto", "cuda:0") == "none"
    assert resolve_quantize("none", "cpu") == "none"
    assert resolve_quantize("int8", "cpu") == "int8"
    with pytest.raises(ValueError, match="CPU only"):
        resolve_quantize("int8", "cuda")
    with pytest.raises(ValueError, match="unknown quantize"):
        resolve_quantize("fp8", "cpu")


def test_rebuilt_clip_attention_computes_the_same(model):
    """open_clip's nn.MultiheadAttention blocks become SelfAttention: the same float function."""
    x = _pixels(model.cfg)
    with torch.inference_mode():
        before = model.encode_image(x)  # (B, P, E)
    assert rebuild_clip_attention(model) == model.cfg.clip.layers
    assert not any(isinstance(m, nn.MultiheadAttention) for m in model.modules())
    assert rebuild_clip_attention(model) == 0  # nothing left to rebuild
    with torch.inference_mode():
        after = model.encode_image(x)
    torch.testing.assert_close(after, before, atol=1e-5, rtol=1e-5)


def test_int8_is_float32_to_rounding(model):
    """Every linear layer but the tied head is int8; encoder features and decoder logits stay
    within int8 rounding of float32, and the LM head is the embedding itself still."""
    from torch.ao.nn.quantized.dynamic import Linear as QuantizedLinear

    fp32 = copy.deepcopy(model)
    cfg = model.cfg
    q = quantize_int8(model)
    quantized = [n for n, m in q.named_modules() if isinstance(m, QuantizedLinear)]
    assert any(n.startswith("sam.") for n in quantized)
    assert "clip.transformer.resblocks.0.attn.in_proj" in quantized  # CLIP's attention too
    assert any(n.startswith("decoder.model.") for n in quantized)
    assert [n for n, m in q.named_modules() if type(m) is nn.Linear] == ["decoder.lm_head"]
    assert q.decoder.lm_head.weight is q.decoder.get_input_embeddings().weight  # still tied

    x = _pixels(cfg)
    ids = torch.randint(20, cfg.vocab_size, (x.shape[0], 6),
                        generator=torch.Generator().manual_seed(1))  # (B, 6)

    def logits(m, vision):
        text = m.decoder.get_input_embeddings()(ids)  # (B, 6, E)
        return m.decoder(inputs_embeds=torch.cat([vision, text], 1)).logits  # (B, P + 6, V)

    with torch.inference_mode():
        a, b = fp32.encode_image(x), q.encode_image(x)  # (B, P, E)
        la, lb = logits(fp32, a), logits(q, b)
    assert a.shape == b.shape and la.shape == lb.shape  # (B, P + 6, V)
    assert 0 < _rel(a, b) < 0.05, _rel(a, b)  # rounded, not another model
    assert _rel(la, lb) < 0.05, _rel(la, lb)
