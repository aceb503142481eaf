"""The evaluation dev set: real digital PDF pages from Debian documentation packages.

Why this design:

* **Real pages, exact ground truth.** Typeset manuals and papers carry their text in the PDF's text
  layer, so a page whose layer passes :func:`page_ok` is a labelled OCR example for free.
* **Self-contained and reproducible.** Each chosen page is stored as a one-page PDF (fonts and all),
  with its ground-truth text and a scan-degraded 150-DPI image, so evaluation needs nothing but the
  repository. :func:`build` recreates everything from the Debian packages with a fixed seed.
* **Independent of training.** The packages are listed in ``data/devset/packages.txt`` so training
  data avoids them, and none is reserved for the final independent evaluation
  (:data:`RESERVED_PACKAGES`).

Layout of ``data/devset/``: ``manifest.jsonl`` (one row per page), ``pages/<id>.pdf``,
``gt/<id>.txt``, ``scans/<id>.jpg``, ``packages.txt``, ``build.py``.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Union

PathLike = Union[str, Path]

#: the repository's dev set
DEFAULT_DEV_DIR = Path(__file__).resolve().parents[2] / "data" / "devset"
#: packages kept for the project's independent evaluation: never used for the dev set or training
RESERVED_PACKAGES = ("r-doc-pdf", "pari-doc", "glpk-doc", "hmmer-doc", "infernal-doc",
                     "python-reportlab-doc", "why3-doc-pdf", "nauty-doc")
RESERVED_PATTERN = re.compile(r"^texlive-.*-doc$")
#: resolution of the rendered and scanned pages (the benchmark's DPI)
DPI = 150
#: JPEG quality of the stored scans: low enough for the size budget, high enough that the
#: degradation (not the storage) dominates
SCAN_JPEG_QUALITY = 60
#: strength passed to ``docencoder.data.degrade.degrade``
DEGRADE_STRENGTH = 1.0


def is_reserved(package: str) -> bool:
    """True for a package reserved for independent evaluation."""
    return package in RESERVED_PACKAGES or bool(RESERVED_PATTERN.match(package))


@dataclass(frozen=True)
class Source:
    """One PDF inside a Debian package and how many of its pages to take."""

    package: str
    path: str  # path inside the package (``.gz`` is decompressed)
    licence: str
    layout: str  # "1col", "2col", "3col" (as typeset)
    pages: int  # pages to sample among those that pass the quality check
    kind: str = "manual"  # manual | paper | refcard | journal
    #: 1-based pages to take (each must pass the check) instead of a random sample
    page_numbers: tuple[int, ...] = ()


#: what the dev set is made of (see packages.txt for the package descriptions)
SOURCES: tuple[Source, ...] = (
    Source("asymptote-doc", "usr/share/doc/asymptote/asymptote.pdf", "GPL-3+", "1col", 7),
    Source("asymptote-doc", "usr/share/doc/asymptote/CAD.pdf", "GPL-3+", "1col", 2, "paper"),
    Source("asymptote-doc", "usr/share/doc/asymptote/asyRefCard.pdf", "GPL-3+", "2col", 3,
           "refcard"),
    Source("normaliz-doc", "usr/share/doc/normaliz/Normaliz.pdf", "GPL-3+", "1col", 7),
    Source("mrbayes-doc", "usr/share/doc/mrbayes/Manual_MrBayes_v3.2.pdf", "GPL-2+", "1col", 6),
    Source("freefem-doc", "usr/share/doc/freefem-doc/freefem.pdf", "GPL-2+", "1col", 4),
    Source("camlidl-doc", "usr/share/doc/camlidl/camlidl-1.04.doc.pdf", "LGPL-2+", "1col", 4),
    Source("gri-pdf-doc", "usr/share/doc/gri/gri.pdf.gz", "GPL-3+", "1col", 6),
)

# page quality thresholds (beyond docencoder.pdf.trust.text_layer_quality)
#: a page with fewer visible characters is mostly white space or a figure
MIN_VISIBLE_CHARS = 400
#: more dot-leader lines than this marks a table of contents or an index
MAX_DOT_LEADERS = 3
#: a dot leader: a run of (possibly spaced) dots ending a line with a page number
_DOT_LEADER = re.compile(r"(?:\.\s?){4,}\s*[0-9ivxlc]+\s*$", re.MULTILINE)
#: raster images covering more than this share of the page may hold text the layer lacks
MAX_IMAGE_AREA = 0.05


@dataclass
class DevPage:
    """One row of ``manifest.jsonl``."""

    id: str
    doc: str  # = id: each page is its own one-page document
    page: int  # always 1 (the one-page PDF's page number)
    package: str
    version: str
    source_file: str
    source_page: int  # 1-based page in the source PDF
    licence: str
    layout: str
    kind: str
    pdf: str  # paths relative to the dev-set folder
    gt: str
    scan: str
    chars: int
    extra: dict = field(default_factory=dict)
    #: scan-like inputs beyond the clean page, name -> path (``{"scan": "scans/<id>.pdf",
    #: "harsh": "harsh/<id>.pdf"}`` in data/devset_wp); empty for data/devset, whose one
    #: degraded input is ``scan`` (a JPEG)
    variants: dict = field(default_factory=dict)

    def inputs(self) -> dict[str, str]:
        """Every input of this page, variant name -> path relative to the dev set: ``clean`` is
        the page PDF; ``degraded`` the stored scan image of a set without ``variants``."""
        if self.variants:
            return {"clean": self.pdf, **self.variants}
        return {"clean": self.pdf, "degraded": self.scan}


def load_manifest(dev_dir: PathLike = DEFAULT_DEV_DIR) -> list[DevPage]:
    """The dev set's pages, in manifest order.

    Raises:
        FileNotFoundError: no ``manifest.jsonl`` in ``dev_dir`` (build it with ``build.py``).
    """
    path = Path(dev_dir) / "manifest.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; build the dev set with data/devset/build.py")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [DevPage(**row) for row in rows]


# --- building -----------------------------------------------------------------------------------


def _run(cmd: list[str], cwd: Optional[Path] = None) -> str:
    out = subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    return out.stdout


def fetch_package(package: str, cache: Path) -> tuple[Path, str]:
    """Download (``apt-get download``) and unpack (``dpkg -x``) a package; cached.

    Returns:
        (the unpacked root, the package version).
    """
    if is_reserved(package):
        raise ValueError(f"{package} is reserved for independent evaluation")
    cache.mkdir(parents=True, exist_ok=True)
    debs = sorted(cache.glob(f"{package}_*.deb"))
    if not debs:
        _run(["apt-get", "download", package], cwd=cache)
        debs = sorted(cache.glob(f"{package}_*.deb"))
    if not debs:
        raise RuntimeError(f"apt-get download {package} produced no .deb in {cache}")
    deb = debs[-1]
    version = _run(["dpkg-deb", "-f", str(deb), "Version"]).strip()
    root = cache / "x" / package
    if not root.is_dir():
        root.parent.mkdir(parents=True, exist_ok=True)
        _run(["dpkg", "-x", str(deb), str(root)])
    return root, version


def _source_pdf(root: Path, source: Source, cache: Path) -> Path:
    path = root / source.path
    if not path.exists():
        raise FileNotFoundError(f"{source.path} not in package {source.package}")
    if path.suffix != ".gz":
        return path
    out = cache / "pdf" / source.package / Path(source.path).stem
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "rb") as f_in, out.open("wb") as f_out:
            shutil.copyfileobj(f_in, f_out)
    return out


def _image_area_fraction(page) -> float:
    """Share of the page covered by raster image objects (bounding boxes, capped at 1)."""
    import pypdfium2.raw as raw

    w, h = page.get_size()
    area = 0.0
    for obj in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):
        left, bottom, right, top = obj.get_pos()
        area += max(0.0, right - left) * max(0.0, top - bottom)
    return min(1.0, area / max(w * h, 1e-6))


def page_ok(pdf, index: int) -> tuple[bool, str, str]:
    """Whether page ``index`` of an open PDF makes a trustworthy dev-set page.

    Returns:
        (ok, reason, page text).
    """
    from docencoder.pdf.textlayer import read_page
    from docencoder.pdf.trust import text_layer_quality

    layout = read_page(pdf, index)
    text = layout.text
    ok, reason = text_layer_quality(text)
    if not ok:
        return False, reason, text
    visible = sum(1 for c in text if not c.isspace())
    if visible < MIN_VISIBLE_CHARS:
        return False, f"only {visible} visible characters", text
    if len(_DOT_LEADER.findall(text)) > MAX_DOT_LEADERS:
        return False, "dot leaders (table of contents or index)", text
    if layout.n_rotated or layout.n_invisible:
        return False, "rotated or invisible text", text
    page = pdf[index]
    try:
        image_area = _image_area_fraction(page)
    finally:
        page.close()
    if image_area > MAX_IMAGE_AREA:
        return False, f"raster images cover {image_area:.0%} of the page", text
    return True, "ok", text


def _page_id(source: Source, page_number: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(source.path).name.removesuffix(".gz")
                  .removesuffix(".pdf")).strip("-").lower()
    return f"{source.package}--{stem}--p{page_number:03d}"


def choose_pages(pdf, source: Source, seed: int) -> list[tuple[int, str]]:
    """Deterministic sample of ``source.pages`` good pages: [(0-based index, text)], in order.

    With ``source.page_numbers`` those pages are taken instead; one that fails the check is
    left out (the caller warns when fewer than ``source.pages`` come back).
    """
    if source.page_numbers:
        named = [(n - 1, page_ok(pdf, n - 1)) for n in source.page_numbers if n <= len(pdf)]
        return [(index, text) for index, (ok, _, text) in named if ok]
    rng = random.Random(f"{seed}:{source.package}:{source.path}")
    order = list(range(len(pdf)))
    rng.shuffle(order)
    chosen: list[tuple[int, str]] = []
    for index in order:
        ok, _, text = page_ok(pdf, index)
        if ok:
            chosen.append((index, text))
            if len(chosen) == source.pages:
                break
    return sorted(chosen)


def extract_page(pdf, index: int, out: Path) -> None:
    """Save page ``index`` of an open PDF as a one-page PDF (fonts and resources included)."""
    import pypdfium2 as pdfium

    from docencoder.data.scan import save_pdf

    single = pdfium.PdfDocument.new()
    try:
        single.import_pages(pdf, [index])
        out.parent.mkdir(parents=True, exist_ok=True)
        save_pdf(single, out)  # fixed date and ID: a rebuild gives the same bytes
    finally:
        single.close()


def render(pdf_path: PathLike, dpi: int = DPI):
    """The first page of a PDF as a grayscale PIL image at ``dpi``, rendered as the CLI renders
    it (:func:`docencoder.pdf.render.render_page`).

    The scans in ``data/devset/scans`` were made before the switch from poppler and are kept as
    they are; a rebuild would differ from them by anti-aliasing only.
    """
    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.render import render_page

    doc = open_pdf(pdf_path)
    try:
        return render_page(doc, 0, dpi)
    finally:
        doc.close()


def scan_image(pdf_path: PathLike, page_id: str, seed: int, dpi: int = DPI):
    """A scan-like version of a one-page PDF: rendered at ``dpi``, then degraded (seeded by id)."""
    from docencoder.data.degrade import degrade

    img = render(pdf_path, dpi)
    return degrade(img, random.Random(f"{seed}:scan:{page_id}"), strength=DEGRADE_STRENGTH)



def extract_pages(source: Source, dev_dir: Path, cache: Path, seed: int, log=print):
    """The chosen pages of ``source`` as one-page PDFs in ``dev_dir/pages``, one at a time.

    Yields ``(page_id, index, pdf_out, gt, version)``: ``index`` is the 0-based page of the source
    PDF, ``gt`` the one-page PDF's text layer (checked equal to the source page's), ``version`` the
    Debian package's. Shared by both dev sets' builds, so a page is chosen and checked one way.
    """
    from docencoder.pdf.document import open_pdf
    from docencoder.pdf.textlayer import page_text

    root, version = fetch_package(source.package, cache)
    pdf = open_pdf(_source_pdf(root, source, cache))
    try:
        chosen = choose_pages(pdf, source, seed)
        if len(chosen) < source.pages:
            log(f"warning: {source.path}: only {len(chosen)} good pages of {source.pages}")
        for index, text in chosen:
            page_id = _page_id(source, index + 1)
            pdf_out = dev_dir / "pages" / f"{page_id}.pdf"
            extract_page(pdf, index, pdf_out)
            gt = page_text(pdf_out, 0)
            if gt != text:
                raise RuntimeError(f"{page_id}: text layer changed when extracting the page")
            yield page_id, index, pdf_out, gt, version
    finally:
        pdf.close()

def build(dev_dir: PathLike = DEFAULT_DEV_DIR, cache: Optional[PathLike] = None, seed: int = 0,
          sources: Iterable[Source] = SOURCES, log=print) -> list[DevPage]:
    """Build the dev set into ``dev_dir`` (replacing pages/, gt/, scans/ and manifest.jsonl).

    Args:
        dev_dir: output folder.
        cache: where packages are downloaded and unpacked (default ``data/cache/devset``).
        seed: page-choice and degradation seed.
        sources: the PDFs to sample.
        log: progress printer.

    Returns:
        The manifest rows written.
    """
    dev_dir = Path(dev_dir)
    cache = Path(cache) if cache else dev_dir.parents[0] / "cache" / "devset"
    for sub in ("pages", "gt", "scans"):
        shutil.rmtree(dev_dir / sub, ignore_errors=True)
        (dev_dir / sub).mkdir(parents=True)
    rows: list[DevPage] = []
    for source in sources:
        for page_id, index, pdf_out, gt, version in extract_pages(source, dev_dir, cache, seed, log):
            (dev_dir / "gt" / f"{page_id}.txt").write_text(gt, encoding="utf-8")
            scan = scan_image(pdf_out, page_id, seed)
            scan.save(dev_dir / "scans" / f"{page_id}.jpg", quality=SCAN_JPEG_QUALITY,
                      optimize=True)
            rows.append(DevPage(
                id=page_id, doc=page_id, page=1, package=source.package, version=version,
                source_file=source.path, source_page=index + 1, licence=source.licence,
                layout=source.layout, kind=source.kind, pdf=f"pages/{page_id}.pdf",
                gt=f"gt/{page_id}.txt", scan=f"scans/{page_id}.jpg",
                chars=sum(1 for c in gt if not c.isspace())))
            log(f"{page_id}: {rows[-1].chars} characters")
    with (dev_dir / "manifest.jsonl").open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
    return rows
