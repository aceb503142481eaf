"""DocEncoder: DeepEncoder (SAM -> 16x compressor -> CLIP) + projector + compact decoder LM.

The architecture of DeepSeek-OCR (Wei et al., 2025): windowed attention keeps activations small at
high resolution, the convolutional compressor cuts tokens 16x, global attention runs only on the few
compressed tokens, and a small causal LM reads them as a prefix and writes the text.

The API is split as timm splits ``forward_features``/``forward_head``:
``encode_image`` (pixels -> decoder-width vision tokens), ``forward`` (masked next-token loss) and
``generate`` (transformers' cached, batched generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from transformers import GenerationConfig, LogitsProcessorList

from .clip import ClipEncoder
from .compressor import Compressor
from .config import ModelConfig
from .ctc import CtcHead
from .decoder import WindowedNoRepeatNGram, build_decoder, greedy_decode
from .joint_decode import JointConfig, joint_beam_search, pad_ctc_frames
from .projector import Projector, add_newlines
from .sam import SamEncoder


@dataclass
class DocEncoderOutput:
    """Result of :meth:`DocEncoder.forward`."""

    loss: torch.Tensor  # mean cross-entropy over target tokens (0 when there are none)
    loss_sum: torch.Tensor  # summed cross-entropy, for exact token-weighted averaging
    n_targets: torch.Tensor  # number of target tokens the loss covers
    logits: torch.Tensor  # `(n_targets, V)` logits at target positions only


def packed_attention(segment_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Block-diagonal causal mask and restarting positions for sequences packed in one row.

    Args:
        segment_ids: `(B, L)` int, 1..k for the k samples in a row, 0 for padding.

    Returns:
        A boolean mask `(B, 1, L, L)` (True = may attend) in which every token sees only earlier
        tokens of its own sample (padding sees only itself, so no row is empty), and position ids
        `(B, L)` that restart at 0 at each sample, so a packed sample is computed as if alone.
    """
    B, L = segment_ids.shape
    idx = torch.arange(L, device=segment_ids.device)
    same = segment_ids[:, :, None] == segment_ids[:, None, :]  # (B, L, L)
    causal = idx[:, None] >= idx[None, :]  # (L, L)
    real = (segment_ids > 0)[:, :, None]  # (B, L, 1)
    mask = (same & causal & real) | torch.eye(L, dtype=torch.bool, device=segment_ids.device)
    starts = torch.ones_like(segment_ids, dtype=torch.bool)
    starts[:, 1:] = segment_ids[:, 1:] != segment_ids[:, :-1]
    start_idx = torch.where(starts, idx.expand(B, L), torch.zeros_like(segment_ids))
    start_idx = torch.cummax(start_idx, dim=1).values  # (B, L) index where each segment begins
    return mask[:, None], idx.expand(B, L) - start_idx


