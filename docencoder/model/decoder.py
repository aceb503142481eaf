"""The compact decoder LM: a transformers Llama-architecture causal LM built from a small config.

Using a stock transformers model gives us KV-cached, batched generation and logits processors for
free, and lets users swap in any local causal-LM checkpoint (``DecoderConfig.pretrained_path``).
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn
from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessor, LogitsProcessorList
from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

from .config import DecoderConfig


def build_decoder(cfg: DecoderConfig, vocab_size: int, init_std: float) -> LlamaForCausalLM:
    """A freshly initialised causal LM of the configured size (no weights are read)."""
    hf_cfg = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.kv_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        rope_theta=cfg.rope_theta,
        tie_word_embeddings=cfg.tie_embeddings,
        initializer_range=init_std,
        attention_bias=False,
        pad_token_id=None,
        bos_token_id=None,
        eos_token_id=None,
    )
    hf_cfg._attn_implementation = "sdpa"
    return LlamaForCausalLM(hf_cfg)


class WindowedNoRepeatNGram(LogitsProcessor):
    """Bans a token that would repeat an n-gram already seen in the last ``window`` tokens.

    DeepSeek-OCR guards its decoder the same way (n-gram 30 within a window of 90): a runaway loop
    ("the the the ...") is cut without forbidding legitimate repeats far apart in a long page.
    Only generated tokens are looked at (with ``inputs_embeds`` the prompt has no ids).
    """

    def __init__(self, ngram_size: int, window: int) -> None:
        if ngram_size < 2 or window < ngram_size:
            raise ValueError("need ngram_size >= 2 and window >= ngram_size")
        self.n = ngram_size
        self.window = window

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        B, L = input_ids.shape
        if L < self.n:
            return scores
        recent = input_ids[:, -self.window:].tolist()
        for b in range(B):
            seq = recent[b]
            prefix = tuple(seq[len(seq) - self.n + 1:])
            banned = [seq[i + self.n - 1] for i in range(len(seq) - self.n + 1)
                      if tuple(seq[i:i + self.n - 1]) == prefix]
            if banned:
                scores[b, banned] = float("-inf")
        return scores


class PreallocatedKV:
    """A key/value cache of fixed capacity that the Llama layers write into in place.

    transformers' dynamic cache grows by ``torch.cat`` at every step, which copies the whole cache:
    on CPU that was 13 % of greedy decoding for our short line sequences. Only ``update`` is
    needed by the layers.
    """

    def __init__(self, layers: int, batch: int, kv_heads: int, head_dim: int, capacity: int,
                 like: torch.Tensor) -> None:
        shape = (batch, kv_heads, capacity, head_dim)
        self.keys = [like.new_empty(shape) for _ in range(layers)]
        self.values = [like.new_empty(shape) for _ in range(layers)]
        self.lengths = [0] * layers

    def update(self, key: torch.Tensor, value: torch.Tensor, layer_idx: int, *args, **kwargs
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """Append `(B, kv_heads, t, head_dim)` keys/values; all of the layer's so far (views)."""
        n, t = self.lengths[layer_idx], key.shape[2]
        self.keys[layer_idx][:, :, n:n + t] = key
        self.values[layer_idx][:, :, n:n + t] = value
        self.lengths[layer_idx] = n + t
        return self.keys[layer_idx][:, :, :n + t], self.values[layer_idx][:, :, :n + t]

    def keep(self, rows: torch.Tensor) -> None:
        """Drop every batch row not in ``rows`` (finished sequences stop costing compute)."""
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]


