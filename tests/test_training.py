"""Training through the Lightning CLI: configs, schedule, parameter groups, DDP, exact resume, export."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch

from docencoder.data.datamodule import LineDataModule
from docencoder.model import load_pretrained
from docencoder.training.callbacks import state_digest
from docencoder.training.ctc import CtcHead, ctc_loss, ctc_targets
from docencoder.training.export import export_checkpoint
from docencoder.training.module import DocEncoderModule, copy_parts, lr_factor, warmup_cosine

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.yaml"))
CLI = [sys.executable, "-m", "docencoder.cli"]


def run_cli(args, tmp_path, timeout=300):
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    return subprocess.run(CLI + args, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_warmup_cosine_schedule():
    assert warmup_cosine(0, 10, 100, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(9, 10, 100, 0.1) == pytest.approx(1.0)
    assert warmup_cosine(55, 10, 100, 0.1) == pytest.approx(0.55)
    assert warmup_cosine(100, 10, 100, 0.1) == pytest.approx(0.1)
    assert warmup_cosine(500, 10, 100, 0.1) == pytest.approx(0.1)


def test_warm_start_schedule_rewarms_then_continues_the_cosine():
    assert lr_factor(7, 10, 1000, 0.1) == warmup_cosine(7, 10, 1000, 0.1)  # no offset: unchanged
    assert lr_factor(0, 10, 1000, 0.1, offset=500) == pytest.approx(0.1 * warmup_cosine(500, 0, 1000, 0.1))
    assert lr_factor(9, 10, 1000, 0.1, offset=500) == pytest.approx(warmup_cosine(509, 0, 1000, 0.1))
    assert lr_factor(100, 10, 1000, 0.1, offset=500) == pytest.approx(warmup_cosine(600, 0, 1000, 0.1))
    assert lr_factor(600, 10, 1000, 0.1, offset=500) == pytest.approx(0.1)


def test_init_parts_copies_only_the_named_parts(tmp_path):
    from docencoder.model import save_pretrained

    src = DocEncoderModule(config="line-tiny")
    save_pretrained(src.model, tmp_path / "src")
    torch.manual_seed(123)
    dst = DocEncoderModule(config="line-tiny", init_from=str(tmp_path / "src"),
                           init_parts=["clip", "decoder"])
    def same(part):
        return all(torch.equal(a, b) for a, b in zip(
            getattr(src.model, part).state_dict().values(), getattr(dst.model, part).state_dict().values()))
    assert same("clip") and same("decoder") and not same("sam") and not same("projector")
    with pytest.raises(ValueError, match="does not match"):
        copy_parts(DocEncoderModule(config="line-v1").model, dst.model, ["sam"])
    with pytest.raises(ValueError, match="needs init_from"):
        DocEncoderModule(config="line-tiny", init_parts=["clip"])


def test_param_groups_decay_freeze_and_multipliers():
    m = DocEncoderModule(config="line-tiny", lr=1e-3, freeze=["sam", "compressor"],
                         lr_mult={"decoder": 0.5})
    groups = {g["name"]: g for g in m.param_groups()}
    assert not any(n.startswith(("sam.", "compressor.")) for n in groups)
    assert groups["decoder.decay"]["lr"] == pytest.approx(5e-4)
    assert groups["clip.decay"]["lr"] == pytest.approx(1e-3)
    assert all(p.ndim >= 2 for p in groups["clip.decay"]["params"])
    assert groups["clip.no_decay"]["weight_decay"] == 0.0
    assert not any(p.requires_grad for p in m.model.sam.parameters())
    with pytest.raises(ValueError, match="cannot freeze"):
        DocEncoderModule(config="line-tiny", freeze=["eyes"])


@pytest.mark.parametrize("config", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_config_parses_and_runs_one_step(config, tmp_path):
    printed = run_cli(["fit", "-c", str(config), "--print_config"], tmp_path)
    assert printed.returncode == 0, printed.stderr[-2000:]
    assert "model:" in printed.stdout
    res = run_cli(["fit", "-c", str(config), "-c", str(ROOT / "configs/test/tiny_overrides.yaml"),
                   "--trainer.default_root_dir", str(tmp_path), "--trainer.logger", "false",
                   "--trainer.callbacks", "null", "--trainer.enable_checkpointing", "false"], tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "max_steps=1" in res.stderr + res.stdout


def _trainer(tmp_path, max_steps, callbacks=()):
    return L.Trainer(accelerator="cpu", devices=1, max_steps=max_steps, logger=False,
                     enable_progress_bar=False, enable_model_summary=False, limit_val_batches=0,
                     default_root_dir=tmp_path, callbacks=list(callbacks), deterministic=True)


class StopAt(L.Callback):
    def __init__(self, step):
        self.step = step

    def on_train_batch_end(self, trainer, *args):
        if trainer.global_step >= self.step:
            trainer.should_stop = True


def _fit(tmp_path, max_steps, stop=None, ckpt=None):
    L.seed_everything(7)
    module = DocEncoderModule(config="line-tiny", lr=3e-3, warmup_steps=2)
    data = LineDataModule(config="line-tiny", batch_size=3, num_workers=0, val_batches=1)
    cbs = []
    if stop:
        cbs = [StopAt(stop), L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True,
                                                                 every_n_train_steps=1)]
    trainer = _trainer(tmp_path, max_steps, cbs)
    trainer.fit(module, data, ckpt_path=ckpt)
    return trainer, module


def test_exact_resume_matches_uninterrupted_run(tmp_path):
    full_trainer, full = _fit(tmp_path / "a", max_steps=6)
    _fit(tmp_path / "b", max_steps=6, stop=3)
    ckpt = tmp_path / "b" / "ckpt" / "last.ckpt"
    assert torch.load(ckpt, weights_only=False)["global_step"] == 3
    resumed_trainer, resumed = _fit(tmp_path / "c", max_steps=6, ckpt=str(ckpt))
    assert resumed_trainer.global_step == full_trainer.global_step == 6
    assert resumed_trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(
        full_trainer.optimizers[0].param_groups[0]["lr"])
    for (name, a), (_, b) in zip(full.model.state_dict().items(), resumed.model.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_ddp_two_processes_see_different_samples_and_agree(tmp_path):
    rec = tmp_path / "record"
    res = run_cli(["fit", "-c", str(ROOT / "configs/line_cpu.yaml"), "-c",
                   str(ROOT / "configs/test/tiny_overrides.yaml"), "--trainer.devices", "2",
                   "--trainer.strategy", "ddp", "--trainer.max_steps", "3",
                   "--trainer.limit_val_batches", "0", "--trainer.logger", "false",
                   "--trainer.enable_checkpointing", "false",
                   "--trainer.default_root_dir", str(tmp_path),
                   "--trainer.callbacks", json.dumps([{"class_path": "docencoder.training.callbacks.RunRecord",
                                                       "init_args": {"dirpath": str(rec)}}])],
                  tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    seen, digests = [], []
    for rank in (0, 1):
        lines = [json.loads(x) for x in (rec / f"rank{rank}.jsonl").read_text().splitlines()]
        seen.append({t for x in lines if "texts" in x for t in x["texts"]})
        final = [x for x in lines if "digest" in x][-1]
        assert final["final_step"] == 3
        digests.append(final["digest"])
    assert seen[0] and seen[1] and not (seen[0] & seen[1])
    assert digests[0] == digests[1]


def test_export_roundtrip(tmp_path):
    trainer, module = _fit(tmp_path, max_steps=1, stop=1)
    out = export_checkpoint(tmp_path / "ckpt" / "last.ckpt", tmp_path / "model")
    assert {p.name for p in out.iterdir()} >= {"model.safetensors", "config.json", "tokenizer.json"}
    loaded = load_pretrained(out)
    assert state_digest(loaded) == state_digest(module.model.eval())
    state = json.loads((out / "training.json").read_text())
    assert state["step"] == state["checkpoint_step"] == trainer.global_step == 1
    assert state["config"] == "line-tiny" and state["batches"] == 1


def test_export_defaults_to_a_folder_git_ignores(tmp_path, monkeypatch):
    """`docencoder export CKPT` without -o writes exports/<run>-step<N>, which the repository's
    .gitignore ignores: an export in the work tree is neither tracked nor left untracked."""
    from docencoder.cli import main
    from docencoder.training.export import default_export_dir

    assert default_export_dir("runs/line_cpu/checkpoints/last.ckpt", 34433) == Path(
        "exports/line_cpu-step34433")
    assert default_export_dir(tmp_path / "leg7.ckpt", 5) == Path("exports/leg7-step5")
    _fit(tmp_path, max_steps=1, stop=1)
    run = tmp_path / "runs" / "ft" / "checkpoints"
    run.mkdir(parents=True)
    (tmp_path / "ckpt" / "last.ckpt").rename(run / "last.ckpt")
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(run / "last.ckpt")]) == 0
    assert (tmp_path / "exports" / "ft-step1" / "model.safetensors").is_file()
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "exports/ft-step1/config.json"])
    assert ignored.returncode == 0


def test_training_state_counts_the_parents_of_a_leg_with_its_own_schedule(tmp_path):
    """A new leg (warm start, own cosine: schedule_offset 0) still reports the lineage's step."""
    from docencoder.training.export import training_state

    def state(global_step, schedule_offset, batch_offset):
        path = tmp_path / f"{global_step}-{schedule_offset}-{batch_offset}.ckpt"
        torch.save({"global_step": global_step,
                    "hyper_parameters": {"config": "line", "schedule_offset": schedule_offset},
                    "datamodule_hyper_parameters": {"batch_offset": batch_offset, "batch_size": 32}},
                   path)
        return training_state(path)

    leg3 = state(8000, 0, 15233)
    assert (leg3["step"], leg3["batches"], leg3["samples"]) == (23233, 23233, 23233 * 32)
    leg2 = state(8400, 6833, 6833)  # schedule continued from the parent
    assert (leg2["step"], leg2["batches"]) == (15233, 15233)
    assert state(500, 0, 0)["step"] == 500


