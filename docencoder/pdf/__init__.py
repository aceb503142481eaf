"""PDF reading, below both :mod:`docencoder.ocr` (the CLI) and :mod:`docencoder.data` (training).

One place opens PDFs (:mod:`.document`), renders pages (:mod:`.render`, pypdfium2: chosen by
``scripts/render_bench.py``), reads the text layer in the displayed frame (:mod:`.textlayer`) and
decides whether that text can be trusted (:mod:`.trust`), so the training data, the benchmarks
and the CLI see the same pixels and the same text. It imports no other layer of the package.
"""
