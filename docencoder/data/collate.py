"""Turning samples into model batches: token layout and the padding collate.

A sample's sequence is ``[image_id x P][prompt][text][eos]`` where P is the model's vision-prefix
length; the model swaps the ``image_id`` embeddings for vision tokens and takes loss on text+eos only.
(The packing collate, several samples per 4096-token row, lives in ``packing.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch

from docencoder.model.config import TokenConfig


@dataclass
class Sample:
    """One training example: a normalised image tensor `(3, H, W)`, its text and text token ids."""

    image: torch.Tensor
    text: str
    ids: list[int]


@dataclass
class Batch:
    """What :meth:`DocEncoder.forward` takes, plus the texts for reading metrics."""

    pixel_values: torch.Tensor  # (N, 3, H, W)
    input_ids: torch.Tensor  # (B, L)
    attention_mask: torch.Tensor  # (B, L)
    texts: list[str]
    segment_ids: Optional[torch.Tensor] = None  # (B, L) for packed rows

    def model_inputs(self) -> dict[str, torch.Tensor]:
        out = {"pixel_values": self.pixel_values, "input_ids": self.input_ids,
               "attention_mask": self.attention_mask}
        if self.segment_ids is not None:
            out["segment_ids"] = self.segment_ids
        return out

    def __len__(self) -> int:
        return len(self.texts)


def sequence_ids(text_ids: Sequence[int], prefix_len: int, prompt_ids: Sequence[int],
                 tokens: TokenConfig) -> list[int]:
    """``[image_id x prefix_len] + prompt + text + [eos]``."""
    return [tokens.image_id] * prefix_len + list(prompt_ids) + list(text_ids) + [tokens.eos_id]


def pad_collate(samples: Sequence[Sample], prefix_len: int, prompt_ids: Sequence[int],
                tokens: TokenConfig, max_text_tokens: int) -> Batch:
    """Stack images and right-pad sequences to the longest one in the batch.

    Text longer than ``max_text_tokens`` is truncated (eos kept), so one odd sample can't blow
    the sequence length of a whole batch.
    """
    if not samples:
        raise ValueError("empty batch")
    seqs = [sequence_ids(s.ids[:max_text_tokens], prefix_len, prompt_ids, tokens) for s in samples]
    L = max(map(len, seqs))
    ids = torch.full((len(seqs), L), tokens.pad_id, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, s in enumerate(seqs):
        ids[i, :len(s)] = torch.tensor(s)
        mask[i, :len(s)] = 1
    return Batch(pixel_values=torch.stack([s.image for s in samples]), input_ids=ids,
                 attention_mask=mask, texts=[s.text for s in samples])
