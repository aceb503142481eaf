#!/usr/bin/env bash
# Fetch the real training PDFs listed in data/real/packages.txt from Debian, offline-reproducibly:
# `apt-get download` (the archive's signed .deb, exact version logged) + `dpkg -x`, no web.
# PDFs land in data/cache/real/pdfs/<package>/ (git-ignored); versions in data/cache/real/versions.tsv.
# Refuses packages that the eval dev set uses (data/devset/packages.txt) or that are reserved.
#
# Usage: bash data/real/fetch.sh            then:  docencoder data from-pdfs data/cache/real/pdfs -o data/shards/real
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${REAL_PDF_CACHE:-$repo/data/cache/real}"
list="$here/packages.txt"
devset="$repo/data/devset/packages.txt"
# reserved for independent evaluation: never train on these
reserved_re='^(texlive-.*-doc|r-doc-pdf|pari-doc|glpk-doc|hmmer-doc|infernal-doc|python-reportlab-doc|why3-doc-pdf|nauty-doc)$'
# PDFs that are not documents to read: R plot dumps of tests and examples, course slides' plots,
# logos, and page-size duplicates (C++ Annotations in US letter, Octave reference card in legal
# and letter: the same text as the A4 editions kept)
skip_re='/(tests|examples|ULGcourse-[0-9]+)/|logo[^/]*\.pdf|/cplusplusus\.pdf|/refcard-(legal|letter)\.pdf'

packages=$(grep -v '^[[:space:]]*#' "$list" | cut -f1 | sed '/^[[:space:]]*$/d')
for p in $packages; do
  if [[ "$p" =~ $reserved_re ]]; then echo "refusing reserved package $p" >&2; exit 1; fi
  if [[ -f "$devset" ]] && grep -v '^#' "$devset" | cut -f1 | grep -qx "$p"; then
    echo "refusing $p: the eval dev set uses it ($devset)" >&2; exit 1
  fi
done

mkdir -p "$cache/debs" "$cache/pdfs"
: > "$cache/versions.tsv.tmp"
cd "$cache/debs"
for p in $packages; do
  if ! ls "${p}"_*.deb >/dev/null 2>&1; then
    apt-get download -o APT::Sandbox::User=root "$p" >/dev/null || { echo "apt-get download $p failed (run apt-get update?)" >&2; exit 1; }
  fi
  deb=$(ls "${p}"_*.deb | sort -V | tail -1)
  ver=$(dpkg-deb -f "$deb" Version)
  printf '%s\t%s\t%s\n' "$p" "$ver" "$(sha256sum "$deb" | cut -d' ' -f1)" >> "$cache/versions.tsv.tmp"
  out="$cache/pdfs/$p"
  if [[ -f "$out/.done" ]]; then continue; fi
  tmp=$(mktemp -d)
  dpkg -x "$deb" "$tmp"
  rm -rf "$out" && mkdir -p "$out"
  # PDFs (some packages gzip them); figure-only PDFs under figures dirs and $skip_re are skipped,
  # and a PDF identical to one already taken (packages ship some twice) is dropped
  declare -A seen=()
  while IFS= read -r -d '' f; do
    rel="${f#"$tmp"/}"
    if [[ "/$rel" =~ $skip_re ]]; then continue; fi
    name=$(echo "$rel" | sed 's|^usr/share/doc/||; s|^usr/lib/R/[a-z-]*/||; s|^usr/share/||; s|/|__|g')
    case "$f" in
      *.pdf.gz) name="${name%.gz}"; gzip -dc "$f" > "$out/$name" ;;
      *.pdf) cp "$f" "$out/$name" ;;
    esac
    sum=$(sha256sum "$out/$name" | cut -d' ' -f1)
    if [[ -n "${seen[$sum]:-}" ]]; then rm "$out/$name"; else seen[$sum]=1; fi
  done < <(find "$tmp" -type f \( -name '*.pdf' -o -name '*.pdf.gz' \) -not -path '*/figures*' -print0 | sort -z)
  unset seen
  cp "$(find "$tmp" -name copyright | head -1)" "$out/COPYRIGHT" 2>/dev/null || true
  rm -rf "$tmp"
  touch "$out/.done"
  echo "$p $ver: $(ls "$out" | grep -c '\.pdf$') PDFs"
done
# drop PDFs of packages no longer listed, so from-pdfs sees exactly the list
for d in "$cache/pdfs"/*/; do
  d="${d%/}"
  if ! grep -qx "$(basename "$d")" <<<"$packages"; then echo "removing unlisted $(basename "$d")"; rm -rf "$d"; fi
done
mv "$cache/versions.tsv.tmp" "$cache/versions.tsv"
echo "PDFs in $cache/pdfs ($(find "$cache/pdfs" -name '*.pdf' | wc -l) files)"
