"""Training throughput on real line batches: the optimizer step the CPU recipe actually runs."""

from __future__ import annotations

import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from docencoder.data.corpus import load_corpus
from docencoder.data.datamodule import LineBatchStream, mixed_widths
from docencoder.data.lines import LineGenerator, LineGeneratorConfig
from docencoder.data.tokenizer import load_tokenizer
from docencoder.model import DocEncoder, get_config

from .bench import peak_matmul_flops


def bench_training(config: str, batch_size: int, steps: int) -> None:
    torch.manual_seed(0)
    tok = load_tokenizer()
    cfg = get_config(config, vocab_size=tok.vocab_size, tokens=tok.token_config())
    model = DocEncoder(cfg)
    g = cfg.geometry
    gen = LineGenerator(load_corpus(), LineGeneratorConfig(height=g.height, width=g.width))
    widths = mixed_widths(g.width, cfg.width_unit) if g.dynamic_width else None
    stream = LineBatchStream(gen.sample, tok, batch_size, 0, lambda w: cfg.prefix_length(width=w), 48,
                             widths=widths, full=g.width)
    t = time.perf_counter()
    batches = [stream.batch(b) for b in range(steps + 1)]
    data_s = (time.perf_counter() - t) / len(batches)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    # FLOPs of every timed batch (dynamic-width batches differ), counted in a separate pass
    flops = 0
    for b in batches:
        with FlopCounterMode(display=False) as fc:
            model(**b.model_inputs()).loss.backward()
        flops += fc.get_total_flops() if b is not batches[0] else 0
    flops /= steps
    opt.zero_grad()
    t = time.perf_counter()
    tokens = 0
    for b in batches[1:]:
        out = model(**b.model_inputs())
        out.loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        tokens += int(b.attention_mask.sum())
    dt = (time.perf_counter() - t) / steps
    peak = peak_matmul_flops()
    mean_w = sum(b.pixel_values.shape[-1] for b in batches[1:]) / steps
    print(f"config {config}, batch {batch_size}, {torch.get_num_threads()} threads, fp32, "
          f"mean batch width {mean_w:.0f} px")
    print(f"  step: {dt:.3f} s   samples/s: {batch_size / dt:.1f}   tokens/s (vision+text): {tokens / steps / dt:.0f}")
    print(f"  FLOPs/step: {flops / 1e9:.1f} GFLOP   achieved {flops / dt / 1e9:.0f} GFLOP/s"
          f" = MFU {flops / dt / peak:.0%} of the measured {peak / 1e9:.0f} GFLOP/s fp32 matmul peak")
    print(f"  data: {data_s:.3f} s to render a batch in one process ({batch_size / data_s:.0f} lines/s)")
