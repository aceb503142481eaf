"""Packing collate: several samples per row of up to ``max_seq_len`` tokens.

Line samples are short (a vision prefix of a few dozen tokens plus ~20-60 text tokens), so padding
every sample to the longest in the batch wastes compute, and page samples vary from a caption to
a dense two-column page. Packing concatenates samples into rows and marks them with
``segment_ids`` (1..k per row, 0 = padding); :func:`docencoder.model.docencoder.packed_attention`
turns those into a block-diagonal causal mask with positions restarting at every sample, so each
sample is computed exactly as if it were alone (``tests/test_packing.py`` proves it).
"""

from __future__ import annotations

from typing import Sequence

import torch

from docencoder.model.config import TokenConfig

from .collate import Batch, Sample, sequence_ids

#: default row length (tokens); DeepSeek-OCR trains with 8192, 4096 suits our smaller decoders
DEFAULT_MAX_SEQ_LEN = 4096


def pack_rows(lengths: Sequence[int], max_seq_len: int) -> list[list[int]]:
    """Assign samples to rows first-fit, in the given order (deterministic, keeps order in rows).

    Args:
        lengths: token count of each sample (all ``<= max_seq_len``).
        max_seq_len: row capacity.

    Returns:
        Rows as lists of sample indices.
    """
    rows: list[list[int]] = []
    room: list[int] = []
    for i, n in enumerate(lengths):
        if n > max_seq_len:
            raise ValueError(f"sample {i} has {n} tokens, more than max_seq_len={max_seq_len}")
        for r, free in enumerate(room):
            if n <= free:
                rows[r].append(i)
                room[r] -= n
                break
        else:
            rows.append([i])
            room.append(max_seq_len - n)
    return rows


def pack_collate(samples: Sequence[Sample], prefix_len: int, prompt_ids: Sequence[int],
                 tokens: TokenConfig, max_text_tokens: int,
                 max_seq_len: int = DEFAULT_MAX_SEQ_LEN) -> Batch:
    """Pack samples into rows of up to ``max_seq_len`` tokens; same arguments as ``pad_collate``.

    Each sample's text is cut to ``max_text_tokens`` and, if still needed, to what fits in one row
    (eos kept). Images are reordered to match the order in which their slots appear (row by row),
    and ``texts`` follows the same order.

    Returns:
        A :class:`Batch` with ``segment_ids`` `(B, L)` (1..k per row, 0 padding) and
        ``attention_mask`` `(B, L)` = ``segment_ids > 0``.
    """
    if not samples:
        raise ValueError("empty batch")
    fixed = prefix_len + len(prompt_ids) + 1  # image slots + prompt + eos
    if fixed > max_seq_len:
        raise ValueError(f"max_seq_len={max_seq_len} cannot hold even one image prefix "
                         f"({prefix_len}) + prompt ({len(prompt_ids)}) + eos")
    budget = min(max_text_tokens, max_seq_len - fixed)
    seqs = [sequence_ids(s.ids[:budget], prefix_len, prompt_ids, tokens) for s in samples]
    rows = pack_rows([len(s) for s in seqs], max_seq_len)
    L = max(sum(len(seqs[i]) for i in row) for row in rows)
    ids = torch.full((len(rows), L), tokens.pad_id, dtype=torch.long)  # (B, L)
    segments = torch.zeros((len(rows), L), dtype=torch.long)  # (B, L)
    order: list[int] = []
    for r, row in enumerate(rows):
        pos = 0
        for k, i in enumerate(row, start=1):
            n = len(seqs[i])
            ids[r, pos:pos + n] = torch.tensor(seqs[i])
            segments[r, pos:pos + n] = k
            pos += n
            order.append(i)
    pixels = torch.stack([samples[i].image for i in order])  # (N, 3, H, W) in slot order
    return Batch(pixel_values=pixels, input_ids=ids, attention_mask=(segments > 0).long(),
                 texts=[samples[i].text for i in order], segment_ids=segments)
