"""Fusion of CLIP and compressor features and projection to the decoder width (DeepSeek-OCR).

DeepSeek-OCR concatenates CLIP's output with the compressed SAM features along channels and maps
them with a linear projector; learned ``image_newline`` and ``view_separator`` embeddings mark the
end of each row of tokens and the end of an image, so the decoder knows the 2-D layout.
"""

from __future__ import annotations

import torch
from torch import nn


class Projector(nn.Module):
    """`(B, h*w, D)` CLIP + `(B, h*w, D)` compressed -> `(B, h*w, hidden)`."""

    def __init__(self, clip_dim: int, sam_dim: int, hidden: int, std: float) -> None:
        super().__init__()
        self.proj = nn.Linear(clip_dim + sam_dim, hidden)
        self.image_newline = nn.Parameter(std * torch.randn(hidden))
        self.view_separator = nn.Parameter(std * torch.randn(hidden))

    def forward(self, clip_tokens: torch.Tensor, sam_tokens: torch.Tensor) -> torch.Tensor:
        return self.proj(torch.cat([clip_tokens, sam_tokens], dim=-1))  # (B, h*w, hidden)


def add_newlines(tokens: torch.Tensor, rows: int, cols: int, newline: torch.Tensor | None) -> torch.Tensor:
    """Lay out a token grid row by row with a newline embedding after each row.

    Args:
        tokens: `(B, rows*cols, E)` in row-major order.
        newline: `(E,)` or None for no newline tokens.

    Returns:
        `(B, rows*(cols+1), E)` (or the input unchanged when ``newline`` is None).
    """
    if newline is None:
        return tokens
    B, _, E = tokens.shape
    grid = tokens.view(B, rows, cols, E)  # (B, rows, cols, E)
    nl = newline.to(tokens.dtype).view(1, 1, 1, E).expand(B, rows, 1, E)  # (B, rows, 1, E)
    return torch.cat([grid, nl], dim=2).reshape(B, rows * (cols + 1), E)  # (B, rows*(cols+1), E)
