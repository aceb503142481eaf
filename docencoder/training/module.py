"""The LightningModule: optimisation recipe and reading metrics around :class:`DocEncoder`.

Recipe (DeepSeek-OCR, Sec. 4): AdamW with decay / no-decay groups, linear warmup then cosine decay,
per-part learning-rate multipliers and freeze flags (stage 2 freezes SAM + compressor). Validation
measures *reading* — greedy generation scored by CER, WER and normalised edit distance — because
loss alone hides the long language-model plateau a small OCR model goes through.
"""

from __future__ import annotations

import math
from typing import Optional

import lightning as L
import torch
from rapidfuzz.distance import Levenshtein
from torchmetrics import MeanMetric
from torchmetrics.text import CharErrorRate, WordErrorRate

from docencoder.data.collate import Batch
from docencoder.data.tokenizer import load_tokenizer
from docencoder.model.config import get_config
from docencoder.model.docencoder import DocEncoder
from docencoder.model.weights import load_part_weights, load_pretrained

from .ctc import ctc_loss, ctc_targets

PARTS = ("sam", "compressor", "clip", "projector", "decoder")
#: metric prefix of each validation loader (the data module's order)
VAL_PREFIXES = ("val", "val_real")


def copy_parts(src: DocEncoder, dst: DocEncoder, parts: list[str]) -> None:
    """Copy the weights of some parts from one model into another (strict: shapes must match).

    Raises:
        ValueError: an unknown part, or a part whose parameters differ in name or shape.
    """
    for part in parts:
        if part not in PARTS:
            raise ValueError(f"cannot copy {part!r}; parts are {PARTS}")
        a, b = getattr(src, part).state_dict(), getattr(dst, part).state_dict()
        bad = sorted(k for k in set(a) | set(b) if k not in a or k not in b or a[k].shape != b[k].shape)
        if bad:
            raise ValueError(f"part {part!r} does not match between the models: {bad[:5]}")
        getattr(dst, part).load_state_dict(a, strict=True)


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float) -> float:
    """LR multiplier: linear 0 -> 1 over ``warmup`` steps, cosine 1 -> ``min_ratio`` until ``total``."""
    if step < warmup:
        return (step + 1) / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


def lr_factor(step: int, warmup: int, total: int, min_ratio: float, offset: int = 0) -> float:
    """The schedule of a run: :func:`warmup_cosine`, or for a warm start at step ``offset`` of
    its parent (fresh optimizer moments) a linear re-warm-up over ``warmup`` steps to the
    parent's cosine at ``step + offset``."""
    if not offset:
        return warmup_cosine(step, warmup, total, min_ratio)
    return warmup_cosine(step + offset, 0, total, min_ratio) * min(1.0, (step + 1) / max(1, warmup))


