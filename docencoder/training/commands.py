"""CLI subcommands of the training layer: ``export``, ``bench model``, ``bench train``."""

from __future__ import annotations

import argparse


def _export(args: argparse.Namespace) -> int:
    from .export import export_checkpoint
    out = export_checkpoint(args.checkpoint, args.output, half=args.half)
    print(f"exported {args.checkpoint} -> {out}")
    return 0


def _bench_model(args: argparse.Namespace) -> int:
    from docencoder.model import config_names

    from .bench import bench_models, bench_training_on_paper
    names = args.configs or config_names()
    bench_models(names, batch=args.batch_size)
    bench_training_on_paper(names)
    return 0


def _bench_train(args: argparse.Namespace) -> int:
    from .train_bench import bench_training
    bench_training(args.config, args.batch_size, args.steps)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a training checkpoint to a model directory")
    p.add_argument("checkpoint", help="Lightning .ckpt file")
    p.add_argument("-o", "--output", default=None,
                   help="output model directory (default: exports/<run>-step<N>, which git ignores)")
    p.add_argument("--half", action="store_true", help="store weights as float16 (half the size)")
    p.set_defaults(func=_export)


def register_bench(bench: argparse._SubParsersAction) -> None:
    p = bench.add_parser("model", help="parameters, FLOPs, samples/s and MFU per model config")
    p.add_argument("configs", nargs="*", help="config names (default: all)")
    p.add_argument("--batch-size", type=int, default=8)
    p.set_defaults(func=_bench_model)
    p = bench.add_parser("train", help="real training steps on line batches: tokens/s, samples/s, MFU")
    p.add_argument("--config", default="line")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--steps", type=int, default=5)
    p.set_defaults(func=_bench_train)
