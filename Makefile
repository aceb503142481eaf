# docencoder: `make run` (install + OCR the bundled sample with the shipped model), `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.docencoder-installed
# Debian packages: poppler (only for scripts/render_bench.py, which measured pypdfium2 against it), the Tesseract baseline, the fonts whitepapers are set in, and the
# large word list of the synthetic lines of unpredictable text (docencoder/data/vocab.py).
APT_PACKAGES := poppler-utils tesseract-ocr tesseract-ocr-eng fonts-lmodern fonts-cmu fonts-texgyre \
	fonts-linuxlibertine fonts-liberation fonts-freefont-ttf fonts-dejavu-core fonts-urw-base35 \
	wamerican-insane
TORCH := torch==2.14.1 torchvision==0.29.1
# TeX Live classes and fonts (no -doc package: those are reserved for evaluation) for the LaTeX-typeset
# training lines (`docencoder data latex`) and the whitepaper dev set's sources (data/devset_wp)
TEX_PACKAGES := texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-publishers \
	texlive-science texlive-fonts-recommended texlive-fonts-extra texlive-plain-generic lmodern cm-super tex-gyre

.PHONY: install run test test-all bench data clean
install: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system.sh
	bash scripts/install-system.sh $(APT_PACKAGES)
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --disable-pip-version-check $(TORCH)
	$(PIP) install -q --disable-pip-version-check -e '.[dev]'
	touch $@

run: install
	$(VENV)/bin/docencoder ocr data/samples/sample.pdf -o out/sample --text-layer never --overwrite
	@echo "----- out/sample/sample.md -----"
	@cat out/sample/sample.md

test: install
	$(PY) -m pytest -q

test-all: install
	$(PY) -m pytest -q -m ""

# the training data of the shipped recipe (configs/line_cpu.yaml): Debian's PDFs (data/real/fetch.sh,
# idempotent) and the shards built from them and from synthetic documents; each step skips what exists
data: install
	bash scripts/install-system.sh $(TEX_PACKAGES)
	bash data/real/fetch.sh
	test -f data/shards/real_v2/manifest.json || nice -n 10 $(VENV)/bin/docencoder data from-pdfs \
		data/cache/real/pdfs -o data/shards/real_v2 --max-pages 100 --spread-pages --kinds line
	test -f data/shards/synth/manifest.json || nice -n 10 $(VENV)/bin/docencoder data synth-pdf \
		-o data/shards/synth --docs 281 --seed 100 --kinds line
	test -f data/shards/latex/manifest.json || nice -n 15 $(VENV)/bin/docencoder data latex \
		-o data/shards/latex --docs 250 --seed 7

bench: install
	$(VENV)/bin/docencoder bench model

clean:
	rm -rf out .pytest_cache
