"""``docencoder fit|validate|test|predict``: LightningCLI over DocEncoderModule + LineDataModule.

The data module owns the tokenizer; the CLI links its path into the model so the vocabulary size
and special-token ids come from one file, and links the model's config name into the data module
so images are rendered at the model's geometry.

Every file of a run lands under ``trainer.default_root_dir`` (issue 19): the loggers' ``save_dir``
is linked to it, and ``callbacks.LastCheckpoint`` without ``dirpath`` keeps
``<default_root_dir>/checkpoints/last.ckpt``.
So ``--trainer.default_root_dir runs/ft`` moves a whole experiment, and the recipe's resume
checkpoint in ``runs/line_cpu`` is left alone.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Optional, Sequence

from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import ProgressBar
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.imports import _RICH_AVAILABLE

from docencoder.data.datamodule import LineDataModule
from docencoder.training.callbacks import StepProgressBar
from docencoder.training.module import DocEncoderModule


def _as_list(value: Any) -> list:
    if value is None or isinstance(value, bool):
        return []
    return list(value) if isinstance(value, list) else [value]


def run_root(default_root_dir: Optional[str]) -> str:
    """Where a run's logs go: ``trainer.default_root_dir``, else the current directory (as the
    Trainer's own default)."""
    return default_root_dir or os.getcwd()


class DocEncoderCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        parser.link_arguments("model.config", "data.config")
        parser.link_arguments("data.tokenizer_path", "model.tokenizer_path")
        # every configured logger (one or a list) writes under the run's root: a fixed save_dir in
        # a recipe (runs/line_cpu) ignored --trainer.default_root_dir, and every experiment wrote
        # into the recipe's run
        parser.link_arguments("trainer.default_root_dir", "trainer.logger.init_args.save_dir",
                              compute_fn=run_root)

    def parse_arguments(self, parser, args) -> None:
        # `docencoder fit ...` hands its own argv over as `args`; Lightning warns whenever
        # sys.argv holds arguments too, which the docencoder command always does
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="LightningCLI's args parameter")
            super().parse_arguments(parser, args)

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        """The Trainer, with ``StepProgressBar`` in place of Lightning's rich bar (``Epoch 0/-2``)."""
        trainer = {**self._get(self.config_init, "trainer", default={}), **kwargs}
        callbacks = _as_list(trainer.get("callbacks"))
        if (_RICH_AVAILABLE and trainer.get("enable_progress_bar") is not False
                and not any(isinstance(c, ProgressBar) for c in callbacks)):
            kwargs["callbacks"] = [*callbacks, StepProgressBar()]
        return super().instantiate_trainer(**kwargs)


def run_lightning_cli(argv: Sequence[str]) -> DocEncoderCLI:
    return DocEncoderCLI(DocEncoderModule, LineDataModule, args=list(argv),
                         save_config_kwargs={"overwrite": True})
