"""LightningDataModule for the line model: a deterministic, resumable stream of line batches.

Batch ``b`` is a pure function of ``(seed, b)``: its samples are drawn from RNGs seeded by the
batch and slot index. So a run resumed from a checkpoint at step ``s`` restarts the stream at
the batch it would have read next (exact resume without saving any iterator state), every DDP rank
reads its own batches (``b = rank + world * j``) and every DataLoader worker its own ``j``.

Sources are mixed per sample: the synthetic renderer (``lines.LineGenerator``) and, when given,
line shards made from real PDFs (``real_lines.ShardLineSource`` via ``docencoder data from-pdfs``).

Dynamic-width models (``geometry.dynamic_width``) get batches of one width each: batch ``b`` first
draws its width (half of them full, the rest any multiple of 32 px), then lines that fill it, so a
narrow batch costs proportionally less — as line ends and short lines do at inference.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator, Optional

import lightning as L
import torch
from PIL import Image
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from docencoder.model.config import get_config

from .collate import Batch, Sample, pad_collate
from .corpus import load_corpus
from .lines import LineGenerator, LineGeneratorConfig, to_tensor
from .packing import pack_collate
from .tokenizer import DocTokenizer, load_tokenizer

#: draws one (image, text) pair ``height x width`` from an RNG; ``width`` in pixels
LineSource = Callable[[random.Random, int], tuple[Image.Image, str]]
#: the batch width (pixels) of batch b, from an RNG seeded by the batch
WidthSampler = Callable[[random.Random], int]


def full_width(width: int) -> WidthSampler:
    """Every batch at the geometry's full width (fixed-width models)."""
    return lambda rng: width


def mixed_widths(width: int, unit: int, full_prob: float = 0.5, min_width: int = 64) -> WidthSampler:
    """Half the batches full width, the rest uniform over the multiples of ``unit`` below it.

    Pieces at inference are mostly full (long lines are split to fill 512 px) plus one shorter
    piece per line end; measured on dev pages they fill 59 % of the width on average.
    """
    narrow = list(range(max(unit, min_width), width, unit))
    return lambda rng: width if not narrow or rng.random() < full_prob else rng.choice(narrow)


class LineBatchStream(IterableDataset):
    """Collated batches ``b = rank + world * (start + j)`` for ``j = 0, 1, ...`` (or ``num_batches``).

    Args:
        prefix_len: decoder positions of one image's vision prefix, as a function of its width.
        widths: the pixel width of each batch (see :func:`mixed_widths`); None = ``full``.
    """

    def __init__(self, source: LineSource, tokenizer: DocTokenizer, batch_size: int, seed: int,
                 prefix_len: Callable[[int], int], max_text_tokens: int, start: int = 0,
                 rank: int = 0, world: int = 1, num_batches: Optional[int] = None,
                 pack_to: Optional[int] = None, widths: Optional[WidthSampler] = None,
                 full: int = 512) -> None:
        super().__init__()
        self.pack_to = pack_to
        self.source, self.tok = source, tokenizer
        self.batch_size, self.seed = batch_size, seed
        self.prefix_len, self.max_text_tokens = prefix_len, max_text_tokens
        self.start, self.rank, self.world, self.num_batches = start, rank, world, num_batches
        self.widths = widths or full_width(full)

    def batch(self, b: int) -> Batch:
        width = self.widths(random.Random(f"{self.seed}/{b}/width"))
        samples = []
        for k in range(self.batch_size):
            rng = random.Random(f"{self.seed}/{b}/{k}")
            img, text = self.source(rng, width)
            samples.append(Sample(image=to_tensor([img])[0], text=text, ids=self.tok.encode(text)))
        args = (samples, self.prefix_len(width), self.tok.prompt_ids("ocr"), self.tok.token_config(),
                self.max_text_tokens)
        if self.pack_to:
            return pack_collate(*args, max_seq_len=self.pack_to)
        return pad_collate(*args)

    def __iter__(self) -> Iterator[Batch]:
        info = get_worker_info()
        w, W = (info.id, info.num_workers) if info is not None else (0, 1)
        j = w
        while self.num_batches is None or j < self.num_batches:
            yield self.batch(self.rank + self.world * (self.start + j))
            j += W

    def __len__(self) -> int:
        if self.num_batches is None:
            raise TypeError("infinite stream")
        return self.num_batches


