"""Rebuild data/corpus/corpus.txt.gz from Debian packages, offline and reproducibly.

    python data/corpus/build.py            # downloads the .debs with apt-get into data/cache/

Sources (see docencoder/data/corpus.py): python3.11-doc (PSF licence), manpages and manpages-dev
(the Linux man-pages project's permissive licences). None is a reserved evaluation package.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docencoder.data.corpus import CORPUS_PACKAGES, DEFAULT_CORPUS, build_corpus, extract

CACHE = Path(__file__).resolve().parents[1] / "cache"


def main() -> int:
    debs, root = CACHE / "debs", CACHE / "root"
    debs.mkdir(parents=True, exist_ok=True)
    for pkg in CORPUS_PACKAGES:
        if not list(debs.glob(f"{pkg}_*.deb")):
            subprocess.run(["apt-get", "download", pkg], cwd=debs, check=True)
    for deb in sorted(debs.glob("*.deb")):
        if deb.name.split("_")[0] in CORPUS_PACKAGES:
            print("using", deb.name)
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    counts = build_corpus(extract(root), DEFAULT_CORPUS)
    print("paragraphs per source:", counts, "->", DEFAULT_CORPUS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