def fuse_projections(lm: LlamaForCausalLM) -> bool:
    """Give every decoder layer one ``qkv_proj`` and one ``gate_up_proj`` for :func:`greedy_decode`.

    Why: at a batch of 64 line pieces a decode step of this 4-layer, 256-wide decoder spends about a
    third of its time in per-call overhead (measured: 2.3 ms a step at batch 8, 6.0 ms at 64);
    seven small matrix products a layer become four, and decoding the batches of 8 degraded dev
    pages took 0.82 s instead of 0.87 (int8). The fused layers are copies, for inference:
    made before int8 quantisation, they quantise to the same per-output-channel scales as the
    separate ones and see the same input, so they give the same numbers. The layers' own
    projections stay (``generate`` and training use them).

    Returns:
        False (and changes nothing) when the layers are not Llama-shaped (a user's own LM).
    """
    layers = lm.model.layers
    if not all(hasattr(layer, "self_attn") and hasattr(layer, "mlp") and hasattr(layer.self_attn, "q_proj")
               and hasattr(layer.mlp, "gate_proj") for layer in layers):
        return False
    for layer in layers:
        a, m = layer.self_attn, layer.mlp
        layer.qkv_proj = _concat_linear([a.q_proj, a.k_proj, a.v_proj])
        layer.gate_up_proj = _concat_linear([m.gate_proj, m.up_proj])
    return True


def _concat_linear(parts: list[nn.Linear]) -> nn.Linear:
    """One linear layer whose outputs are those of ``parts``, in order."""
    w = torch.cat([p.weight.detach() for p in parts])  # (sum out, in)
    bias = parts[0].bias is not None
    out = nn.Linear(w.shape[1], w.shape[0], bias=bias, device=w.device, dtype=w.dtype)
    out.weight.data.copy_(w)
    if bias:
        out.bias.data.copy_(torch.cat([p.bias.detach() for p in parts]))
    return out


def _fused_layer(layer: nn.Module, hidden: torch.Tensor, rope: tuple[torch.Tensor, torch.Tensor],
                 cache: "PreallocatedKV", mask: Optional[torch.Tensor]) -> torch.Tensor:
    """A Llama decoder layer's forward with its fused projections (see :func:`fuse_projections`):
    the same operations as transformers' layer with SDPA attention, less its dispatch."""
    attn = layer.self_attn
    B, q, _ = hidden.shape
    hd = attn.head_dim
    heads, kv_heads = attn.config.num_attention_heads, attn.config.num_key_value_heads
    qkv = layer.qkv_proj(layer.input_layernorm(hidden))  # (B, q, (heads + 2 kv_heads) * hd)
    qs, ks, vs = qkv.split([heads * hd, kv_heads * hd, kv_heads * hd], dim=-1)
    qs = qs.view(B, q, heads, hd).transpose(1, 2)  # (B, heads, q, hd)
    ks = ks.view(B, q, kv_heads, hd).transpose(1, 2)  # (B, kv_heads, q, hd)
    vs = vs.view(B, q, kv_heads, hd).transpose(1, 2)
    cos, sin = rope
    qs, ks = apply_rotary_pos_emb(qs, ks, cos, sin)
    ks, vs = cache.update(ks, vs, attn.layer_idx)  # (B, kv_heads, kv, hd)
    o = F.scaled_dot_product_attention(qs, ks, vs, attn_mask=mask, scale=attn.scaling,
                                       is_causal=mask is None and q > 1,
                                       enable_gqa=kv_heads != heads)  # (B, heads, q, hd)
    o = o.transpose(1, 2).reshape(B, q, heads * hd)  # (B, q, heads*hd)
    hidden = hidden + attn.o_proj(o)
    gate, up = layer.gate_up_proj(layer.post_attention_layernorm(hidden)).chunk(2, dim=-1)
    return hidden + layer.mlp.down_proj(layer.mlp.act_fn(gate) * up)  # (B, q, E)