class LineDataModule(L.LightningDataModule):
    """Synthetic (+ optional real-PDF shard) text lines for the line geometry.

    Args:
        config: model config name (linked from the model by the CLI) — gives geometry and prefix.
        tokenizer_path: tokenizer.json (default: the shipped one); the model reads the same file.
        batch_size: lines per optimisation micro-batch.
        num_workers: DataLoader worker processes rendering lines (0 = in the training process).
        seed: data seed; with the step count it fixes every sample.
        val_batches: fixed validation batches (drawn from a disjoint seed).
        max_text_tokens: cap on target tokens per line.
        degrade_prob: fraction of synthetic (and real) lines with scan degradations.
        synthetic_prob: fraction of non-prose snippets (numbers, equations, references).
        random_text_prob: fraction of synthetic non-code lines of unpredictable text (random
            rare words, names, identifiers, addresses; :mod:`docencoder.data.vocab`), read only
            from the pixels: the cure for a decoder that guesses familiar words.
        scan_degrade_share: share of the degraded lines (synthetic and real) that get every
            effect of a page scan at once (:func:`docencoder.data.degrade.scan_like`: faded ink,
            blur, noise and JPEG together, as on each line of a scanned page) instead of a random
            subset; the held-out real lines keep the old degradations, so ``val_real/*`` stays
            comparable across legs.
        grey_text_prob: fraction of synthetic lines drawn in grey ink, whole or a run of words
            (grey hyperlinks and tinted terms beside black text).
        monospace_weight: share of synthetic lines set in a typewriter face (code, program
            output, typewriter prose); None = the generator's default (KIND_WEIGHTS).
        shard_dirs: directories of shards (``docencoder data from-pdfs`` / ``data synth-pdf``).
        shard_weight: fraction of line samples drawn from the shards (0 = synthetic only).
        real_val_fraction: share of shard *documents* held out of training; their lines form a
            second validation set (``val_real/*``: reading on documents never trained on).
        val_real_batches: batches of that second validation set (0 = none).
        batch_offset: batches to skip at the start of the stream. A run warm-started from a
            model (``--model.init_from``) instead of resumed from a checkpoint sets it to the
            batches its parent consumed, so it reads new samples instead of repeating them.
        pack_to: pack several samples per row up to this many tokens (e.g. 4096), each sample
            attending only to itself; None = one sample per row, right-padded.
        kind: ``line`` (line crops for the line geometry) or ``page`` (whole pages fitted to a
            page geometry, for the DeepSeek-OCR stage recipes).
    """

    def __init__(self, config: str = "line", tokenizer_path: Optional[str] = None,
                 batch_size: int = 32, num_workers: int = 1, seed: int = 0, val_batches: int = 8,
                 max_text_tokens: int = 64, degrade_prob: float = 0.35,
                 synthetic_prob: float = 0.15, monospace_weight: Optional[float] = None,
                 random_text_prob: float = 0.3, scan_degrade_share: float = 0.0,
                 grey_text_prob: float = 0.0,
                 shard_dirs: Optional[list[str]] = None,
                 shard_weight: float = 0.0, real_val_fraction: float = 0.1,
                 val_real_batches: int = 0, batch_offset: int = 0, kind: str = "line",
                 pack_to: Optional[int] = None) -> None:
        super().__init__()
        if kind not in ("line", "page"):
            raise ValueError(f"kind must be 'line' or 'page', got {kind!r}")
        self.save_hyperparameters()
        self.model_cfg = get_config(config)
        self.tokenizer = load_tokenizer(tokenizer_path)
        self._source: Optional[LineSource] = None
        self._val_real: Optional[LineSource] = None

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    def _make_sources(self) -> tuple[LineSource, Optional[LineSource]]:
        """The training mix and, with shards and ``val_real_batches``, the held-out real lines."""
        hp = self.hparams
        g = self.model_cfg.geometry
        if hp.kind == "page":
            from .pages import PageSource
            pages = PageSource(g.height, g.width, hp.shard_dirs or (), load_corpus())
            return (lambda rng, width: pages.sample(rng)), None
        gen = LineGenerator(load_corpus(), LineGeneratorConfig(
            height=g.height, width=g.width, degrade_prob=hp.degrade_prob,
            synthetic_prob=hp.synthetic_prob, monospace_weight=hp.monospace_weight,
            random_prob=hp.random_text_prob, scan_share=hp.scan_degrade_share,
            grey_prob=hp.grey_text_prob))
        if not hp.shard_dirs or hp.shard_weight <= 0:
            return gen.sample, None
        from .real_lines import ShardLineSource  # real-PDF lines, only when asked for
        real = ShardLineSource(hp.shard_dirs, height=g.height, width=g.width, split="train",
                               val_fraction=hp.real_val_fraction, degrade_prob=hp.degrade_prob,
                               scan_share=hp.scan_degrade_share)
        held_out = None
        if hp.val_real_batches > 0 and hp.real_val_fraction > 0:
            held_out = ShardLineSource(hp.shard_dirs, height=g.height, width=g.width, split="val",
                                       val_fraction=hp.real_val_fraction,
                                       degrade_prob=hp.degrade_prob).sample
        weight = hp.shard_weight

        def mix(rng: random.Random, width: int) -> tuple[Image.Image, str]:
            return real.sample(rng, width) if rng.random() < weight else gen.sample(rng, width)
        return mix, held_out

    def _widths(self) -> WidthSampler:
        g = self.model_cfg.geometry
        if g.dynamic_width and self.hparams.kind == "line":
            return mixed_widths(g.width, self.model_cfg.width_unit)
        return full_width(g.width)

    def _stream(self, seed: int, start: int, num_batches: Optional[int], rank: int, world: int,
                source: Optional[LineSource] = None) -> LineBatchStream:
        if self._source is None:
            self._source, self._val_real = self._make_sources()
        cfg = self.model_cfg
        return LineBatchStream(source or self._source, self.tokenizer, self.hparams.batch_size,
                               seed, lambda w: cfg.prefix_length(width=w),
                               self.hparams.max_text_tokens, start=start, rank=rank, world=world,
                               num_batches=num_batches, pack_to=self.hparams.pack_to,
                               widths=self._widths(), full=cfg.geometry.width)

    def _rank_world(self) -> tuple[int, int]:
        t = self.trainer
        return (t.global_rank, t.world_size) if t is not None else (0, 1)

    def train_dataloader(self) -> DataLoader:
        t = self.trainer
        # Batches already consumed by this rank: resume the stream exactly where it stopped.
        start = t.global_step * t.accumulate_grad_batches if t is not None else 0
        rank, world = self._rank_world()
        stream = self._stream(self.hparams.seed, self.hparams.batch_offset + start, None, rank, world)
        return self._loader(stream)

    def val_dataloader(self) -> DataLoader | list[DataLoader]:
        """The held-out mix (``val/*``) and, when configured, held-out real documents (``val_real/*``)."""
        rank, world = self._rank_world()
        workers = min(self.hparams.num_workers, 1)
        stream = self._stream(self.hparams.seed + 1_000_003, 0,
                              max(1, self.hparams.val_batches // world), rank, world)
        loaders = [self._loader(stream, workers=workers)]
        if self._val_real is not None:
            real = self._stream(self.hparams.seed + 2_000_003, 0,
                                max(1, self.hparams.val_real_batches // world), rank, world,
                                source=self._val_real)
            loaders.append(self._loader(real, workers=workers))
        return loaders[0] if len(loaders) == 1 else loaders

    def _loader(self, stream: LineBatchStream, workers: Optional[int] = None) -> DataLoader:
        n = self.hparams.num_workers if workers is None else workers
        return DataLoader(stream, batch_size=None, num_workers=n, persistent_workers=False,
                          prefetch_factor=4 if n else None)

    def transfer_batch_to_device(self, batch: Batch, device: torch.device, dataloader_idx: int) -> Batch:
        for name in ("pixel_values", "input_ids", "attention_mask", "segment_ids"):
            value = getattr(batch, name)
            if value is not None:
                setattr(batch, name, value.to(device))
        return batch
