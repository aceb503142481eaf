"""Tar shards: atomic writing, manifest, and rank/worker splitting of ShardDataset."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from docencoder.data.shards import ShardDataset, ShardWriter, iter_tar, read_manifest


def _image(i: int) -> Image.Image:
    return Image.new("L", (8 + i % 5, 4), color=i % 256)


def _write(out, n_sources=5, per_source=7, max_samples=4):
    with ShardWriter(out, max_samples=max_samples) as w:
        for s in range(n_sources):
            for i in range(per_source):
                kind = "page" if i == 0 else "line"
                w.write(f"s{s}_{i}", _image(i), f"text {s} {i}", {"kind": kind, "source": f"src{s}"})
            w.flush()
            w.mark_done(f"src{s}")
    return n_sources * per_source


def test_writer_roundtrip_and_manifest(tmp_path):
    n = _write(tmp_path)
    manifest = read_manifest(tmp_path)
    assert manifest["total_samples"] == n
    assert manifest["kinds"] == {"page": 5, "line": 30}
    assert set(manifest["completed"]) == {f"src{s}" for s in range(5)}
    assert not list(tmp_path.glob("*.tmp"))
    first = manifest["shards"][0]
    samples = list(iter_tar(tmp_path / first["name"]))
    assert len(samples) == first["samples"] == 4
    image, text, meta = samples[1]
    assert text == "text 0 1" and meta["kind"] == "line" and meta["key"] == "s0_1"
    assert image.size == (9, 4) and image.getpixel((0, 0)) == 1


def test_interrupted_shard_never_reaches_manifest(tmp_path):
    with pytest.raises(RuntimeError):
        with ShardWriter(tmp_path) as w:
            w.write("a", _image(0), "x", {"kind": "line"})
            w.flush()
            w.write("b", _image(1), "y", {"kind": "line"})
            raise RuntimeError("killed")
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["total_samples"] == 1
    assert not list(tmp_path.glob("*.tmp"))
    # a stale temporary file of a killed process is cleaned up by the next writer
    (tmp_path / "shard-000009.tar.tmp").write_bytes(b"junk")
    with ShardWriter(tmp_path) as w:
        w.write("c", _image(2), "z", {"kind": "line"})
    assert not list(tmp_path.glob("*.tmp"))
    assert read_manifest(tmp_path)["total_samples"] == 2


def test_bad_keys_are_refused(tmp_path):
    with ShardWriter(tmp_path) as w:
        with pytest.raises(ValueError):
            w.write("a.b", _image(0), "x")
        w.write("a", _image(0), "x")
        with pytest.raises(ValueError):
            w.write("a", _image(0), "x")


def _texts(ds):
    loader = torch.utils.data.DataLoader(ds, batch_size=None, num_workers=2,
                                         multiprocessing_context="fork")
    return [text for _, text, _ in loader]


@pytest.mark.parametrize("max_samples", [4, 100])  # many shards (shard split) / one shard (stride)
def test_two_ranks_two_workers_disjoint_and_complete(tmp_path, max_samples):
    n = _write(tmp_path, max_samples=max_samples)
    seen = []
    for rank in range(2):
        ds = ShardDataset(tmp_path, shuffle_buffer=8, seed=3, rank=rank, world_size=2)
        seen.append(_texts(ds))
    assert len(seen[0]) + len(seen[1]) == n
    assert set(seen[0]).isdisjoint(seen[1])
    assert len(set(seen[0]) | set(seen[1])) == n


def test_same_seed_same_order_and_epochs_differ(tmp_path):
    _write(tmp_path)
    a = [t for _, t, _ in ShardDataset(tmp_path, shuffle_buffer=8, seed=1)]
    b = [t for _, t, _ in ShardDataset(tmp_path, shuffle_buffer=8, seed=1)]
    assert a == b
    ds = ShardDataset(tmp_path, shuffle_buffer=8, seed=1)
    ds.set_epoch(1)
    c = [t for _, t, _ in ds]
    assert sorted(c) == sorted(a) and c != a


def test_kinds_filter_and_equalize(tmp_path):
    _write(tmp_path)
    pages = [t for _, t, m in ShardDataset(tmp_path, kinds=["page"], shuffle_buffer=0)]
    assert sorted(pages) == [f"text {s} 0" for s in range(5)]
    counts = [len(list(ShardDataset(tmp_path, equalize=True, rank=r, world_size=3)))
              for r in range(3)]
    assert len(set(counts)) == 1 and counts[0] > 0


def test_transform_runs_and_may_drop(tmp_path):
    _write(tmp_path, n_sources=1)
    ds = ShardDataset(tmp_path, shuffle_buffer=0,
                      transform=lambda s: None if s.meta["kind"] == "page" else s.text.upper())
    assert sorted(ds) == sorted(f"TEXT 0 {i}" for i in range(1, 7))
