"""Generated documents written as tar shards (``docencoder data synth-pdf``).

One shard source per document (:func:`.samples.source_name`), marked done in the manifest after
its last sample, so an interrupted run resumes at the first unfinished document and produces the
same shards as one uninterrupted run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence, Union

from .config import PdfGenConfig
from .samples import GENERATOR, PdfGenerator, source_name

PathLike = Union[str, Path]


def synth_to_shards(out_dir: PathLike, n_docs: int, seed: int = 0,
                    paragraphs: Optional[Sequence[str]] = None, cfg: Optional[PdfGenConfig] = None,
                    kinds: Sequence[str] = ("page", "line"), progress: bool = False) -> dict[str, int]:
    """Write ``n_docs`` generated documents' samples as shards; resumable per document.

    Args:
        out_dir: the shard directory (created; an existing manifest is resumed).
        n_docs: documents ``seed`` ... ``seed + n_docs - 1``.
        seed: the first document's seed; also names the shards (``pdfgen-<seed>-NNNNNN.tar``).
        paragraphs: prose to draw from (default: the project corpus).
        cfg: sampling ranges.
        kinds: sample kinds to cut ("page", "block", "line").
        progress: draw a tqdm bar over the documents still to make, on stderr.

    Returns:
        Counts: ``documents`` made, samples per kind, ``skipped_documents`` (done before).
    """
    from tqdm import tqdm

    from ..shards import ShardWriter, safe_key

    gen = PdfGenerator(paragraphs, cfg, seed, kinds)
    counts = {"documents": 0, "page": 0, "line": 0, "skipped_documents": 0}
    with ShardWriter(out_dir, prefix=f"{GENERATOR}-{seed}") as writer:
        todo = [i for i in range(n_docs) if source_name(seed + i) not in writer.manifest["completed"]]
        counts["skipped_documents"] = n_docs - len(todo)
        for i in tqdm(todo, desc="synth-pdf", unit="doc", file=sys.stderr, dynamic_ncols=True,
                      disable=not progress):
            source = source_name(seed + i)
            for k, sample in enumerate(gen.document(i)):
                key = safe_key(f"{source}-{sample.meta.get('page', 0):03d}-{k:04d}")
                writer.write(key, sample.image, sample.text, {**sample.meta, "kind": sample.kind})
                counts[sample.kind] = counts.get(sample.kind, 0) + 1
            writer.mark_done(source)
            counts["documents"] += 1
    return counts
