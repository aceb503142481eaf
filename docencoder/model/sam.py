"""SAM-like image encoder: ViTDet blocks with windowed attention and a few global layers.

Follows SAM's image encoder (Kirillov et al., 2023) as DeepEncoder uses it (DeepSeek-OCR, Sec. 3.2),
built from timm's SAM attention (with its decomposed relative position bias) and MLP. Unlike timm's
``VisionTransformerSAM`` the window is a rectangle, so a 4 x 64 text-line grid can be windowed
without padding it to a square. Parameter names match timm's so SAM-B weights map one to one.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import LayerNorm2d, Mlp
from timm.models.vision_transformer_sam import Attention
from torch import nn
from torch.utils.checkpoint import checkpoint

from .config import SamConfig


def window_partition(x: torch.Tensor, window: tuple[int, int]) -> tuple[torch.Tensor, tuple[int, int]]:
    """Split a feature map into non-overlapping windows, padding the bottom/right edges.

    Args:
        x: `(B, H, W, C)`.
        window: `(wh, ww)` window rows and columns.

    Returns:
        Windows `(B * nWh * nWw, wh, ww, C)` and the padded size `(Hp, Wp)`.
    """
    B, H, W, C = x.shape
    wh, ww = window
    pad_h, pad_w = (-H) % wh, (-W) % ww
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))  # (B, Hp, Wp, C)
    Hp, Wp = H + pad_h, W + pad_w
    x = x.view(B, Hp // wh, wh, Wp // ww, ww, C)  # (B, nWh, wh, nWw, ww, C)
    windows = x.permute(0, 1, 3, 2, 4, 5).reshape(-1, wh, ww, C)  # (B*nWh*nWw, wh, ww, C)
    return windows, (Hp, Wp)


def window_unpartition(windows: torch.Tensor, window: tuple[int, int], padded: tuple[int, int],
                       size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`window_partition`: reassemble windows and drop the padding.

    Args:
        windows: `(B * nWh * nWw, wh, ww, C)`.
        window: `(wh, ww)`.
        padded: `(Hp, Wp)` returned by :func:`window_partition`.
        size: original `(H, W)`.

    Returns:
        `(B, H, W, C)`.
    """
    wh, ww = window
    Hp, Wp = padded
    H, W = size
    C = windows.shape[-1]
    B = windows.shape[0] // ((Hp // wh) * (Wp // ww))
    x = windows.view(B, Hp // wh, Wp // ww, wh, ww, C)  # (B, nWh, nWw, wh, ww, C)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(B, Hp, Wp, C)  # (B, Hp, Wp, C)
    return x[:, :H, :W, :].contiguous()


class Block(nn.Module):
    """Pre-norm transformer block; attention is local to a window unless ``window`` is None."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float, window: tuple[int, int] | None,
                 use_rel_pos: bool, rel_pos_size: tuple[int, int]) -> None:
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads=heads, qkv_bias=True, use_rel_pos=use_rel_pos,
                              input_size=window if window is not None else rel_pos_size)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(in_features=dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """`(B, H, W, C)` -> `(B, H, W, C)`."""
        B, H, W, C = x.shape
        shortcut = x
        x = self.norm1(x)
        if self.window is not None:
            x, padded = window_partition(x, self.window)  # (B*nW, wh, ww, C)
            x = self.attn(x)
            x = window_unpartition(x, self.window, padded, (H, W))  # (B, H, W, C)
        else:
            x = self.attn(x)
        x = shortcut + x
        x = x + self.mlp(self.norm2(x))
        return x


def resize_pos_embed_2d(pos: torch.Tensor, size: tuple[int, int], crop: bool = False) -> torch.Tensor:
    """Fit a `(1, h, w, C)` position embedding to `(1, *size, C)` when they differ.

    ``crop`` takes the top-left corner when ``size`` fits inside the table (dynamic-width line
    crops: the left part of a line keeps the positions it has in a full-width crop); otherwise
    the table is resized bicubically.
    """
    if tuple(pos.shape[1:3]) == tuple(size):
        return pos
    if crop and size[0] <= pos.shape[1] and size[1] <= pos.shape[2]:
        return pos[:, :size[0], :size[1]]  # (1, h', w', C)
    resized = F.interpolate(pos.permute(0, 3, 1, 2), size=size, mode="bicubic",
                            align_corners=False)  # (1, C, H, W)
    return resized.permute(0, 2, 3, 1)  # (1, H, W, C)


class SamEncoder(nn.Module):
    """Patch embedding + windowed/global ViT blocks + conv neck to ``neck_dim`` channels."""

    def __init__(self, cfg: SamConfig) -> None:
        super().__init__()
        self.cfg = cfg
        p = cfg.patch_size
        self.patch_embed = nn.Module()
        self.patch_embed.proj = nn.Conv2d(3, cfg.dim, kernel_size=p, stride=p)
        self.pos_embed = nn.Parameter(torch.zeros(1, *cfg.pos_grid, cfg.dim))
        self.blocks = nn.ModuleList(
            Block(cfg.dim, cfg.heads, cfg.mlp_ratio,
                  window=None if i in cfg.global_layers else cfg.window,
                  use_rel_pos=cfg.use_rel_pos, rel_pos_size=cfg.pos_grid)
            for i in range(cfg.depth))
        self.neck = nn.Sequential(
            nn.Conv2d(cfg.dim, cfg.neck_dim, kernel_size=1, bias=False),
            LayerNorm2d(cfg.neck_dim),
            nn.Conv2d(cfg.neck_dim, cfg.neck_dim, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(cfg.neck_dim),
        )
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        self.grad_checkpointing = False

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """`(B, 3, H, W)` -> `(B, neck_dim, H/p, W/p)`."""
        x = self.patch_embed.proj(pixels)  # (B, dim, h, w)
        x = x.permute(0, 2, 3, 1)  # (B, h, w, dim)
        x = x + resize_pos_embed_2d(self.pos_embed, x.shape[1:3], self.cfg.crop_pos)
        for blk in self.blocks:
            if self.grad_checkpointing and self.training:
                x = checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        return self.neck(x.permute(0, 3, 1, 2))  # (B, neck_dim, h, w)
