"""``docencoder fit|validate|test|predict``: LightningCLI over DocEncoderModule + LineDataModule.

The data module owns the tokenizer; the CLI links its path into the model so the vocabulary size
and special-token ids come from one file, and links the model's config name into the data module
so images are rendered at the model's geometry.
"""

from __future__ import annotations

from typing import Sequence

from lightning.pytorch.cli import LightningCLI

from docencoder.data.datamodule import LineDataModule
from docencoder.training.module import DocEncoderModule


class DocEncoderCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("model.config", "data.config")
        parser.link_arguments("data.tokenizer_path", "model.tokenizer_path")


def run_lightning_cli(argv: Sequence[str]) -> DocEncoderCLI:
    return DocEncoderCLI(DocEncoderModule, LineDataModule, args=list(argv),
                         save_config_kwargs={"overwrite": True})
