"""Export a Lightning checkpoint to the plain model directory the OCR pipeline loads.

The result holds ``model.safetensors`` + ``config.json`` + ``tokenizer.json`` and no Lightning or
optimizer state, so inference never imports Lightning and the files stay small.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

from docencoder.data.tokenizer import DEFAULT_TOKENIZER
from docencoder.model.weights import save_pretrained

from .module import DocEncoderModule


def export_checkpoint(ckpt: str | Path, out_dir: str | Path, half: bool = False) -> Path:
    """Write the model of a ``.ckpt`` (weights + config + tokenizer) to ``out_dir``.

    ``half`` stores the weights as float16 (half the size; they load back into float32).
    """
    module = DocEncoderModule.load_from_checkpoint(str(ckpt), map_location="cpu")
    model = module.model.float().eval()
    out = save_pretrained(model, out_dir, dtype=torch.float16 if half else None)
    tok = module.hparams.get("tokenizer_path") or DEFAULT_TOKENIZER
    if Path(tok).resolve() != (out / "tokenizer.json").resolve():
        shutil.copyfile(tok, out / "tokenizer.json")
    return out


def checkpoint_step(ckpt: str | Path) -> int:
    """The optimisation step a checkpoint was saved at."""
    return int(torch.load(str(ckpt), map_location="cpu", weights_only=False)["global_step"])