@torch.no_grad()
def greedy_decode(lm: LlamaForCausalLM, embeds: torch.Tensor, max_new_tokens: int, eos_id: int,
                  pad_id: int, processors: Optional[LogitsProcessorList] = None,
                  left_pad: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Greedy decoding after an embedded prefix, token for token what ``lm.generate`` returns.

    Why not ``generate``: for a 4-layer, 256-wide decoder on CPU its per-step bookkeeping (mask
    building, cache growth by concatenation, stopping criteria) cost about a third of the decode
    time. This loop calls the same layers with a preallocated cache and, when no prefix is padded,
    no attention mask (attention is plainly causal: SDPA applies ``is_causal`` to the prefill),
    and drops finished rows. Logits processors must treat rows independently (they see
    only the live rows).

    Prefixes of different lengths are right-aligned: row ``b``'s first ``left_pad[b]`` positions
    are padding, masked out of every attention, so a row reads as if decoded alone (rotary
    embeddings see only relative positions, so the shift does not matter). Zero embeddings stay
    exactly zero through the layers (RMSNorm of zero is zero, the projections have no bias), so
    padding does not move the int8 activation ranges either.

    Args:
        embeds: `(B, P, E)` prefix embeddings (vision tokens and prompt).
        processors: logits processors, called as in ``generate`` with the generated ids so far.
        left_pad: `(B,)` padding positions at the start of each row's prefix (None = none).

    Returns:
        `(B, T)` generated ids, each row ending at its eos (kept) and padded with ``pad_id``;
        T is the longest row (at most ``max_new_tokens``).
    """
    model = lm.model
    cfg = lm.config
    if cfg._attn_implementation != "sdpa":  # no mask is passed: only SDPA makes prefill causal
        raise ValueError(f"greedy_decode needs sdpa attention, the decoder uses "
                         f"{cfg._attn_implementation!r}; use lm.generate")
    B, P, _ = embeds.shape
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
    cache = PreallocatedKV(len(model.layers), B, cfg.num_key_value_heads, head_dim,
                           P + max_new_tokens, embeds)
    out = torch.full((B, max(max_new_tokens, 0)), pad_id, dtype=torch.long, device=embeds.device)
    rows = torch.arange(B, device=embeds.device)  # original index of each live row
    done = torch.zeros(B, dtype=torch.bool, device=embeds.device)  # (b,) reached eos
    hidden = embeds
    positions = torch.arange(P, device=embeds.device).unsqueeze(0)  # (1, P)
    key_ok = mask = None  # no padding: plainly causal, no mask
    if left_pad is not None and bool(left_pad.any()):
        slots = torch.arange(P + max_new_tokens, device=embeds.device)  # (P+T,)
        key_ok = slots.unsqueeze(0) >= left_pad.unsqueeze(1)  # (B, P+T) real positions
        causal = torch.ones(P, P, dtype=torch.bool, device=embeds.device).tril()  # (P, P)
        # a padding query attends to itself only (an all-masked row would give NaN)
        mask = (causal & key_ok[:, None, :P]) | torch.eye(P, dtype=torch.bool, device=embeds.device)
        mask = mask.unsqueeze(1)  # (B, 1, P, P)
    fused = all(hasattr(layer, "qkv_proj") for layer in model.layers)
    steps = 0
    for t in range(max_new_tokens):
        rope = model.rotary_emb(hidden, positions)  # cos, sin: (1, q, head_dim)
        for layer in model.layers:
            if fused:
                hidden = _fused_layer(layer, hidden, rope, cache, mask)  # (b, q, E)
            else:
                hidden = layer(hidden, attention_mask=mask, position_embeddings=rope,
                               cache=cache)  # (b, q, E)
        scores = lm.lm_head(model.norm(hidden[:, -1])).float()  # (b, V)
        if processors:
            scores = processors(out[rows, :t], scores)
        nxt = scores.argmax(-1).masked_fill(done, pad_id)  # (b,)
        out[rows, t] = nxt
        steps = t + 1
        done |= nxt == eos_id
        n_done = int(done.sum())
        if n_done == done.numel():
            break
        if 4 * n_done >= done.numel():  # compact rarely: each compaction copies the cache
            keep = (~done).nonzero().squeeze(1)  # (b',)
            cache.keep(keep)
            rows, nxt, done = rows[keep], nxt[keep], done[keep]
            if key_ok is not None:
                key_ok = key_ok[keep]
        hidden = model.embed_tokens(nxt).unsqueeze(1)  # (b, 1, E)
        positions = torch.full((1, 1), P + t, dtype=torch.long, device=embeds.device)
        if key_ok is not None:
            mask = key_ok[:, None, None, :P + t + 1]  # (b, 1, 1, P+t+1)
    return out[:, :steps]
