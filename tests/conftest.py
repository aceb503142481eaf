"""Shared fixtures: tiny random models and the shipped tokenizer."""

from __future__ import annotations

import os

import pytest
import torch

# Tests share 2 cores with each other and with background work: keep torch to one thread each.
torch.set_num_threads(int(os.environ.get("DOCENCODER_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def tokenizer():
    from docencoder.data.tokenizer import load_tokenizer
    return load_tokenizer()


@pytest.fixture()
def tiny_line_model(tokenizer):
    from docencoder.model import DocEncoder, get_config
    torch.manual_seed(0)
    cfg = get_config("line-tiny", vocab_size=tokenizer.vocab_size, tokens=tokenizer.token_config())
    return DocEncoder(cfg)
