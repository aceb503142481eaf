"""The batch OCR pipeline: PDFs and images in, per-page JSONL + markdown out.

Modules, in the order a page goes through them: :mod:`.pages` (inputs, page ranges, rendering),
:mod:`.layout` (text lines and blocks in reading order), :mod:`.reader` (the model: line and page
paths), :mod:`.results` (page records, failures, summaries, the errors that stop a run),
:mod:`.writers` (crash-safe JSONL/markdown/error log), :mod:`.api` (the :class:`OCR` class and
its settings), :mod:`.jobs` (worker processes) and :mod:`.commands` (``docencoder ocr``: options,
progress bar, printed summary).
:mod:`.samples` makes whitepaper-like PDFs with known text for tests and the quickstart.

Nothing heavy is imported here: ``from docencoder import OCR`` loads :mod:`.api` lazily.
"""