class DocEncoderModule(L.LightningModule):
    """Trains a DocEncoder.

    Args:
        config: registered model config name (``docencoder.model.config_names()``).
        tokenizer_path: tokenizer.json; linked from the data module by the CLI, so the vocabulary
            and special-token ids always match the data.
        lr: peak learning rate; weight_decay, betas: AdamW.
        warmup_steps: linear warmup; then cosine to ``min_lr_ratio * lr`` at ``trainer.max_steps``.
        lr_mult: per-part multipliers, e.g. ``{"decoder": 0.5}``.
        freeze: parts whose weights stay fixed, e.g. ``["sam", "compressor"]`` (stage 2).
        gradient_checkpointing: recompute activations in backward (memory for compute).
        init_from: a docencoder model directory (safetensors + config) to start from (fine-tuning).
        init_parts: with ``init_from``, build ``config`` fresh and take only these parts from it
            (e.g. ``[compressor, clip, projector, decoder]`` when the SAM stage changed shape).
        schedule_offset: steps added to the learning-rate schedule's step. A run warm-started
            from a model exported at step S (``init_from``, fresh optimizer) continues the cosine
            from S with ``schedule_offset: S`` and ``trainer.max_steps`` = the steps still to go
            (the schedule spans S + max_steps); ``warmup_steps`` then re-warms the new moments.
        sam_weights / clip_weights / decoder_weights: local pretrained parts (timm SAM,
            open_clip ViT, transformers causal LM), loaded through strict key maps.
        val_generate_batches: validation batches that are also read by greedy generation.
        max_new_tokens: generation cap during validation.
        ctc_weight: weight of an auxiliary CTC loss read off the SAM map by the model's CTC
            head (see :mod:`docencoder.training.ctc`; a model without one gets a fresh head);
            0 = off. Line batches only (one image per row, no packing). The head is part of the
            model, so exports carry it and the line reader decodes with it.
    """

    def __init__(self, config: str = "line", tokenizer_path: Optional[str] = None, lr: float = 1e-3,
                 weight_decay: float = 0.05, betas: tuple[float, float] = (0.9, 0.98),
                 warmup_steps: int = 500, min_lr_ratio: float = 0.05,
                 lr_mult: Optional[dict[str, float]] = None, freeze: Optional[list[str]] = None,
                 gradient_checkpointing: bool = False, init_from: Optional[str] = None,
                 init_parts: Optional[list[str]] = None, schedule_offset: int = 0,
                 sam_weights: Optional[str] = None, clip_weights: Optional[str] = None,
                 decoder_weights: Optional[str] = None, val_generate_batches: int = 2,
                 max_new_tokens: int = 48, ctc_weight: float = 0.0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.tokenizer = load_tokenizer(tokenizer_path)
        if init_from and not init_parts:
            self.model = load_pretrained(init_from).train()
        else:
            cfg = get_config(config, vocab_size=self.tokenizer.vocab_size,
                             tokens=self.tokenizer.token_config())
            self.model = DocEncoder(cfg)
            if init_parts:
                if not init_from:
                    raise ValueError("init_parts needs init_from (the model to take them from)")
                copy_parts(load_pretrained(init_from), self.model, init_parts)
        for part, path in (("sam", sam_weights), ("clip", clip_weights), ("decoder", decoder_weights)):
            if path:
                load_part_weights(self.model, part, path)
        for part in freeze or []:
            if part not in PARTS:
                raise ValueError(f"cannot freeze {part!r}; parts are {PARTS}")
            getattr(self.model, part).requires_grad_(False)
        if gradient_checkpointing:
            self.model.set_gradient_checkpointing(True)
        self._sam_map: Optional[torch.Tensor] = None
        if ctc_weight > 0:
            self.model.add_ctc_head()
            self.model.sam.register_forward_hook(self._keep_sam_map)
        # one set of reading metrics per validation loader: val/* (held-out mix), val_real/*
        self.val_metrics = torch.nn.ModuleList(
            torch.nn.ModuleDict({"cer": CharErrorRate(), "wer": WordErrorRate(), "ned": MeanMetric()})
            for _ in VAL_PREFIXES)

    # ---------------------------------------------------------------- steps
    def _keep_sam_map(self, module, inputs, output: torch.Tensor) -> None:
        if self.training:
            self._sam_map = output  # (N, C, rows, W/patch), read by the CTC head in this step

    def _step(self, batch: Batch, stage: str) -> torch.Tensor:
        out = self.model(**batch.model_inputs())
        self.log(f"{stage}/loss", out.loss, prog_bar=True, batch_size=len(batch),
                 sync_dist=stage != "train")
        loss = out.loss
        if self.hparams.ctc_weight > 0 and stage == "train":
            aux = self._ctc(batch)
            self.log("train/ctc", aux, batch_size=len(batch))
            loss = loss + self.hparams.ctc_weight * aux
        return loss

    def _ctc(self, batch: Batch) -> torch.Tensor:
        """The auxiliary CTC loss of a training batch (its SAM map was kept by the hook)."""
        sam_map, self._sam_map = self._sam_map, None
        if (batch.segment_ids is not None or sam_map is None
                or sam_map.shape[0] != batch.input_ids.shape[0]):
            raise ValueError("ctc_weight needs line batches: one image per row, no packing")
        ids = batch.input_ids
        text = (self.model.target_mask(ids) & batch.attention_mask.bool()
                & (ids != self.model.cfg.tokens.eos_id))  # (B, L) text tokens only
        targets, lengths = ctc_targets(ids, text)
        return ctc_loss(self.model.ctc_head(sam_map), targets, lengths, blank=self.model.cfg.tokens.pad_id)

    def training_step(self, batch: Batch, batch_idx: int) -> torch.Tensor:
        loss = self._step(batch, "train")
        self.log("lr", self.optimizers().param_groups[0]["lr"], prog_bar=True, batch_size=len(batch))
        return loss

    def validation_step(self, batch: Batch, batch_idx: int, dataloader_idx: int = 0) -> None:
        prefix = VAL_PREFIXES[dataloader_idx]
        out = self.model(**batch.model_inputs())
        self.log(f"{prefix}/loss", out.loss, prog_bar=prefix == "val", batch_size=len(batch),
                 sync_dist=True, add_dataloader_idx=False)
        if batch_idx < self.hparams.val_generate_batches:
            preds = self.read(batch.pixel_values)
            m = self.val_metrics[dataloader_idx]
            m["cer"].update(preds, batch.texts)
            m["wer"].update(preds, batch.texts)
            for p, t in zip(preds, batch.texts):
                m["ned"].update(Levenshtein.normalized_distance(p, t))
            if batch_idx == 0:
                self.print(f"[step {self.global_step}] {prefix} read: {preds[0]!r} | truth: {batch.texts[0]!r}")

    def on_validation_epoch_end(self) -> None:
        for prefix, m in zip(VAL_PREFIXES, self.val_metrics):
            loss = self.trainer.callback_metrics.get(f"{prefix}/loss")
            if loss is not None:
                self.log(f"{prefix}/perplexity", torch.exp(loss.detach().float()), sync_dist=True)
            if m["cer"].update_count:  # type: ignore[attr-defined]
                self.log_dict({f"{prefix}/cer": m["cer"].compute(), f"{prefix}/wer": m["wer"].compute(),
                               f"{prefix}/ned": m["ned"].compute()}, prog_bar=prefix == "val",
                              sync_dist=True)
            for metric in m.values():
                metric.reset()

    def test_step(self, batch: Batch, batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: Batch, batch_idx: int) -> list[str]:
        return self.read(batch.pixel_values)

    @torch.no_grad()
    def read(self, pixel_values: torch.Tensor) -> list[str]:
        ids = self.model.generate(pixel_values, self.tokenizer.prompt_ids("ocr"),
                                  max_new_tokens=self.hparams.max_new_tokens)
        return [self.tokenizer.decode(row) for row in ids.tolist()]

    # ---------------------------------------------------------------- optimisation
    def param_groups(self) -> list[dict]:
        """AdamW groups: per part, decayed (matrices) and not decayed (norms, biases, embeddings)."""
        mult = self.hparams.lr_mult or {}
        unknown = set(mult) - set(PARTS)
        if unknown:
            raise ValueError(f"lr_mult has unknown parts {sorted(unknown)}; parts are {PARTS}")
        groups = []
        for part in PARTS:
            decay, no_decay = [], []
            for name, p in getattr(self.model, part).named_parameters():
                if not p.requires_grad:
                    continue
                is_embedding = "embed" in name or name.endswith(("image_newline", "view_separator"))
                (no_decay if p.ndim < 2 or is_embedding else decay).append(p)
            lr = self.hparams.lr * mult.get(part, 1.0)
            if decay:
                groups.append({"params": decay, "weight_decay": self.hparams.weight_decay, "lr": lr,
                               "name": f"{part}.decay"})
            if no_decay:
                groups.append({"params": no_decay, "weight_decay": 0.0, "lr": lr,
                               "name": f"{part}.no_decay"})
        head = self.model.ctc_head
        if head is not None and any(p.requires_grad for p in head.parameters()):
            groups.append({"params": [p for p in head.parameters() if p.requires_grad],
                           "weight_decay": 0.0, "lr": self.hparams.lr, "name": "ctc_head"})
        return groups

    def configure_optimizers(self):
        opt = torch.optim.AdamW(self.param_groups(), lr=self.hparams.lr,
                                betas=tuple(self.hparams.betas))
        # a warm-started continuation runs the parent's remaining steps: the schedule spans both
        total = self.hparams.schedule_offset + (self.trainer.max_steps if self.trainer.max_steps > 0
                                                else int(self.trainer.estimated_stepping_batches))
        hp = self.hparams
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(
            s, hp.warmup_steps, total, hp.min_lr_ratio, hp.schedule_offset))
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
