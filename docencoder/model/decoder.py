"""The compact decoder LM: a transformers Llama-architecture causal LM built from a small config.

Using a stock transformers model gives us KV-cached, batched generation and logits processors for
free, and lets users swap in any local causal-LM checkpoint (``DecoderConfig.pretrained_path``).
"""

from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM, LogitsProcessor

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
