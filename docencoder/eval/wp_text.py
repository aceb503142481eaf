"""Text for the typeset dev-set papers: Debian package descriptions, maintainer names, zone cities.

Why this text: the typeset pages must hold words the model cannot guess from its training text
(Python's documentation and the Linux man pages, ``data/corpus``) — chemistry and biology terms,
program names, surnames, places, URLs, version numbers — because that is where it fails on users'
papers (issue 15). Debian's long package descriptions of the science, mathematics, electronics,
amateur-radio and GNU R sections are real technical prose full of exactly those; the maintainer
field gives first names and surnames from many languages; tzdata gives city names.

**This text is reserved for evaluation**: no training data may use Debian package descriptions
(``Translation-en`` / ``apt-cache show`` text). It is read once into a small snapshot,
``data/devset_wp/text/pool.json.gz`` (:func:`refresh_pool`), so the dev set rebuilds
deterministically without apt; names are recombined (a first name of one maintainer with the
surname of another), so no author of a typeset paper is a real person.
"""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Optional, Union

PathLike = Union[str, Path]
#: Debian archive sections whose descriptions are used
SECTIONS = ("science", "math", "electronics", "hamradio", "gnu-r")
#: a description shorter than this (characters of its long part) says too little
MIN_DESCRIPTION_CHARS = 350
#: descriptions kept in the snapshot (enough for ~15 papers of ~2 pages without repeats)
POOL_DESCRIPTIONS = 700
#: names kept in the snapshot (first names, surnames) and cities
POOL_NAMES = 600
#: where apt keeps the English descriptions (``apt-get update -o Acquire::Languages=en``)
APT_LISTS = Path("/var/lib/apt/lists")
#: characters pdfLaTeX (T1, utf8 input) sets without extra packages: ASCII, Latin-1 and
#: typographic quotes and dashes; a description holding any other is skipped
_SAFE = re.compile("^[\x20-\x7e\u00c0-\u00ff\u2018\u2019\u201c\u201d\u2013\u2014\n]*$")
#: maintainer "names" that are teams, not people
_NOT_A_PERSON = re.compile(r"team|maintainers|project|debian|group|packag|list|qa|developers|"
                           r"community|contributors|\bthe\b", re.IGNORECASE)


@dataclass
class Description:
    """One package's entry: what the papers' prose, tables and references are built from."""

    package: str
    section: str
    version: str
    installed_size: int  # kB
    homepage: str
    short: str
    paragraphs: list[str]  # the long description's paragraphs, bullets joined as sentences


@dataclass
class TextPool:
    """The snapshot: descriptions, name parts and places (all sorted, deduplicated)."""

    source: str  # where the descriptions came from (distribution, file names)
    descriptions: list[Description]
    first_names: list[str]
    surnames: list[str]
    places: list[str]
    excluded_packages: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> "TextPool":
        d = dict(d)
        d["descriptions"] = [Description(**x) for x in d["descriptions"]]
        return cls(**d)


def load_pool(path: PathLike) -> TextPool:
    """Read a snapshot written by :func:`refresh_pool`."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return TextPool.from_json(json.load(f))


def save_pool(pool: TextPool, path: PathLike) -> None:
    """Write a snapshot deterministically (gzip without a timestamp, sorted keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(pool.to_json(), ensure_ascii=False, sort_keys=True, indent=0)
    with path.open("wb") as raw_f, gzip.GzipFile(fileobj=raw_f, mode="wb", mtime=0) as f:
        f.write(data.encode("utf-8"))


# --- reading apt's files ------------------------------------------------------------------------


def _stanzas(text: str) -> Iterator[dict[str, str]]:
    """deb822 stanzas as {field: value} (continuation lines kept with their newlines)."""
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            yield fields


def long_paragraphs(value: str) -> tuple[str, list[str]]:
    """(short description, long paragraphs) of a ``Description-en`` value.

    Lines of one paragraph are joined; `` .`` lines separate paragraphs; a bullet list becomes one
    paragraph of ``;``-separated items, which reads as prose when typeset.
    """
    lines = value.split("\n")
    short, body = lines[0].strip(), lines[1:]
    paras: list[list[str]] = [[]]
    for line in body:
        s = line.strip()
        if s == ".":
            paras.append([])
        elif s:
            paras[-1].append(s)
    out = []
    for p in paras:
        items = [re.sub(r"^[*+\-o] +", "", s) for s in p]
        if len(items) > 1 and all(re.match(r"^[*+\-o] ", s) for s in p):
            text = "; ".join(i.rstrip(";,.") for i in items) + "."
        else:
            text = " ".join(items)
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            out.append(text)
    return short, out


def split_person(maintainer: str) -> Optional[tuple[str, str]]:
    """(first name, surname) of a ``Maintainer`` value that names one person, else None."""
    name = maintainer.split("<")[0].strip().strip('"')
    if not name or _NOT_A_PERSON.search(name) or not _SAFE.match(name):
        return None
    parts = [p for p in name.split() if p.replace("-", "").replace("'", "").isalpha()]
    if len(parts) < 2 or not parts[0][0].isupper() or not parts[-1][0].isupper():
        return None
    if len(parts[0]) < 2 or len(parts[-1]) < 2:
        return None
    return parts[0], parts[-1]


def _read_lz4(path: Path) -> str:
    return subprocess.run(["lz4", "-dc", str(path)], check=True, capture_output=True).stdout.decode(
        "utf-8", errors="replace")


def zone_places(root: PathLike = "/usr/share/zoneinfo") -> list[str]:
    """City names of tzdata's zones (``America/Port_of_Spain`` -> ``Port of Spain``)."""
    root = Path(root)
    places = set()
    for region in ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian",
                   "Pacific", "Antarctica"):
        for p in (root / region).rglob("*"):
            if p.is_file():
                name = p.name.replace("_", " ")
                if name.isascii() and name[0].isupper() and "GMT" not in name:
                    places.add(name)
    return sorted(places)


