"""Export a Lightning checkpoint to the plain model directory the OCR pipeline loads.

The result holds ``model.safetensors`` + ``config.json`` + ``tokenizer.json`` and no Lightning or
optimizer state, so inference never imports Lightning and the files stay small.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import torch

from docencoder.data.tokenizer import DEFAULT_TOKENIZER
from docencoder.model.weights import save_pretrained

from .module import DocEncoderModule

#: where ``docencoder export`` writes without ``-o`` (relative to the current directory; the
#: repository's .gitignore ignores it, so an export in the work tree is never taken for source)
EXPORTS_DIR = Path("exports")


def default_export_dir(ckpt: str | Path, step: int) -> Path:
    """``exports/<run>-step<step>``: the run is the folder above ``checkpoints/`` (``line_cpu`` for
    ``runs/line_cpu/checkpoints/last.ckpt``), else the checkpoint's own name; ``step`` counts the
    warm-start parents' steps (``training_state``), as the shipped model's ``training.json`` does."""
    ckpt = Path(ckpt).resolve()
    run = ckpt.parent.parent.name if ckpt.parent.name == "checkpoints" else ckpt.stem
    return EXPORTS_DIR / f"{run}-step{step}"


def export_checkpoint(ckpt: str | Path, out_dir: str | Path | None = None, half: bool = False) -> Path:
    """Write the model of a ``.ckpt`` (weights + config + tokenizer) to ``out_dir``.

    ``out_dir`` defaults to ``default_export_dir`` (``exports/<run>-step<N>``). ``half`` stores the
    weights as float16 (half the size; they load back into float32).
    """
    state = training_state(ckpt)
    if out_dir is None:
        out_dir = default_export_dir(ckpt, state["step"])
    module = DocEncoderModule.load_from_checkpoint(str(ckpt), map_location="cpu")
    model = module.model.float().eval()
    out = save_pretrained(model, out_dir, dtype=torch.float16 if half else None)
    tok = module.hparams.get("tokenizer_path") or DEFAULT_TOKENIZER
    if Path(tok).resolve() != (out / "tokenizer.json").resolve():
        shutil.copyfile(tok, out / "tokenizer.json")
    (out / TRAINING_STATE).write_text(json.dumps(state, indent=2) + "\n")
    return out


#: where an exported model records how far its training run got (read by launch scripts)
TRAINING_STATE = "training.json"


def training_state(ckpt: str | Path) -> dict:
    """Step, batches and samples a checkpoint's run has consumed, counting warm-start parents.

    A new session continues the shipped model from these numbers (``--model.schedule_offset``,
    ``--data.batch_offset``) when the exact checkpoint did not survive.
    """
    state = torch.load(str(ckpt), map_location="cpu", weights_only=False)
    step = int(state["global_step"])
    model_hp = state.get("hyper_parameters", {})
    data_hp = state.get("datamodule_hyper_parameters", {})
    offset = int(model_hp.get("schedule_offset", 0) or 0)
    parent = int(data_hp.get("batch_offset", 0) or 0)  # the warm-start parents' batches = steps
    batches = parent + step
    # a leg with a learning-rate schedule of its own (schedule_offset 0) still counts its parents
    return {"config": model_hp.get("config"), "step": step + max(offset, parent), "batches": batches,
            "samples": batches * int(data_hp.get("batch_size", 0) or 0),
            "checkpoint_step": step, "schedule_offset": offset,
            "exported": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def checkpoint_step(ckpt: str | Path) -> int:
    """The optimisation step a checkpoint was saved at."""
    return int(torch.load(str(ckpt), map_location="cpu", weights_only=False)["global_step"])