# ---------------------------------------------------------------------- auxiliary CTC loss
def test_ctc_targets_take_only_the_text_tokens():
    m = DocEncoderModule(config="line-tiny", ctc_weight=0.5)
    data = LineDataModule(config="line-tiny", batch_size=4, num_workers=0, val_batches=1)
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))
    ids = batch.input_ids
    text = m.model.target_mask(ids) & batch.attention_mask.bool() & (ids != m.model.cfg.tokens.eos_id)
    targets, lengths = ctc_targets(ids, text)
    tok = m.tokenizer
    rows = torch.split(targets, lengths.tolist())
    assert [tok.decode(r.tolist()) for r in rows] == [" ".join(t.split()) for t in batch.texts]


def test_ctc_head_learns_a_column_code():
    """A map whose columns spell the target is learned to zero loss (the head and loss fit)."""
    torch.manual_seed(0)
    head = CtcHead(rows=2, channels=6, vocab_size=6)
    targets = torch.tensor([1, 2, 2, 3, 4, 5])  # rows: [1, 2, 2] and [3, 4, 5]
    lengths = torch.tensor([3, 3])
    code = torch.zeros(2, 6, 2, 8)  # (B, C, rows, W): column w one-hot at its token, blank = 0
    for b, seq in enumerate(([1, 0, 2, 0, 2, 0, 0, 0], [3, 3, 4, 0, 5, 5, 0, 0])):
        for w, c in enumerate(seq):
            code[b, c, :, w] = 1.0
    opt = torch.optim.Adam(head.parameters(), lr=0.05)
    first = None
    for _ in range(300):
        loss = ctc_loss(head(code), targets, lengths, blank=0)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first


