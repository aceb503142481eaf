"""Model and training benchmarks that print figures (never timed tests).

For each config: parameters per part, vision tokens, FLOPs per sample (counted by
``torch.utils.flop_counter``), measured forward and forward+backward samples/s on this CPU in fp32,
and the fraction of the measured fp32 matmul peak they reach (MFU). GPU figures are computed on
paper from the FLOPs, with the assumptions printed beside them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Sequence

import torch
from torch.utils.flop_counter import FlopCounterMode

from docencoder.model import DocEncoder, get_config
from docencoder.model.config import ModelConfig

PARTS = ("sam", "compressor", "clip", "projector", "decoder")
#: text tokens per sample assumed for each kind of geometry (a line vs. a dense page)
LINE_TEXT_TOKENS, PAGE_TEXT_TOKENS = 24, 1000
#: on-paper GPU assumptions: dense bf16 peak (FLOP/s) and an achievable MFU
GPUS = {"A100-80GB": 312e12, "H100-SXM": 989e12}
GPU_MFU = 0.4


def peak_matmul_flops(n: int = 1024, reps: int = 8) -> float:
    """Measured fp32 matmul FLOP/s of this machine with the current torch thread count."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b  # warm-up
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t)


def example_inputs(cfg: ModelConfig, batch: int, device: str = "cpu") -> dict:
    text = LINE_TEXT_TOKENS if cfg.geometry.kind == "line" else PAGE_TEXT_TOKENS
    tiles, grid = None, None
    if cfg.geometry.tile_size:
        t = cfg.geometry.tile_size
        grid = (2, 2)
        tiles = torch.zeros(batch, 4, 3, t, t, device=device)
    P = cfg.prefix_length(grid or (0, 0))
    ids = torch.full((batch, P + 1 + text + 1), 100, dtype=torch.long, device=device)
    ids[:, :P] = cfg.tokens.image_id
    return {"pixel_values": torch.zeros(batch, 3, cfg.geometry.height, cfg.geometry.width, device=device),
            "input_ids": ids, "tiles": tiles, "tile_grid": grid}


def count_flops(model: DocEncoder, inputs: dict, backward: bool) -> int:
    """FLOPs of one forward (and backward). On the meta device, where data-dependent indexing is
    impossible, the forward is counted stage by stage: vision encoder, then the decoder over the
    whole sequence and the LM head over the text positions."""
    with FlopCounterMode(display=False) as counter:
        if inputs["pixel_values"].device.type == "meta":
            vision = model.encode_image(inputs["pixel_values"], inputs["tiles"], inputs["tile_grid"])
            B, L = inputs["input_ids"].shape
            embeds = torch.zeros(B, L, vision.shape[-1], device="meta")
            causal = torch.ones(B, 1, L, L, dtype=torch.bool, device="meta").tril()
            hidden = model.decoder.model(inputs_embeds=embeds, attention_mask=causal,
                                         use_cache=False).last_hidden_state
            model.decoder.lm_head(hidden[:, vision.shape[1]:])
        else:
            out = model(**inputs)
            if backward:
                out.loss.backward()
    return counter.get_total_flops()


@dataclass
class ModelFigures:
    name: str
    params: dict[str, int]
    vision_tokens: int
    seq_len: int
    flops_fwd: float  # per sample
    flops_train: float  # forward + backward per sample
    fwd_per_s: Optional[float] = None
    train_per_s: Optional[float] = None


def measure(name: str, batch: int, timed: bool, reps: int = 2) -> ModelFigures:
    cfg = get_config(name)
    device = "meta" if not timed else "cpu"
    with torch.device(device):
        model = DocEncoder(cfg)
    inputs = example_inputs(cfg, 1, device)
    params = {p: sum(x.numel() for x in getattr(model, p).parameters()) for p in PARTS}
    f_fwd = count_flops(model, inputs, backward=False)
    f_train = count_flops(model, inputs, backward=True) if timed else 3 * f_fwd
    fig = ModelFigures(name, params, cfg.vision_tokens(4 if cfg.geometry.tile_size else 0),
                       inputs["input_ids"].shape[1], f_fwd, f_train)
    if timed:
        inputs = example_inputs(cfg, batch)
        model.zero_grad(set_to_none=True)
        with torch.no_grad():
            model(**inputs)
            t = time.perf_counter()
            for _ in range(reps):
                model(**inputs)
            fig.fwd_per_s = batch * reps / (time.perf_counter() - t)
        model(**inputs).loss.backward()
        t = time.perf_counter()
        for _ in range(reps):
            model(**inputs).loss.backward()
        fig.train_per_s = batch * reps / (time.perf_counter() - t)
    return fig


def bench_models(names: Sequence[str], batch: int = 8, timed_limit_gflops: float = 400.0) -> None:
    """Print the table; configs whose training FLOPs per batch exceed the limit are FLOPs-only."""
    torch.manual_seed(0)
    peak = peak_matmul_flops()
    print(f"measured fp32 matmul peak: {peak / 1e9:.0f} GFLOP/s with {torch.get_num_threads()} threads\n")
    head = (f"{'config':<15}{'params (M) sam/comp/clip/proj/dec':<38}{'vis tok':>8}{'seq':>6}"
            f"{'GFLOP fwd':>11}{'fwd/s':>9}{'MFU':>6}{'train/s':>9}{'MFU':>6}")
    print(head)
    print("-" * len(head))
    for name in names:
        est = measure(name, batch, timed=False)
        timed = est.flops_train * batch / 1e9 <= timed_limit_gflops and name != "deepseek-scale"
        fig = measure(name, batch, timed=True) if timed else est
        p = "/".join(f"{fig.params[k] / 1e6:.1f}" for k in PARTS)
        fwd = f"{fig.fwd_per_s:9.1f}{fig.fwd_per_s * fig.flops_fwd / peak:6.0%}" if fig.fwd_per_s else f"{'-':>9}{'-':>6}"
        trn = f"{fig.train_per_s:9.2f}{fig.train_per_s * fig.flops_train / peak:6.0%}" if fig.train_per_s else f"{'-':>9}{'-':>6}"
        print(f"{name:<15}{p:<38}{fig.vision_tokens:>8}{fig.seq_len:>6}{fig.flops_fwd / 1e9:>11.2f}{fwd}{trn}")
    print(f"\nbatch {batch}; text tokens per sample: {LINE_TEXT_TOKENS} (line) / {PAGE_TEXT_TOKENS} (page);"
          f" gundam with 2x2 tiles; '-' = too large to time here (FLOPs counted on the meta device)")


def bench_training_on_paper(names: Sequence[str]) -> None:
    """GPU training throughput computed from FLOPs per sample under stated assumptions."""
    print(f"\nOn paper (bf16, MFU {GPU_MFU:.0%}, training FLOPs = 3 x forward):")
    print(f"{'config':<15}{'GFLOP/sample':>14}" + "".join(f"{g + ' samples/s':>24}" for g in GPUS))
    for name in names:
        fig = measure(name, 1, timed=False)
        row = "".join(f"{peak * GPU_MFU / fig.flops_train:>24.1f}" for peak in GPUS.values())
        print(f"{name:<15}{fig.flops_train / 1e9:>14.1f}{row}")
