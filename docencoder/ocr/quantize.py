"""Int8 inference on CPU: dynamic quantisation of a loaded DocEncoder's linear layers.

PyTorch's dynamically quantised ``Linear`` stores int8 weights (quantised once, per output
channel) and quantises activations per batch at run time, so no calibration data is needed; it
runs on CPU kernels only (fbgemm/oneDNN). Linear layers take over half of the CPU time (SAM's MLPs
and attention projections, CLIP's, the decoder), so ``quantize="auto"`` means int8 on CPU and
float on CUDA, where fp16/bf16 give the speed instead.

open_clip's blocks attend with ``nn.MultiheadAttention``, whose fused path reads its projections
as plain weight tensors, which a quantised module does not have: those blocks are rebuilt first as
:class:`~docencoder.model.clip.SelfAttention`, the same computation with ordinary linear layers.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from docencoder.model import DocEncoder

QuantizeMode = Literal["auto", "int8", "none"]
#: what ``quantize=`` accepts; :func:`resolve_quantize` turns it into ``int8`` or ``none``
QUANTIZE_MODES: tuple[str, ...] = ("auto", "int8", "none")


def resolve_quantize(quantize: str, device: str) -> str:
    """``auto``/``int8``/``none`` for a resolved device -> ``int8`` or ``none``.

    ``auto`` is int8 on CPU and none on CUDA: PyTorch's dynamically quantised Linear runs on CPU
    kernels only (fbgemm/oneDNN), and a GPU has fp16/bf16 for speed instead.

    Raises:
        ValueError: an unknown mode, or int8 asked for on CUDA.
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"unknown quantize mode {quantize!r}: use {', '.join(QUANTIZE_MODES)}")
    on_cpu = device == "cpu"
    if quantize == "int8" and not on_cpu:
        raise ValueError(f"--quantize int8 runs on CPU only (device {device!r}); use auto or none")
    if quantize == "auto":
        return "int8" if on_cpu else "none"
    return quantize


def rebuild_clip_attention(model: "DocEncoder") -> int:
    """Replace CLIP's ``nn.MultiheadAttention`` blocks by ``SelfAttention``, in place.

    The same weights and the same function (to float rounding), but the projections become plain
    ``nn.Linear`` layers that dynamic quantisation can replace. Returns how many were rebuilt.
    """
    from torch import nn

    from docencoder.model.clip import SelfAttention

    n = 0
    for block in model.clip.transformer.resblocks:
        if isinstance(block.attn, nn.MultiheadAttention):
            block.attn = SelfAttention.from_mha(block.attn)
            n += 1
    return n


def quantize_int8(model: "DocEncoder") -> "DocEncoder":
    """Dynamic int8 quantisation of the model's ``nn.Linear`` layers except the LM head, in place.

    Weights are quantised once here, per output channel (rows of a trained layer differ in range);
    activations per batch at run time. CLIP's attention is rebuilt first
    (:func:`rebuild_clip_attention`) so its projections quantise too; convolutions, norms and the
    token embedding stay fp32. The LM head stays fp32: it is tied to the token embedding
    (quantising would give it a copy of its own) and picks every output token, for ~1 % of the
    FLOPs.
    """
    import torch
    from torch import nn
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    rebuild_clip_attention(model)
    head = model.decoder.get_output_embeddings()
    # exactly nn.Linear: MultiheadAttention's out_proj (a Linear subclass) is read as a plain
    # weight by its fused path, which a quantised module does not have
    spec = {name: per_channel_dynamic_qconfig for name, m in model.named_modules()
            if type(m) is nn.Linear and m is not head}
    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the API still works as documented
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated", category=UserWarning)
        return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=True)
