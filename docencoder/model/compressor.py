"""The 16x token compressor of DeepEncoder (DeepSeek-OCR, Sec. 3.2).

Two 3x3 stride-2 convolutions between the windowed SAM stage and the global CLIP stage: each halves
both sides, so a ``h x w`` patch grid becomes ``h/4 x w/4`` dense tokens and global attention
becomes affordable. Channels grow C -> 2C -> D so little information is thrown away.
"""

from __future__ import annotations

import torch
from torch import nn

from .config import CompressorConfig


class Compressor(nn.Module):
    """`(B, C, h, w)` -> `(B, D, h/4, w/4)`."""

    def __init__(self, in_dim: int, out_dim: int, cfg: CompressorConfig) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_dim, 2 * in_dim, kernel_size=3, stride=2, padding=1, bias=False)
        self.act = nn.GELU() if cfg.activation else nn.Identity()
        self.conv2 = nn.Conv2d(2 * in_dim, out_dim, kernel_size=3, stride=2, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.act(self.conv1(x)))  # (B, D, h/4, w/4)
