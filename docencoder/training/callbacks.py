"""Callbacks that make a run inspectable: what each rank read and where its weights ended."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import lightning as L
import torch


def state_digest(module: torch.nn.Module) -> str:
    """SHA-256 over every parameter's bytes: equal digests mean bitwise-equal weights."""
    h = hashlib.sha256()
    for name, p in sorted(module.state_dict().items()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


class RunRecord(L.Callback):
    """Writes ``rank<k>.jsonl`` in ``dirpath``: the texts of every training batch this rank read,
    then a final line with the global step and the digest of its weights."""

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def _file(self, trainer: L.Trainer) -> Path:
        self.dirpath.mkdir(parents=True, exist_ok=True)
        return self.dirpath / f"rank{trainer.global_rank}.jsonl"

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        with self._file(trainer).open("a") as fh:
            fh.write(json.dumps({"step": trainer.global_step, "texts": list(batch.texts)}) + "\n")

    def on_fit_end(self, trainer, pl_module) -> None:
        with self._file(trainer).open("a") as fh:
            fh.write(json.dumps({"final_step": trainer.global_step,
                                 "digest": state_digest(pl_module.model)}) + "\n")


class FinalCheckpoint(L.Callback):
    """Writes ``dirpath/last.ckpt`` when fit stops at ``max_steps``.

    Why: a ``ModelCheckpoint`` on a time interval (every 3 minutes on CPU) skips its final save
    once it has saved during the process, so a finished leg's ``last.ckpt`` could be minutes of
    steps short: the export would miss the annealed end of the schedule, and ``launch.sh`` would
    take the leg for unfinished.
    """

    def __init__(self, dirpath: str) -> None:
        self.dirpath = Path(dirpath)

    def on_train_end(self, trainer, pl_module) -> None:
        if trainer.max_steps > 0 and trainer.global_step >= trainer.max_steps:
            trainer.save_checkpoint(str(self.dirpath / "last.ckpt"))