def test_ctc_weight_trains_the_head_and_the_export_carries_it(tmp_path):
    L.seed_everything(7)
    module = DocEncoderModule(config="line-tiny", lr=3e-3, warmup_steps=2, ctc_weight=0.3)
    assert "ctc_head" in {g["name"] for g in module.param_groups()}
    before = module.model.ctc_head.proj.weight.detach().clone()
    data = LineDataModule(config="line-tiny", batch_size=3, num_workers=0, val_batches=1)
    ckpt = L.pytorch.callbacks.ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    trainer = _trainer(tmp_path, 2, [ckpt])
    trainer.fit(module, data)
    assert not torch.equal(before, module.model.ctc_head.proj.weight)
    assert torch.isfinite(trainer.callback_metrics["train/ctc"])
    out = export_checkpoint(tmp_path / "ckpt" / "last.ckpt", tmp_path / "model")
    exported = load_pretrained(out)
    assert exported.cfg.ctc_head and exported.ctc_head is not None
    assert state_digest(exported) == state_digest(module.model.eval())


def test_last_checkpoint_holds_the_last_step_in_one_file(tmp_path):
    """A checkpoint saved mid-run must not be what a finished run leaves as last.ckpt, and a run
    leaves one last.ckpt (Lightning's version counter wrote last-v1.ckpt beside one it had not
    written itself: a previous run's, or a final save of another callback)."""
    from docencoder.training.callbacks import LastCheckpoint

    ckpt_dir = tmp_path / "ckpt"

    def fit(callback):
        L.seed_everything(7)
        module = DocEncoderModule(config="line-tiny", lr=3e-3, warmup_steps=2)
        data = LineDataModule(config="line-tiny", batch_size=2, num_workers=0, val_batches=1)
        _trainer(tmp_path, 3, [callback]).fit(module, data)
        return torch.load(ckpt_dir / "last.ckpt", weights_only=False)["global_step"]

    every2 = L.pytorch.callbacks.ModelCheckpoint(dirpath=ckpt_dir, save_last=True,
                                                 every_n_train_steps=2, save_top_k=0)
    assert fit(every2) == 2  # Lightning's own last.ckpt stops short of the end
    assert fit(LastCheckpoint(str(ckpt_dir), every_n_train_steps=2)) == 3  # a second run, same folder
    assert sorted(p.name for p in ckpt_dir.iterdir()) == ["last.ckpt"]


