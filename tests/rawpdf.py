"""Hand-written PDF files for tests that need objects no generator makes (a ToUnicode CMap with
surrogate pairs, CCITT / JBIG2 image streams): the objects in, a valid file with its
cross-reference table out."""

from __future__ import annotations

from pathlib import Path


def stream(body: bytes, extra: bytes = b"") -> bytes:
    """A stream object of ``body`` (already encoded); ``extra`` adds dictionary entries."""
    return b"<< /Length %d %s>>\nstream\n" % (len(body), extra) + body + b"\nendstream"


def write_pdf(path: Path, objs: list[bytes]) -> Path:
    """Write ``objs`` as objects 1..n (object 1 the catalog) with their xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path