class DocEncoder(nn.Module):
    """The full model. See the module docstring for the data flow."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.sam = SamEncoder(cfg.sam)
        self.compressor = Compressor(cfg.sam.neck_dim, cfg.clip.width, cfg.compressor)
        self.clip = ClipEncoder(cfg.clip)
        self.projector = Projector(cfg.clip.width, cfg.clip.width, cfg.decoder.hidden_size,
                                   cfg.init_std)
        self.decoder = build_decoder(cfg.decoder, cfg.vocab_size, cfg.init_std)
        self.ctc_head: Optional[CtcHead] = self._new_ctc_head() if cfg.ctc_head else None
        self._non_target = torch.tensor(cfg.tokens.non_target_ids)

    def _new_ctc_head(self) -> CtcHead:
        cfg = self.cfg
        return CtcHead(cfg.geometry.height // cfg.sam.patch_size, cfg.sam.neck_dim, cfg.vocab_size)

    def add_ctc_head(self) -> CtcHead:
        """Give a model without one a freshly initialised CTC head (a warm start from an export
        that had none); ``cfg.ctc_head`` becomes True so the export records it."""
        if self.ctc_head is None:
            if self.cfg.geometry.kind != "line":
                raise ValueError(f"a CTC head reads line geometries only; {self.cfg.name!r} is "
                                 f"{self.cfg.geometry.kind!r}")
            self.cfg.ctc_head = True
            self.ctc_head = self._new_ctc_head().to(self.projector.view_separator.device)
        return self.ctc_head

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        """Recompute block activations during backward in every transformer stage."""
        self.sam.grad_checkpointing = enabled
        self.clip.transformer.grad_checkpointing = enabled
        if enabled:
            self.decoder.gradient_checkpointing_enable(
                gradient_checkpointing_kwargs={"use_reentrant": False})
        else:
            self.decoder.gradient_checkpointing_disable()

    # ------------------------------------------------------------------ vision
    def check_pixels(self, pixel_values: torch.Tensor, tiles: Optional[torch.Tensor] = None) -> None:
        """Raise ``ValueError`` naming the expected shape when the input does not fit the geometry."""
        g = self.cfg.geometry
        unit = self.cfg.width_unit
        width = f"W<={g.width}, a multiple of {unit}" if g.dynamic_width else str(g.width)
        want = f"(B>=1, 3, {g.height}, {width})"
        if not isinstance(pixel_values, torch.Tensor) or pixel_values.ndim != 4:
            raise ValueError(f"pixel_values must be a 4-D tensor {want}, got "
                             f"{tuple(getattr(pixel_values, 'shape', ()))}")
        B, C, H, W = pixel_values.shape
        if B == 0:
            raise ValueError(f"empty batch: pixel_values must be {want}, got {tuple(pixel_values.shape)}")
        fits = (W == g.width) or (g.dynamic_width and 0 < W <= g.width and W % unit == 0)
        if C != 3 or H != g.height or not fits:
            raise ValueError(f"config {self.cfg.name!r} expects pixel_values {want}, got "
                             f"{tuple(pixel_values.shape)}")
        if tiles is not None:
            t = g.tile_size
            if not t:
                raise ValueError(f"config {self.cfg.name!r} has no local tiles; pass tiles=None")
            if tiles.ndim != 5 or tiles.shape[0] != B or tuple(tiles.shape[2:]) != (3, t, t):
                raise ValueError(f"tiles must be (B={B}, n, 3, {t}, {t}), got {tuple(tiles.shape)}")

    def _encode_view(self, pixels: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        """`(N, 3, H, W)` -> projected tokens `(N, rows*cols, E)`, rows, cols."""
        return self._encode_sam_map(self.sam(pixels))

    def _encode_sam_map(self, sam_map: torch.Tensor) -> tuple[torch.Tensor, int, int]:
        """`(N, C, H/p, W/p)` SAM map -> projected tokens `(N, rows*cols, E)`, rows, cols."""
        feats = self.compressor(sam_map)  # (N, D, rows, cols)
        _, _, rows, cols = feats.shape
        clip_tokens = self.clip(feats)  # (N, rows*cols, D)
        sam_tokens = feats.flatten(2).transpose(1, 2)  # (N, rows*cols, D)
        return self.projector(clip_tokens, sam_tokens), rows, cols

    def encode_image(self, pixel_values: torch.Tensor, tiles: Optional[torch.Tensor] = None,
                     tile_grid: Optional[tuple[int, int]] = None) -> torch.Tensor:
        """Pixels -> the decoder's vision prefix.

        Args:
            pixel_values: `(B, 3, H, W)`, the main (global) view, normalised to [-1, 1].
            tiles: optional `(B, n, 3, t, t)` local tiles (Gundam), row-major over ``tile_grid``.
            tile_grid: `(tile_rows, tile_cols)` with ``rows * cols == n``.

        Returns:
            `(B, P, E)` with P = ``cfg.prefix_length(tile_grid)``: local tiles laid out as one big
            grid with row newlines, then the global view with row newlines, then a view separator.
        """
        self.check_pixels(pixel_values, tiles)
        return self._prefix(self.sam(pixel_values), tiles, tile_grid)

    def _prefix(self, sam_map: torch.Tensor, tiles: Optional[torch.Tensor] = None,
                tile_grid: Optional[tuple[int, int]] = None) -> torch.Tensor:
        """The vision prefix of :meth:`encode_image` from the main view's SAM map `(B, C, h, w)`."""
        nl = self.projector.image_newline if self.cfg.newline_tokens else None
        glob, rows, cols = self._encode_sam_map(sam_map)  # (B, rows*cols, E)
        B, _, E = glob.shape
        parts = []
        if tiles is not None:
            n = tiles.shape[1]
            tr, tc = tile_grid if tile_grid is not None else (1, n)
            if tr * tc != n:
                raise ValueError(f"tile_grid {tile_grid} does not match {n} tiles")
            loc, r, c = self._encode_view(tiles.flatten(0, 1))  # (B*n, r*c, E)
            loc = loc.view(B, tr, tc, r, c, E).permute(0, 1, 3, 2, 4, 5)  # (B, tr, r, tc, c, E)
            loc = loc.reshape(B, tr * r * tc * c, E)  # (B, tr*r*tc*c, E) row-major big grid
            parts.append(add_newlines(loc, tr * r, tc * c, nl))
        parts.append(add_newlines(glob, rows, cols, nl))
        parts.append(self.projector.view_separator.to(glob.dtype).view(1, 1, E).expand(B, 1, E))
        return torch.cat(parts, dim=1)  # (B, P, E)

    def encode_lines(self, pixel_values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Line images -> the vision prefix and the CTC head's reading of the same SAM map.

        Args:
            pixel_values: `(B, 3, H, W)` line images (no tiles).

        Returns:
            `(B, P, E)` as :meth:`encode_image`, and `(W/p, B, V)` CTC log-probabilities.

        Raises:
            ValueError: the model has no CTC head.
        """
        if self.ctc_head is None:
            raise ValueError(f"model {self.cfg.name!r} has no CTC head (config ctc_head: false)")
        self.check_pixels(pixel_values)
        sam_map = self.sam(pixel_values)  # (B, C, H/p, W/p)
        return self._prefix(sam_map), self.ctc_head(sam_map)

    # ------------------------------------------------------------------ training
    def embed(self, input_ids: torch.Tensor, vision: torch.Tensor) -> torch.Tensor:
        """Token embeddings with every ``image_id`` position replaced, in order, by a vision token.

        Args:
            input_ids: `(B, L)`; holds exactly ``vision.numel() / E`` image placeholders.
            vision: `(N, P, E)` vision prefixes of the N images, in row-major order of appearance.
        """
        embeds = self.decoder.get_input_embeddings()(input_ids)  # (B, L, E)
        is_image = input_ids == self.cfg.tokens.image_id  # (B, L)
        n_slots, n_vision = int(is_image.sum()), vision.shape[0] * vision.shape[1]
        if n_slots != n_vision:
            raise ValueError(f"input_ids hold {n_slots} image slots but the images give {n_vision} "
                             f"vision tokens ({vision.shape[0]} x {vision.shape[1]})")
        embeds = embeds.clone()
        embeds[is_image] = vision.reshape(-1, vision.shape[-1]).to(embeds.dtype)
        return embeds

    def target_mask(self, input_ids: torch.Tensor) -> torch.Tensor:
        """`(B, L)` True where a token is a loss target: text and eos, never image/prompt/pad."""
        return ~torch.isin(input_ids, self._non_target.to(input_ids.device))

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor,
                attention_mask: Optional[torch.Tensor] = None, labels: Optional[torch.Tensor] = None,
                segment_ids: Optional[torch.Tensor] = None, tiles: Optional[torch.Tensor] = None,
                tile_grid: Optional[tuple[int, int]] = None) -> DocEncoderOutput:
        """Next-token cross-entropy on target text tokens only.

        Args:
            pixel_values: `(N, 3, H, W)` the N images referenced by the image slots of ``input_ids``.
            input_ids: `(B, L)` = [image slots][prompt][text][eos] per sample, right-padded.
            attention_mask: `(B, L)` 1 for real tokens (ignored when ``segment_ids`` is given).
            labels: optional `(B, L)` targets; ``-100`` excludes a position. Image, prompt and
                padding positions never count, whatever ``labels`` holds there.
            segment_ids: `(B, L)` for packed rows (1..k per sample, 0 padding), see
                :func:`packed_attention`.
        """
        vision = self.encode_image(pixel_values, tiles, tile_grid)  # (N, P, E)
        embeds = self.embed(input_ids, vision)  # (B, L, E)
        position_ids = None
        if segment_ids is not None:
            mask, position_ids = packed_attention(segment_ids)
            real = segment_ids > 0
        else:
            real = attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
            mask = real.long()
        hidden = self.decoder.model(inputs_embeds=embeds, attention_mask=mask,
                                    position_ids=position_ids, use_cache=False).last_hidden_state
        targets = labels if labels is not None else input_ids
        valid = self.target_mask(input_ids) & real & (targets != -100)  # (B, L)
        if segment_ids is not None:  # never predict across a sample boundary
            valid[:, 1:] &= segment_ids[:, 1:] == segment_ids[:, :-1]
        valid = valid[:, 1:]  # (B, L-1): position t predicts token t+1
        logits = self.decoder.lm_head(hidden[:, :-1][valid])  # (n_targets, V)
        tgt = targets[:, 1:][valid]  # (n_targets,)
        loss_sum = F.cross_entropy(logits.float(), tgt, reduction="sum")
        n = valid.sum()
        return DocEncoderOutput(loss=loss_sum / n.clamp(min=1), loss_sum=loss_sum, n_targets=n,
                                logits=logits)

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def generate(self, pixel_values: Optional[torch.Tensor], prompt_ids: Sequence[int],
                 tiles: Optional[torch.Tensor] = None, tile_grid: Optional[tuple[int, int]] = None,
                 max_new_tokens: int = 256, do_sample: bool = False, temperature: float = 1.0,
                 top_k: int = 0, top_p: float = 1.0, no_repeat_ngram: int = 0,
                 repeat_window: int = 90, use_cache: bool = True,
                 vision: Optional[torch.Tensor] = None,
                 vision_pad: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Read the images: greedy by default, sampling optional, with a windowed repetition guard.

        Greedy decoding with the cache runs :func:`~.decoder.greedy_decode` (the same tokens as
        transformers' ``generate``, without its per-step overhead); sampling, or ``use_cache=False``,
        goes through ``generate``.

        Args:
            pixel_values: `(B, 3, H, W)`.
            prompt_ids: task prompt token ids placed after the vision prefix (e.g. ``<|ocr|>``).
            no_repeat_ngram: ban repeating an n-gram of this many tokens within ``repeat_window``
                generated tokens (0 = off).
            vision: a precomputed :meth:`encode_image` prefix `(B, P, E)` instead of the pixels
                (``pixel_values`` is then ignored): on a CPU, encoding runs fastest in small
                batches while decoding gains from large ones.
            vision_pad: `(B,)` leading rows of each ``vision`` row that are padding (zeros), so
                images encoded at different widths (prefix lengths) decode in one batch, each
                row as if alone (None = all rows full length).

        Returns:
            `(B, T)` generated token ids, each row ending at its eos and padded with ``pad_id``.
        """
        if vision is None:
            vision = self.encode_image(pixel_values, tiles, tile_grid)  # (B, P, E)
        B = vision.shape[0]
        prompt = torch.as_tensor(list(prompt_ids), dtype=torch.long, device=vision.device)
        prompt_emb = self.decoder.get_input_embeddings()(prompt).unsqueeze(0).expand(B, -1, -1)
        embeds = torch.cat([vision.to(prompt_emb.dtype), prompt_emb], dim=1)  # (B, P+p, E)
        attn = torch.ones(embeds.shape[:2], dtype=torch.long, device=embeds.device)  # (B, P+p)
        if vision_pad is not None:
            vision_pad = vision_pad.to(embeds.device)
            attn[torch.arange(attn.shape[1], device=embeds.device) < vision_pad.unsqueeze(1)] = 0
        tok = self.cfg.tokens
        processors = LogitsProcessorList()
        if no_repeat_ngram:
            processors.append(WindowedNoRepeatNGram(no_repeat_ngram, max(repeat_window, no_repeat_ngram)))
        if not do_sample and use_cache and self.decoder.config._attn_implementation == "sdpa":
            return greedy_decode(self.decoder, embeds, max_new_tokens, tok.eos_id, tok.pad_id,
                                 processors, left_pad=vision_pad)  # (B, T)
        gen_cfg = GenerationConfig(
            max_new_tokens=max_new_tokens, do_sample=do_sample, use_cache=use_cache,
            temperature=temperature if do_sample else None, top_k=top_k if do_sample else None,
            top_p=top_p if do_sample else None, eos_token_id=tok.eos_id, pad_token_id=tok.pad_id,
            bos_token_id=None)
        out = self.decoder.generate(inputs_embeds=embeds, attention_mask=attn,
                                    generation_config=gen_cfg, logits_processor=processors)
        return out  # (B, T)

    @torch.no_grad()
    def read_joint(self, vision: torch.Tensor, ctc_log_probs: Sequence[torch.Tensor],
                   prompt_ids: Sequence[int], caps: Sequence[int], banned: Sequence[int],
                   cfg: JointConfig, vision_pad: Optional[torch.Tensor] = None) -> list[list[int]]:
        """Read line images by joint CTC/attention beam search (:mod:`.joint_decode`).

        Args:
            vision: `(B, P, E)` vision prefixes (:meth:`encode_lines`), right-aligned after
                ``vision_pad`` zero rows as in :meth:`generate`.
            ctc_log_probs: per image, `(T_b, V)` its CTC columns (:meth:`encode_lines`).
            caps: new tokens each image may generate.
            banned: token ids the search never emits (special tokens; eos is allowed).

        Returns:
            The token ids of each image, eos excluded.
        """
        B = vision.shape[0]
        prompt = torch.as_tensor(list(prompt_ids), dtype=torch.long, device=vision.device)
        prompt_emb = self.decoder.get_input_embeddings()(prompt).unsqueeze(0).expand(B, -1, -1)
        embeds = torch.cat([vision.to(prompt_emb.dtype), prompt_emb], dim=1)  # (B, P+p, E)
        tok = self.cfg.tokens
        return joint_beam_search(self.decoder, embeds, pad_ctc_frames(list(ctc_log_probs), tok.pad_id),
                                 caps, tok.eos_id, tok.pad_id, banned, cfg, left_pad=vision_pad)