def test_last_checkpoint_defaults_to_the_root_dir(tmp_path):
    from docencoder.training.callbacks import LastCheckpoint

    callback = LastCheckpoint()
    trainer = _trainer(tmp_path, 1, [callback])
    callback.setup(trainer, DocEncoderModule(config="line-tiny"), "fit")
    assert Path(callback.dirpath) == (tmp_path / "checkpoints").resolve()


# ------------------------------------------------------------- where a CLI run leaves its files
def _cli_fit(root, *extra):
    from docencoder.training.cli import run_lightning_cli

    return run_lightning_cli(["fit", "-c", str(ROOT / "configs/line_cpu.yaml"),
                              "-c", str(ROOT / "configs/test/tiny_overrides.yaml"),
                              "--trainer.max_steps", "2", "--trainer.default_root_dir", str(root),
                              *extra])


def _step(ckpt):
    return torch.load(ckpt, map_location="cpu", weights_only=False)["global_step"]


@pytest.mark.parametrize("config", CONFIGS, ids=[p.name for p in CONFIGS])
def test_every_config_keeps_its_run_under_default_root_dir(config, tmp_path):
    """Loggers and the one checkpoint callback of every recipe follow --trainer.default_root_dir."""
    from docencoder.training.callbacks import LastCheckpoint
    from docencoder.training.cli import DocEncoderCLI

    cli = DocEncoderCLI(DocEncoderModule, LineDataModule, run=False,
                        args=["-c", str(config), "-c", str(ROOT / "configs/test/tiny_overrides.yaml"),
                              "--trainer.default_root_dir", str(tmp_path)])
    assert cli.trainer.loggers and all(Path(lg.save_dir) == tmp_path for lg in cli.trainer.loggers)
    assert [type(c) for c in cli.trainer.checkpoint_callbacks] == [LastCheckpoint]
    assert cli.trainer.checkpoint_callback.dirpath is None  # set at setup: <root>/checkpoints


def test_cli_run_lives_under_default_root_dir_with_one_last_ckpt(tmp_path, monkeypatch, recwarn):
    """--trainer.default_root_dir moves the recipe's logs and checkpoint (issue 19: they were
    fixed to runs/line_cpu, so an experiment overwrote the recipe's resume checkpoint); a run, a
    second run and a resume each leave one last.ckpt; no warning about args and sys.argv."""
    from lightning.pytorch.utilities.imports import _RICH_AVAILABLE

    from docencoder.training.callbacks import StepProgressBar

    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    a, b = tmp_path / "a", tmp_path / "b"
    _cli_fit(a)
    _cli_fit(b)
    for root in (a, b):
        assert sorted(p.name for p in (root / "checkpoints").iterdir()) == ["last.ckpt"]
        assert _step(root / "checkpoints" / "last.ckpt") == 2
        assert (root / "csv" / "version_0" / "metrics.csv").is_file()
        assert list((root / "tb" / "version_0").glob("events.out.tfevents.*"))
    assert not any(cwd.iterdir())  # nothing in runs/ of the current directory
    cli = _cli_fit(a, "--trainer.max_steps", "3", "--ckpt_path", str(a / "checkpoints" / "last.ckpt"),
                   "--trainer.enable_progress_bar", "true")
    assert cli.trainer.global_step == 3
    if _RICH_AVAILABLE:
        assert isinstance(cli.trainer.progress_bar_callback, StepProgressBar)
    assert sorted(p.name for p in (a / "checkpoints").iterdir()) == ["last.ckpt"]
    assert _step(a / "checkpoints" / "last.ckpt") == 3
    assert not [w for w in recwarn if "args parameter" in str(w.message)]


def test_progress_bar_of_a_step_bounded_run_has_no_epoch_count(tmp_path):
    """max_steps makes max_epochs -1; Lightning's rich bar printed it as `Epoch 0/-2`."""
    from lightning.pytorch.utilities.imports import _RICH_AVAILABLE

    from docencoder.training.callbacks import StepProgressBar

    if not _RICH_AVAILABLE:
        pytest.skip("rich is not installed: Lightning's tqdm bar prints no epoch count")
    bar = StepProgressBar()
    trainer = L.Trainer(accelerator="cpu", max_steps=5, logger=False, callbacks=[bar],
                        default_root_dir=tmp_path, enable_model_summary=False)
    assert trainer.progress_bar_callback is bar
    trainer.fit_loop.max_epochs = -1  # what fit makes of max_steps without max_epochs
    bar._trainer = trainer
    assert bar._get_train_description(0).strip() == "Epoch 0"
    trainer = L.Trainer(accelerator="cpu", max_epochs=3, logger=False, callbacks=[bar],
                        default_root_dir=tmp_path, enable_model_summary=False)
    bar._trainer = trainer
    assert bar._get_train_description(1).strip() == "Epoch 1/2"
