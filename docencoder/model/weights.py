"""Saving, loading and pretrained initialisation of DocEncoder weights.

Our own checkpoints are a directory with ``model.safetensors`` and ``config.json`` (the
:class:`ModelConfig`). Pretrained parts (timm SAM-B, open_clip ViT-L/14, a transformers causal LM)
load from local files only, each through a named key-mapping function followed by a strict
``load_state_dict`` that reports what is missing or unexpected: nothing is downloaded.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Callable, Mapping, Optional

import torch
from safetensors.torch import load_file, load_model, save_model
from torch import nn

from .config import ModelConfig
from .docencoder import DocEncoder

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


def save_pretrained(model: DocEncoder, directory: str | Path,
                    dtype: Optional[torch.dtype] = None) -> Path:
    """Write ``model.safetensors`` + ``config.json`` to ``directory`` (created if needed).

    Args:
        dtype: store floating-point weights in this dtype (e.g. ``torch.float16`` halves the
            shipped file); loading casts them back to the model's dtype.
    """
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if dtype is not None:
        model = copy.deepcopy(model).to(dtype)
    save_model(model, str(d / WEIGHTS_NAME))  # handles the tied embedding/lm_head weights
    save_config(model.cfg, d)
    return d


def save_config(cfg: ModelConfig, directory: str | Path) -> Path:
    """Write ``config.json`` (every field, ``geometry.kind`` included) to an existing directory."""
    path = Path(directory) / CONFIG_NAME
    path.write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    return path


def load_config(directory: str | Path) -> ModelConfig:
    """The :class:`ModelConfig` stored beside a checkpoint.

    A config.json older than ``geometry.kind`` gets the kind from its name
    (:meth:`ModelConfig.from_dict`).
    """
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {CONFIG_NAME} in {directory}: not a docencoder model directory")
    return ModelConfig.from_dict(json.loads(path.read_text()))


def load_pretrained(directory: str | Path, map_location: str | torch.device = "cpu") -> DocEncoder:
    """Rebuild a model saved by :func:`save_pretrained`; outputs reproduce exactly."""
    cfg = load_config(directory)
    path = Path(directory) / WEIGHTS_NAME
    if not path.is_file():
        raise FileNotFoundError(f"no {WEIGHTS_NAME} in {directory}")
    model = DocEncoder(cfg)
    # safetensors' load_model restores tied weights that save_model stored once, strictly.
    load_model(model, str(path), strict=True, device=str(map_location))
    return model.eval()


# ------------------------------------------------------------------------------------------------
# Pretrained key maps: source state dict -> our state dict for one part, then a strict load.
# ------------------------------------------------------------------------------------------------

def map_timm_sam(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """timm ``samvit_*`` -> our ``SamEncoder``: same block/neck names; pos_embed kept as is.

    timm's head/norm keys (classifier parts SAM does not have) are dropped explicitly.
    """
    out = {}
    for k, v in state.items():
        if k.startswith(("head.", "fc_norm.", "norm.")):
            continue
        out[k] = v
    return out


def map_open_clip_visual(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """open_clip ``ViT-*`` (full model or ``visual``) -> our ``ClipEncoder``.

    DeepEncoder bypasses CLIP's patch embedding (``conv1``) and uses token features, not the
    pooled projection (``ln_post``, ``proj``), so those are dropped; the text tower is ignored.
    """
    out = {}
    for k, v in state.items():
        if k.startswith("visual."):
            k = k[len("visual."):]
        elif any(k.startswith(p) for p in ("transformer.", "token_embedding", "ln_final",
                                            "text_projection", "logit_", "positional_embedding",
                                            "attn_mask")):
            continue  # the text tower of a full CLIP model
        if k.startswith(("conv1.", "ln_post.", "proj", "attn_pool", "ln_pre.bias_")):
            continue
        out[k] = v
    return out


def map_hf_causal_lm(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A transformers Llama-style causal LM checkpoint -> our ``decoder`` (identity on names)."""
    return {k: v for k, v in state.items() if not k.endswith("rotary_emb.inv_freq")}


def _load_part(part: nn.Module, mapped: dict[str, torch.Tensor], what: str) -> None:
    own = part.state_dict()
    # A tied LM head may be absent from a checkpoint: it is the embedding itself.
    if "lm_head.weight" in own and "lm_head.weight" not in mapped and "model.embed_tokens.weight" in mapped:
        mapped["lm_head.weight"] = mapped["model.embed_tokens.weight"]
    missing = sorted(set(own) - set(mapped))
    unexpected = sorted(set(mapped) - set(own))
    if missing or unexpected:
        raise ValueError(f"{what}: missing keys {missing[:10]}, unexpected keys {unexpected[:10]}")
    bad = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in mapped.items()
           if tuple(v.shape) != tuple(own[k].shape)]
    if bad:
        raise ValueError(f"{what}: shape mismatch (key, checkpoint, model) {bad[:5]}")
    part.load_state_dict(mapped, strict=True)


def _read_state(path: str | Path) -> dict[str, torch.Tensor]:
    p = Path(path)
    if p.is_dir():
        files = sorted(p.glob("*.safetensors")) or sorted(p.glob("*.bin"))
        if not files:
            raise FileNotFoundError(f"no *.safetensors or *.bin weights in {p}")
        state: dict[str, torch.Tensor] = {}
        for f in files:
            state.update(_read_state(f))
        return state
    if p.suffix == ".safetensors":
        return load_file(str(p))
    obj = torch.load(str(p), map_location="cpu", weights_only=True)
    return obj.get("state_dict", obj) if isinstance(obj, dict) else obj


MAPPERS: dict[str, tuple[str, Callable[[Mapping[str, torch.Tensor]], dict[str, torch.Tensor]]]] = {
    "sam": ("sam", map_timm_sam),
    "clip": ("clip", map_open_clip_visual),
    "decoder": ("decoder", map_hf_causal_lm),
}


def load_part_weights(model: DocEncoder, part: str, path: str | Path) -> None:
    """Initialise one part (``sam``, ``clip`` or ``decoder``) from a local checkpoint file or dir.

    Raises:
        ValueError: listing missing/unexpected keys or mismatched shapes (strict).
    """
    if part not in MAPPERS:
        raise KeyError(f"unknown part {part!r}; one of {list(MAPPERS)}")
    attr, mapper = MAPPERS[part]
    _load_part(getattr(model, attr), mapper(_read_state(path)), f"{part} weights from {path}")
