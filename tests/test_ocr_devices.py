"""`docencoder ocr --devices`: GPUs only; on a CPU machine it is a usage error (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from docencoder.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "samples" / "sample.pdf"


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal")
def test_devices_needs_a_gpu(tmp_path, capsys):
    code = main(["ocr", str(SAMPLE), "-o", str(tmp_path), "--text-layer", "only", "--devices", "2"])
    assert code == 2
    assert "--workers" in capsys.readouterr().err
    assert not list(tmp_path.glob("*.jsonl"))
