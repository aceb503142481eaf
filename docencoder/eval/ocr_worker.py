"""Run docencoder over page images in a process of its own, for the benchmark.

    python -m docencoder.eval.ocr_worker SPEC.json RESULT.json

A separate process makes the peak memory (max RSS) and the time of model loading docencoder's own,
not the benchmark's. ``SPEC.json``: ``{"model": dir or null, "batch_size": int or null, "dpi": int,
"threads": int or null, "quantize": str or null, "sync": null or {"dir", "index", "count"},
"inputs": [{"key": str, "path": image or PDF}, ...]}``. ``RESULT.json``: ``{"load_s": float,
"wall_s": float, "mode": str, "quantize": resolved mode or null, "threads": torch threads or
null, "pages": [{"key", "text", "seconds", "vision_tokens", "error"}],
"max_rss_kb": int}``.

Several workers share one page list the way Tesseract's page processes do (``sync``): each loads
the model, waits until all have (so loading never overlaps another worker's pages), then claims
pages one at a time with an exclusive file create in ``sync.dir`` until none is left. ``wall_s``
is the page phase of this worker, from that common start to its last page.

docencoder is used through its Python API (``docencoder.OCR(...).read(path, dpi=..,
text_layer="never")``). If the API cannot read an image file directly, the image is wrapped in a
one-page PDF at the same DPI, so the pixels docencoder sees are the ones Tesseract sees.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Optional

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")
#: what builds the OCR object: docencoder's public API
DEFAULT_FACTORY = "docencoder:OCR"
#: longest a loaded worker waits for the others to load
SYNC_TIMEOUT_S = 600.0
_SYNC_POLL_S = 0.005


def image_to_pdf(image: Path, out: Path, dpi: int) -> Path:
    """Wrap an image in a one-page PDF whose page size makes ``dpi`` reproduce its pixels."""
    from PIL import Image

    with Image.open(image) as im:
        im.convert("L").save(out, format="PDF", resolution=float(dpi))
    return out


def _field(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def page_results(result: Any) -> list[Any]:
    """The per-page items of whatever ``OCR.read`` returned (a document, list, or single page)."""
    if isinstance(result, str):
        return [result]
    pages = _field(result, "pages")
    if pages is not None:
        return list(pages)
    if isinstance(result, (list, tuple)):
        return list(result)
    return [result]


def page_text(page: Any) -> str:
    """The text of one page item (a string, or anything with ``text``/``markdown``)."""
    if isinstance(page, str):
        return page
    for name in ("text", "markdown"):
        value = _field(page, name)
        if isinstance(value, str):
            return value
    raise TypeError(f"cannot find the text of an OCR result of type {type(page).__name__}")


def vision_tokens(page: Any) -> Optional[int]:
    """Vision tokens the model spent on a page, if the result reports them."""
    for name in ("vision_tokens", "n_vision_tokens"):
        value = _field(page, name)
        if isinstance(value, int):
            return value
    return None


def _peak_kb() -> int:
    """This process's own peak RSS in kB (``VmHWM``; ``ru_maxrss`` would include the parent's)."""
    from docencoder.eval.tesseract import vm_hwm_kb

    return vm_hwm_kb() or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def load_factory(name: str):
    """``"package.module:attr"`` -> the callable that builds the OCR object."""
    import importlib

    module, _, attr = name.partition(":")
    if not attr:
        raise ValueError(f"OCR factory {name!r} is not of the form module:attr")
    return getattr(importlib.import_module(module), attr)


class PageClaims:
    """The share of a page list one of ``count`` workers takes: pages are claimed one at a time
    (an exclusive create of ``<dir>/<n>.claim``), so a fast worker takes more, as in a pool."""

    def __init__(self, sync: Optional[dict]) -> None:
        self.dir = Path(sync["dir"]) if sync else None
        self.index = int(sync["index"]) if sync else 0
        self.count = int(sync["count"]) if sync else 1

    def ready(self) -> None:
        """Say this worker is loaded (or failed to load) and wait until every worker is."""
        if self.dir is None:
            return
        (self.dir / f"ready-{self.index}").touch()
        deadline = time.monotonic() + SYNC_TIMEOUT_S
        while (len(list(self.dir.glob("ready-*"))) < self.count
               and time.monotonic() < deadline):
            time.sleep(_SYNC_POLL_S)

    def take(self, n: int) -> bool:
        """True if page ``n`` is this worker's (always, without ``sync``)."""
        if self.dir is None:
            return True
        try:
            os.close(os.open(self.dir / f"{n}.claim", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return False
        return True


def _spent_vision_tokens(ocr: Any) -> Optional[int]:
    """Vision tokens the OCR object's model has encoded so far, if it counts them."""
    value = getattr(getattr(ocr, "reader", None), "vision_tokens", None)
    return value if isinstance(value, int) else None


def build(spec: dict) -> Any:
    """The OCR object of ``spec`` with its model loaded (docencoder loads lazily)."""
    OCR = load_factory(spec.get("factory") or DEFAULT_FACTORY)  # noqa: N806 (a class)

    kwargs: dict[str, Any] = {}
    if spec.get("batch_size"):
        kwargs["batch_size"] = int(spec["batch_size"])
    if spec.get("model"):
        kwargs["model_dir"] = spec["model"]
    if spec.get("quantize"):
        kwargs["quantize"] = spec["quantize"]
    ocr = OCR(**kwargs)
    getattr(ocr, "reader", None)
    return ocr


def run(spec: dict) -> dict:
    """Load the model once, then OCR every input (of this worker's share); errors per page."""
    threads = None
    if spec.get("threads"):
        import torch

        torch.set_num_threads(int(spec["threads"]))
        threads = torch.get_num_threads()
    claims = PageClaims(spec.get("sync"))
    dpi = int(spec.get("dpi", 150))
    start = time.perf_counter()
    try:
        ocr = build(spec)
        load_s = time.perf_counter() - start
    finally:
        claims.ready()  # a worker that cannot load must not keep the others waiting
    mode = "image"
    pages = []
    phase = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for n, item in enumerate(spec["inputs"]):
            if not claims.take(n):
                continue
            path = Path(item["path"])
            spent = _spent_vision_tokens(ocr)
            t0 = time.perf_counter()
            try:
                if path.suffix.lower() in _IMAGE_SUFFIXES and mode == "pdf":
                    path = image_to_pdf(path, Path(tmp) / f"{path.stem}.pdf", dpi)
                try:
                    result = ocr.read(str(path), dpi=dpi, text_layer="never")
                except (ValueError, TypeError, OSError):
                    if path.suffix.lower() not in _IMAGE_SUFFIXES:
                        raise
                    mode = "pdf"  # the API reads PDFs only: wrap images from now on
                    t0 = time.perf_counter()
                    path = image_to_pdf(path, Path(tmp) / f"{path.stem}.pdf", dpi)
                    result = ocr.read(str(path), dpi=dpi, text_layer="never")
                items = page_results(result)
                text = "\n\n".join(page_text(p) for p in items)
                tokens = [vision_tokens(p) for p in items]
                seconds = time.perf_counter() - t0
                after = _spent_vision_tokens(ocr)
                if spent is not None and after is not None:
                    tokens = [after - spent]  # what the reader encoded for this page
                pages.append({"key": item["key"], "text": text, "seconds": seconds,
                              "vision_tokens": sum(tokens) if None not in tokens else None,
                              "error": None})
            except Exception as e:  # one bad page is reported, the rest still run
                pages.append({"key": item["key"], "text": "", "seconds": time.perf_counter() - t0,
                              "vision_tokens": None,
                              "error": f"{type(e).__name__}: {e}"})
    return {"load_s": load_s, "wall_s": time.perf_counter() - phase, "mode": mode,
            "quantize": getattr(getattr(ocr, "reader", None), "quantize", None),
            "threads": threads,
            "pages": pages, "max_rss_kb": _peak_kb()}


def main(argv: Optional[list[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    spec = json.loads(Path(argv[0]).read_text())
    try:
        result = run(spec)
    except Exception as e:  # model cannot load: report, don't crash the benchmark
        result = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc(),
                  "pages": [], "max_rss_kb": _peak_kb()}
    Path(argv[1]).write_text(json.dumps(result))
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(main())
