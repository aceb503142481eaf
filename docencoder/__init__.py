"""docencoder: an open, trainable DeepSeek-OCR-style document OCR model and batch PDF pipeline."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["OCR", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so `import docencoder` stays cheap and the model layer never imports the OCR layer.
    if name == "OCR":
        from docencoder.ocr.api import OCR
        return OCR
    raise AttributeError(name)
