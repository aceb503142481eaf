"""Training samples stored as tar shards (WebDataset layout) with a JSON manifest.

Why tar shards: millions of small PNGs are slow to list and copy, a tar is read sequentially, and
whole shards are the natural unit for handing data to DDP ranks and DataLoader workers. Each
sample is three members sharing a key: ``<key>.png`` (grayscale image), ``<key>.txt`` (UTF-8
ground truth) and ``<key>.json`` (meta: kind, source, page, dpi, ...).

``manifest.json`` beside the shards is the single source of truth: a shard exists for readers only
once it is listed there. :class:`ShardWriter` writes ``*.tar.tmp``, renames it to ``*.tar`` when it
is complete and only then rewrites the manifest (itself via a temporary file and an atomic
rename), so an interrupted run never leaves a half-written shard in the manifest.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import tarfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Optional, Sequence, Union

from PIL import Image
from torch.utils.data import IterableDataset, get_worker_info

PathLike = Union[str, Path]

MANIFEST = "manifest.json"
#: manifest format version, bumped on incompatible changes
MANIFEST_VERSION = 1
#: characters allowed in a sample key (WebDataset splits the member name at the first dot)
_KEY_OK = re.compile(r"[^A-Za-z0-9_\-]+")


class Sample(NamedTuple):
    """One training sample: a grayscale image, its exact text and its meta data."""

    image: Image.Image
    text: str
    meta: dict


def safe_key(text: str) -> str:
    """A sample key made from arbitrary text: no dots, slashes or spaces."""
    key = _KEY_OK.sub("_", text).strip("_")
    if not key:
        raise ValueError(f"cannot make a sample key from {text!r}")
    return key


def read_manifest(out_dir: PathLike) -> dict:
    """The manifest of a shard directory (an empty one if there is none yet)."""
    path = Path(out_dir) / MANIFEST
    if not path.exists():
        return {"version": MANIFEST_VERSION, "shards": [], "completed": {}, "skipped": {}}
    with open(path, encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("version") != MANIFEST_VERSION:
        raise ValueError(f"{path}: manifest version {manifest.get('version')} is not "
                         f"{MANIFEST_VERSION}")
    manifest.setdefault("completed", {})
    manifest.setdefault("skipped", {})
    return manifest


def _write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False, compress_level=6)
    return buf.getvalue()


def _add_member(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(mtime)
    tar.addfile(info, io.BytesIO(data))


class ShardWriter:
    """Writes samples into numbered tar shards and keeps ``manifest.json`` up to date.

    Shards roll over after ``max_samples`` samples or ``max_bytes`` bytes; :meth:`flush` closes
    the current shard early (e.g. at the end of one source PDF, so a source never shares a shard
    with another and an unfinished source can be dropped whole, see :meth:`discard_source`).
    Stale ``*.tar.tmp`` files of an interrupted run are removed when a writer opens the directory.

    Use as a context manager; leaving the block normally commits the open shard, leaving it by
    an exception discards the open shard (nothing half-written reaches the manifest).
    """

    def __init__(self, out_dir: PathLike, prefix: str = "shard", max_samples: int = 2000,
                 max_bytes: int = 256 * 2**20) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", prefix):
            raise ValueError(f"shard prefix must be alphanumeric/_/-, got {prefix!r}")
        self.prefix = prefix
        self.max_samples = max_samples
        self.max_bytes = max_bytes
        for stale in self.out_dir.glob("*.tar.tmp"):
            stale.unlink()
        self.manifest = read_manifest(self.out_dir)
        self._tar: Optional[tarfile.TarFile] = None
        self._tmp_path: Optional[Path] = None
        self._count = 0
        self._bytes = 0
        self._kinds: Counter = Counter()
        self._sources: Counter = Counter()
        self._keys: set[str] = set()
        self._pending_done: dict[str, dict] = {}

    # ------------------------------------------------------------------ writing
    def _next_name(self) -> str:
        used = {s["name"] for s in self.manifest["shards"]}
        used |= {p.name for p in self.out_dir.glob("*.tar")}
        i = 0
        while f"{self.prefix}-{i:06d}.tar" in used:
            i += 1
        return f"{self.prefix}-{i:06d}.tar"

    def _open(self) -> None:
        name = self._next_name()
        self._tmp_path = self.out_dir / (name + ".tmp")
        self._tar = tarfile.open(self._tmp_path, "w", format=tarfile.USTAR_FORMAT)

    def write(self, key: str, image: Image.Image, text: str, meta: Optional[dict] = None) -> None:
        """Add one sample. ``meta`` should hold ``kind`` (e.g. "page", "line") and ``source``.

        Raises:
            ValueError: bad key (dots, slashes) or a key already used in the open shard.
        """
        if safe_key(key) != key:
            raise ValueError(f"sample key {key!r} may hold only letters, digits, '_' and '-'")
        if key in self._keys:
            raise ValueError(f"duplicate sample key {key!r}")
        meta = dict(meta or {})
        meta.setdefault("kind", "unknown")
        meta.setdefault("source", "unknown")
        if self._tar is None:
            self._open()
        png = _png_bytes(image)
        txt = text.encode("utf-8")
        js = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode("utf-8")
        now = time.time()
        for ext, data in (("png", png), ("txt", txt), ("json", js)):
            _add_member(self._tar, f"{key}.{ext}", data, now)
        self._keys.add(key)
        self._count += 1
        self._bytes += len(png) + len(txt) + len(js)
        self._kinds[meta["kind"]] += 1
        self._sources[str(meta["source"])] += 1
        if self._count >= self.max_samples or self._bytes >= self.max_bytes:
            self.flush()

    def mark_done(self, source: str, info: Optional[dict] = None) -> None:
        """Record that ``source`` is complete; committed with the next shard (or :meth:`close`)."""
        self._pending_done[source] = dict(info or {})

    def mark_skipped(self, source: str, reason: str) -> None:
        """Record a source that yields nothing (corrupt, encrypted, no text layer) and why."""
        self.manifest["skipped"][source] = reason
        self._commit_manifest()

    def flush(self) -> None:
        """Close the open shard (if any), rename it into place and commit the manifest."""
        if self._tar is not None:
            self._tar.close()
            final = self._tmp_path.with_name(self._tmp_path.name[:-len(".tmp")])
            with open(self._tmp_path, "rb") as f:
                os.fsync(f.fileno())
            os.replace(self._tmp_path, final)
            self.manifest["shards"].append({
                "name": final.name, "samples": self._count, "bytes": final.stat().st_size,
                "kinds": dict(self._kinds), "sources": sorted(self._sources)})
            self._tar, self._tmp_path = None, None
            self._count, self._bytes = 0, 0
            self._kinds, self._sources, self._keys = Counter(), Counter(), set()
        self._commit_manifest()

    def _commit_manifest(self) -> None:
        self.manifest["completed"].update(self._pending_done)
        self._pending_done = {}
        totals: Counter = Counter()
        for shard in self.manifest["shards"]:
            totals.update(shard["kinds"])
        self.manifest["total_samples"] = sum(s["samples"] for s in self.manifest["shards"])
        self.manifest["kinds"] = dict(totals)
        _write_json_atomic(self.out_dir / MANIFEST, self.manifest)

    def abort(self) -> None:
        """Throw away the open shard and any pending completion marks."""
        if self._tar is not None:
            self._tar.close()
            self._tmp_path.unlink(missing_ok=True)
        self._tar, self._tmp_path = None, None
        self._count, self._bytes = 0, 0
        self._kinds, self._sources, self._keys = Counter(), Counter(), set()
        self._pending_done = {}

    def discard_source(self, source: str) -> int:
        """Delete committed shards that hold only ``source`` (an unfinished earlier attempt).

        Returns:
            The number of shards removed.
        """
        keep, removed = [], 0
        for shard in self.manifest["shards"]:
            if shard["sources"] == [source]:
                removed += 1
            else:
                keep.append(shard)
        if removed:
            gone = [s for s in self.manifest["shards"] if s not in keep]
            self.manifest["shards"] = keep
            self._commit_manifest()  # first forget them, then delete: readers never see a hole
            for shard in gone:
                (self.out_dir / shard["name"]).unlink(missing_ok=True)
        return removed

    def close(self) -> None:
        """Commit the open shard and the manifest."""
        self.flush()

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


# ---------------------------------------------------------------------- reading
def iter_tar(path: PathLike, decode: bool = True) -> Iterator[Sample]:
    """Samples of one shard in stored order (members grouped by key)."""
    group: dict[str, bytes] = {}
    key: Optional[str] = None
    with tarfile.open(path, "r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            base = os.path.basename(member.name)
            k, _, ext = base.partition(".")
            data = tar.extractfile(member).read()
            if key is not None and k != key:
                yield _make_sample(key, group, decode)
                group = {}
            key = k
            group[ext] = data
    if key is not None:
        yield _make_sample(key, group, decode)


def _make_sample(key: str, group: dict[str, bytes], decode: bool) -> Sample:
    missing = {"png", "txt", "json"} - group.keys()
    if missing:
        raise ValueError(f"sample {key!r} lacks {sorted(missing)}")
    meta = json.loads(group["json"].decode("utf-8"))
    meta["key"] = key
    if decode:
        image = Image.open(io.BytesIO(group["png"]))
        image.load()
    else:
        image = group["png"]  # type: ignore[assignment]
    return Sample(image, group["txt"].decode("utf-8"), meta)


def _dist_rank_world() -> tuple[int, int]:
    """(rank, world size) from torch.distributed when initialised, else (0, 1)."""
    try:
        import torch.distributed as dist
    except ImportError:
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _worker_info() -> tuple[int, int]:
    """(worker id, number of workers) of the current DataLoader worker, else (0, 1)."""
    info = get_worker_info()
    return (info.id, info.num_workers) if info is not None else (0, 1)


@dataclass
class _Plan:
    """What one reader (rank x worker) reads in one epoch."""

    shards: list[dict]  # shards to open, in order
    stride: int  # keep every stride-th sample ...
    offset: int  # ... starting at this one (1/0 when whole shards are assigned)
    limit: Optional[int]  # stop after this many samples (equalised lengths), None = all


class ShardDataset(IterableDataset):
    """Streams :class:`Sample` s from shards, split across DDP ranks and DataLoader workers.

    Splitting: with at least as many shards as readers (ranks x workers), whole shards are dealt
    out (shuffled per epoch, then each to the least-loaded reader by sample count); with fewer,
    every reader walks all shards and keeps every n-th sample. Either way readers see disjoint
    samples that together cover the data. ``equalize=True`` caps every reader at the smallest
    reader's count so all DDP ranks yield the same number of samples (DDP hangs otherwise),
    at the cost of a few samples per epoch.

    Order: deterministic for (seed, epoch, ranks, workers): shard order is shuffled per epoch
    and samples pass through a shuffle buffer of ``shuffle_buffer`` (0 = stored order). Call
    :meth:`set_epoch` before each epoch (Lightning: from a callback's ``on_train_epoch_start``).

    Args:
        source: a shard directory (with ``manifest.json``) or an explicit manifest dict.
        kinds: keep only samples whose ``meta["kind"]`` is one of these (None = all).
        transform: applied to each sample inside the worker; returning None drops the sample.
        repeat: iterate forever (fresh epoch order each pass) instead of once.
    """

    def __init__(self, source: Union[PathLike, Sequence[PathLike]], kinds: Optional[Iterable[str]] = None,
                 shuffle_buffer: int = 1000, seed: int = 0,
                 transform: Optional[Callable[[Sample], Any]] = None, equalize: bool = False,
                 repeat: bool = False, rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> None:
        super().__init__()
        dirs = [source] if isinstance(source, (str, Path)) else list(source)
        self.shards: list[dict] = []
        for d in dirs:
            manifest = read_manifest(d)
            for shard in manifest["shards"]:
                self.shards.append({**shard, "path": str(Path(d) / shard["name"])})
        self.kinds = None if kinds is None else frozenset(kinds)
        if self.kinds is not None:
            self.shards = [s for s in self.shards if self.kinds & s["kinds"].keys()]
        if not self.shards:
            raise ValueError(f"no shards with kinds {sorted(self.kinds or [])} in {dirs}")
        self.shuffle_buffer = shuffle_buffer
        self.seed = seed
        self.epoch = 0
        self.transform = transform
        self.equalize = equalize
        self.repeat = repeat
        self._rank, self._world = rank, world_size

    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose (deterministic) order the next iteration follows."""
        self.epoch = epoch

    def _count(self, shard: dict) -> int:
        if self.kinds is None:
            return shard["samples"]
        return sum(n for k, n in shard["kinds"].items() if k in self.kinds)

    def num_samples(self) -> int:
        """Samples per epoch over all ranks and workers (before ``equalize`` trimming).

        Deliberately not ``__len__``: a DataLoader would take it as this rank's length.
        """
        return sum(self._count(s) for s in self.shards)

    def _plan(self, epoch: int, reader: int, n_readers: int) -> _Plan:
        rng = random.Random(f"{self.seed}-{epoch}-shards")
        order = list(self.shards)
        rng.shuffle(order)
        if len(order) >= n_readers:
            loads = [0] * n_readers
            assigned: list[list[dict]] = [[] for _ in range(n_readers)]
            for shard in order:
                target = min(range(n_readers), key=lambda r: (loads[r], r))
                assigned[target].append(shard)
                loads[target] += self._count(shard)
            limit = min(loads) if self.equalize else None
            return _Plan(assigned[reader], 1, 0, limit)
        total = sum(self._count(s) for s in order)
        limit = total // n_readers if self.equalize else None
        return _Plan(order, n_readers, reader, limit)

    def _samples(self, plan: _Plan) -> Iterator[Sample]:
        index = 0
        for shard in plan.shards:
            for sample in iter_tar(shard["path"], decode=False):
                if self.kinds is not None and sample.meta.get("kind") not in self.kinds:
                    continue
                if index % plan.stride == plan.offset:
                    yield sample
                index += 1

    def _decode(self, sample: Sample) -> Sample:
        image = Image.open(io.BytesIO(sample.image))  # type: ignore[arg-type]
        image.load()
        return Sample(image, sample.text, sample.meta)

    def _epoch_iter(self, epoch: int) -> Iterator[Any]:
        rank, world = _dist_rank_world()
        rank = self._rank if self._rank is not None else rank
        world = self._world if self._world is not None else world
        worker, n_workers = _worker_info()
        reader, n_readers = rank * n_workers + worker, world * n_workers
        plan = self._plan(epoch, reader, n_readers)
        rng = random.Random(f"{self.seed}-{epoch}-{reader}-{n_readers}-buffer")
        buffer: list[Sample] = []
        emitted = 0

        def finish(sample: Sample):
            out = self._decode(sample)
            return self.transform(out) if self.transform is not None else out

        stream = self._samples(plan)
        for sample in stream:
            if plan.limit is not None and emitted >= plan.limit:
                return
            if self.shuffle_buffer <= 1:
                out = finish(sample)
            else:
                buffer.append(sample)
                if len(buffer) < self.shuffle_buffer:
                    continue
                i = rng.randrange(len(buffer))
                buffer[i], buffer[-1] = buffer[-1], buffer[i]
                out = finish(buffer.pop())
            emitted += 1
            if out is not None:
                yield out
        rng.shuffle(buffer)
        for sample in buffer:
            if plan.limit is not None and emitted >= plan.limit:
                return
            out = finish(sample)
            emitted += 1
            if out is not None:
                yield out

    def __iter__(self) -> Iterator[Any]:
        epoch = self.epoch
        while True:
            yield from self._epoch_iter(epoch)
            if not self.repeat:
                return
            epoch += 1
