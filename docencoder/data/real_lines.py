"""Line samples from real PDFs (shards written by ``docencoder data from-pdfs``) as a random-access
source for the line data module, so mixing real lines keeps batches a pure function of the seed."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Sequence

from PIL import Image

from .lines import LINE_HEIGHT, LINE_WIDTH, sample_words
from .shards import iter_tar, read_manifest
from .tokenizer import normalize_text


class ShardLineSource:
    """All ``kind == "line"`` samples of some shard directories, held as PNG bytes in memory.

    :meth:`sample` draws a line and a run of its words that fits the geometry
    (:func:`lines.sample_words`); lines whose word gaps cannot be aligned to the label are redrawn.
    """

    def __init__(self, dirs: Sequence[str | Path], height: int = LINE_HEIGHT, width: int = LINE_WIDTH) -> None:
        self.height, self.width = height, width
        self.items: list[tuple[bytes, str]] = []
        for d in dirs:
            manifest = read_manifest(d)
            for shard in manifest["shards"]:
                name = shard["name"] if isinstance(shard, dict) else shard
                for s in iter_tar(Path(d) / name, decode=False):
                    if s.meta.get("kind") == "line" and s.text.strip():
                        self.items.append((s.image, normalize_text(s.text)))  # type: ignore[arg-type]
        if not self.items:
            raise ValueError(f"no line samples in {list(dirs)}")

    def __len__(self) -> int:
        return len(self.items)

    def sample(self, rng: random.Random) -> tuple[Image.Image, str]:
        for _ in range(50):
            png, text = self.items[rng.randrange(len(self.items))]
            got = sample_words(Image.open(io.BytesIO(png)), text, rng, self.height, self.width)
            if got is not None:
                return got
        raise RuntimeError("could not align any real line to its label in 50 draws")
