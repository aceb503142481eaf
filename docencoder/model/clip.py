"""CLIP-style global-attention encoder over the compressed tokens (DeepSeek-OCR, Sec. 3.2).

DeepEncoder feeds the compressor's output to CLIP's transformer in place of CLIP's patch
embedding: the compressed map *is* the patch embedding. A class token and learned position
embeddings (bicubically interpolated to the actual grid) are added, as in open_clip's
``VisionTransformer``; the blocks are open_clip's ``Transformer`` so ViT-L/14 weights map by name.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from open_clip.transformer import LayerNorm, Transformer
from torch import nn

from .config import ClipConfig


def resize_clip_pos(pos: torch.Tensor, grid: tuple[int, int], size: tuple[int, int],
                    crop: bool = False) -> torch.Tensor:
    """Fit a CLIP position table `(1 + gh*gw, D)` (class first) to `(1 + h*w, D)` for ``size``.

    ``crop`` takes the top-left ``h x w`` corner of the grid when it fits (see
    ``ClipConfig.crop_pos``); otherwise the grid is resized bicubically.
    """
    if tuple(grid) == tuple(size):
        return pos
    cls, patch = pos[:1], pos[1:]
    gh, gw = grid
    D = pos.shape[-1]
    if crop and size[0] <= gh and size[1] <= gw:
        patch = patch.reshape(gh, gw, D)[:size[0], :size[1]].reshape(size[0] * size[1], D)  # (h*w, D)
        return torch.cat([cls, patch], dim=0)  # (1 + h*w, D)
    patch = patch.reshape(1, gh, gw, D).permute(0, 3, 1, 2)  # (1, D, gh, gw)
    patch = F.interpolate(patch, size=size, mode="bicubic", align_corners=False)  # (1, D, h, w)
    patch = patch.permute(0, 2, 3, 1).reshape(size[0] * size[1], D)  # (h*w, D)
    return torch.cat([cls, patch], dim=0)  # (1 + h*w, D)


class ClipEncoder(nn.Module):
    """`(B, D, h, w)` compressed map -> `(B, h*w, D)` globally mixed tokens (class token dropped)."""

    def __init__(self, cfg: ClipConfig) -> None:
        super().__init__()
        self.cfg = cfg
        gh, gw = cfg.pos_grid
        scale = cfg.width ** -0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(cfg.width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(1 + gh * gw, cfg.width))
        self.ln_pre = LayerNorm(cfg.width)
        self.transformer = Transformer(cfg.width, cfg.layers, cfg.heads, mlp_ratio=cfg.mlp_ratio,
                                       act_layer=nn.GELU, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, D, h, w = x.shape
        x = x.flatten(2).transpose(1, 2)  # (B, h*w, D)
        cls = self.class_embedding.to(x.dtype).expand(B, 1, D)  # (B, 1, D)
        x = torch.cat([cls, x], dim=1)  # (B, 1 + h*w, D)
        x = x + resize_clip_pos(self.positional_embedding, self.cfg.pos_grid, (h, w),
                                self.cfg.crop_pos).to(x.dtype)
        x = self.transformer(self.ln_pre(x))  # (B, 1 + h*w, D)
        return x[:, 1:]  # (B, h*w, D)


class SelfAttention(nn.Module):
    """``nn.MultiheadAttention``'s batch-first self-attention with its projections as plain
    ``nn.Linear`` layers, so int8 dynamic quantisation reaches them.

    Why: ``nn.MultiheadAttention`` keeps its input projection as a bare parameter and reads its
    output projection's weight directly, so quantisation skipped both and CLIP's attention stayed
    float32 (measured: CLIP 23 % faster with them int8). Same arithmetic as the module it
    replaces (:meth:`from_mha`); inference only (no dropout, no attention weights).
    """

    def __init__(self, dim: int, heads: int, bias: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj = nn.Linear(dim, 3 * dim, bias=bias)
        self.out_proj = nn.Linear(dim, dim, bias=bias)

    @classmethod
    def from_mha(cls, mha: nn.MultiheadAttention) -> "SelfAttention":
        if not (mha.batch_first and mha._qkv_same_embed_dim):
            raise ValueError("only batch-first attention with one input projection converts")
        out = cls(mha.embed_dim, mha.num_heads, bias=mha.in_proj_bias is not None)
        out = out.to(device=mha.in_proj_weight.device, dtype=mha.in_proj_weight.dtype)
        with torch.no_grad():
            out.in_proj.weight.copy_(mha.in_proj_weight)
            out.out_proj.weight.copy_(mha.out_proj.weight)
            if mha.in_proj_bias is not None:
                out.in_proj.bias.copy_(mha.in_proj_bias)
                out.out_proj.bias.copy_(mha.out_proj.bias)
        return out

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                need_weights: bool = False, attn_mask: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, None]:
        """`(B, L, D)` (key and value are the query: self-attention) -> `(B, L, D)`, None."""
        if key is not query or value is not query:
            raise ValueError("SelfAttention only attends a sequence to itself")
        B, L, D = query.shape
        qkv = self.in_proj(query).view(B, L, 3, self.heads, D // self.heads)  # (B, L, 3, h, d)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)  # each (B, h, L, d)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)  # (B, h, L, d)
        return self.out_proj(o.transpose(1, 2).reshape(B, L, D)), None  # (B, L, D)

