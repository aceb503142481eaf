"""Which torch device the reader runs on: ``cpu``, ``cuda``, ``cuda:N`` or ``auto``.

Kept apart from the reader so that the CLI can check ``--device`` (and the quantisation it
implies, :func:`docencoder.ocr.quantize.resolve_quantize`) before loading any weights.
"""

from __future__ import annotations

from typing import Literal

DeviceType = Literal["cpu", "cuda"]


def resolve_device(device: str) -> str:
    """``cpu``/``cuda``/``cuda:N``/``auto`` -> a torch device string.

    Raises:
        ValueError: CUDA was asked for but is not available, or the name is unknown.
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: CUDA is not available on this machine")
        return device
    if device != "cpu":
        raise ValueError(f"unknown device {device!r}: use cpu, cuda or auto")
    return device


def device_type(device: str) -> DeviceType:
    """The kind of a resolved device (``cuda:1`` -> ``cuda``): what batch sizes are tuned for."""
    return "cuda" if device.startswith("cuda") else "cpu"
