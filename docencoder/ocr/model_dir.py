"""A model directory: where the shipped one lives, what it must hold, and the id naming its weights.

The id is computed here and only here: page records carry it, and a resume compares it, so it
must name the exact weights whatever precision they are run at.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Optional

#: where the model shipped with the package lives
DEFAULT_MODEL_DIR = Path(__file__).resolve().parents[1] / "assets" / "default"
#: the files a model directory must hold
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")
_HASH_CHUNK = 1 << 20  # bytes read at a time while hashing the weights


class ModelLoadError(Exception):
    """The model directory is missing or incomplete."""


def check_model_dir(model_dir: Optional[str | Path]) -> Path:
    """The model directory to use, checked for its three files.

    Raises:
        ModelLoadError: naming the missing file (and how to pick another model).
    """
    d = Path(model_dir) if model_dir is not None else DEFAULT_MODEL_DIR
    for name in MODEL_FILES:
        if not (d / name).is_file():
            hint = (" (no default model is installed in the package; pass --model DIR)"
                    if model_dir is None else "")
            raise ModelLoadError(f"model directory {d} has no {name}{hint}")
    return d


def has_ctc_head(model_dir: Path) -> bool:
    """Whether the model's config.json records a CTC head (read without loading the weights)."""
    import json

    return bool(json.loads((model_dir / "config.json").read_text(encoding="utf-8")).get("ctc_head"))


def model_id(model_dir: Path) -> str:
    """``<dir name>-<first 8 hex of the weights' sha256>``: names the exact weights in the output."""
    h = hashlib.sha256()
    with open(model_dir / "model.safetensors", "rb") as f:
        for chunk in iter(lambda: f.read(_HASH_CHUNK), b""):
            h.update(chunk)
    return f"{model_dir.name}-{h.hexdigest()[:8]}"
