"""A CTC reader on the SAM map: reading without a language model, to keep the decoder honest.

Why: the decoder is a language model; on text it cannot predict (rare words, names, letter
strings) it writes familiar words instead of the glyphs (``docencoder bench probe``). A linear CTC
head on the SAM map (one frame per 8-px patch column) has no language model at all. It is trained
beside the decoder (hybrid CTC/attention training, Watanabe et al., 2017, which also gives the
encoder a direct per-column target) and, when the model carries it, the line reader decodes with
joint CTC/attention scores (:mod:`docencoder.model.joint_decode`): a hypothesis whose characters
are not on the image loses its CTC probability.

Only line geometries have one: the head reads a fixed number of patch rows per column.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class CtcHead(nn.Module):
    """Per patch column of the SAM map, log-probabilities over the vocabulary (blank = pad)."""

    def __init__(self, rows: int, channels: int, vocab_size: int) -> None:
        super().__init__()
        self.rows = rows
        self.proj = nn.Linear(rows * channels, vocab_size)

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """`(B, C, rows, W)` SAM map -> `(W, B, V)` log-probabilities (CTC's time-first layout)."""
        B, C, H, W = feats.shape
        if H != self.rows:
            raise ValueError(f"CTC head built for {self.rows} rows, got a map of {H}")
        cols = feats.permute(3, 0, 2, 1).reshape(W, B, H * C)  # (W, B, rows*C)
        return F.log_softmax(self.proj(cols).float(), dim=-1)  # (W, B, V)