def refresh_pool(out: PathLike, excluded: Iterable[str], seed: int = 0,
                 lists: PathLike = APT_LISTS, log=print) -> TextPool:
    """Read apt's package lists into a snapshot (the only step that needs apt).

    Needs ``apt-get update -o Acquire::Languages=en`` once (for ``Translation-en``).

    Args:
        out: the snapshot path (``.json.gz``).
        excluded: packages whose text must not appear (training and dev-set sources).
        seed: which descriptions and names are sampled.
        lists: apt's lists folder.
    """
    lists = Path(lists)
    translations = sorted(lists.glob("*_main_i18n_Translation-en*"))
    if not translations:
        raise FileNotFoundError(f"no Translation-en in {lists}: run "
                                "apt-get update -o Acquire::Languages=en")
    excluded = set(excluded)
    meta: dict[str, dict[str, str]] = {}  # Description-md5 -> Packages fields
    people: set[tuple[str, str]] = set()
    dump = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True).stdout
    for st in _stanzas(dump.decode("utf-8", errors="replace")):
        person = split_person(st.get("Maintainer", ""))
        if person:
            people.add(person)
        md5 = st.get("Description-md5")
        if md5 and st.get("Section", "").split("/")[-1] in SECTIONS and md5 not in meta:
            meta[md5] = st
    descriptions: dict[str, Description] = {}
    for path in translations:
        for st in _stanzas(_read_lz4(path)):
            md5, value, package = st.get("Description-md5"), st.get("Description-en"), st.get(
                "Package", "")
            fields = meta.get(md5 or "")
            if not fields or not value or package in excluded or md5 in descriptions:
                continue
            if package.endswith(("-doc", "-dbg", "-dev", "-data")) or not _SAFE.match(value):
                continue
            short, paras = long_paragraphs(value)
            if sum(len(p) for p in paras) < MIN_DESCRIPTION_CHARS:
                continue
            size = fields.get("Installed-Size", "0")
            descriptions[md5] = Description(
                package=package, section=fields.get("Section", "").split("/")[-1],
                version=fields.get("Version", ""), installed_size=int(size) if size.isdigit() else 0,
                homepage=fields.get("Homepage", ""), short=short, paragraphs=paras)
    rng = random.Random(f"{seed}:pool")
    chosen = sorted(descriptions.values(), key=lambda d: d.package)
    rng.shuffle(chosen)
    chosen = sorted(chosen[:POOL_DESCRIPTIONS], key=lambda d: d.package)
    firsts = sorted({p[0] for p in people})
    lasts = sorted({p[1] for p in people})
    places = zone_places()
    pool = TextPool(
        source="Debian bookworm main: Translation-en (Description-en) joined with apt-cache "
               "dumpavail (Section, Version, Installed-Size, Homepage, Maintainer); tzdata zones",
        descriptions=chosen,
        first_names=sorted(rng.sample(firsts, min(POOL_NAMES, len(firsts)))),
        surnames=sorted(rng.sample(lasts, min(POOL_NAMES, len(lasts)))),
        places=sorted(rng.sample(places, min(POOL_NAMES, len(places)))),
        excluded_packages=sorted(excluded))
    save_pool(pool, out)
    log(f"text pool: {len(chosen)} of {len(descriptions)} descriptions, {len(pool.first_names)} "
        f"first names, {len(pool.surnames)} surnames, {len(pool.places)} places -> {out}")
    return pool


def ascii_fold(text: str) -> str:
    """``Müller-Dupré`` -> ``muller-dupre``: the part of a name an e-mail address can hold."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.-]", "", text.lower())
