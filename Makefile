# The one task runner of mtrl. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The CPU wheel of this pin is on disk on the project's machines; elsewhere, install your own
# torch into $(VENV) first (any version >= 2.1) and `make install` keeps it.
TORCH_SPEC ?= torch==2.13.0
MATHJAX_VERSION := 3.2.2
MATHJAX := book/_static/mathjax/tex-chtml.js
POPPER_VERSION := 2.11.8
TIPPY_VERSION := 6.3.7
TIPPY := book/_static/tippy/tippy-bundle.umd.min.js
NOTEBOOKS := $(sort $(wildcard book/*.ipynb))
PAPERMILL := $(BIN)/papermill -k python3 --no-progress-bar --log-level WARNING
JB_FLAGS := -W -n --keep-going

.PHONY: help install constraints execute run book test unit nbval book-check browser-check pdf lint bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

install: $(VENV)/.installed $(MATHJAX) $(TIPPY)  ## create .venv with mtrl, the book and test tools, MathJax and tippy.js

# The book and test toolchain comes from constraints.txt (exact versions); torch does not.
$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	touch $@

constraints:  ## re-pin the book and test toolchain from .venv into constraints.txt (not torch)
	test -x $(BIN)/python || { echo "no $(VENV): run make install first"; exit 2; }
	$(BIN)/python tests/freeze_constraints.py > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

# MathJax is vendored from npm so that the HTML renders math offline (no CDN).
$(MATHJAX):
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent mathjax@$(MATHJAX_VERSION) >/dev/null && tar xzf mathjax-$(MATHJAX_VERSION).tgz) && \
	rm -rf book/_static/mathjax.tmp && mkdir -p book/_static/mathjax.tmp && \
	cp -r "$$tmp"/package/es5/{tex-chtml.js,input,output,ui,a11y,sre,adaptors} book/_static/mathjax.tmp/ && \
	cp "$$tmp"/package/LICENSE book/_static/mathjax.tmp/ && \
	rm -rf book/_static/mathjax && mv book/_static/mathjax.tmp book/_static/mathjax

# Popper and tippy.js, vendored likewise, for the hover previews of cross-references and
# citations (sphinx-tippy, which would otherwise load them from a CDN).
$(TIPPY):
	tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent @popperjs/core@$(POPPER_VERSION) tippy.js@$(TIPPY_VERSION) >/dev/null && \
	  mkdir popper tippy && tar xzf popperjs-core-$(POPPER_VERSION).tgz -C popper && \
	  tar xzf tippy.js-$(TIPPY_VERSION).tgz -C tippy) && \
	rm -rf book/_static/tippy.tmp && mkdir -p book/_static/tippy.tmp && \
	cp "$$tmp"/popper/package/dist/umd/popper.min.js "$$tmp"/tippy/package/dist/tippy-bundle.umd.min.js \
	  book/_static/tippy.tmp/ && \
	cp "$$tmp"/popper/package/LICENSE.md book/_static/tippy.tmp/LICENSE-popper.md && \
	cp "$$tmp"/tippy/package/LICENSE book/_static/tippy.tmp/LICENSE-tippy && \
	rm -rf book/_static/tippy && mv book/_static/tippy.tmp book/_static/tippy

# $(call execute-chapters,ROOT): execute every chapter of $(NOTEBOOKS) into ROOT/book (papermill,
# at its default parameters, in ROOT/book), export every figure (PDF, PNG, SVG and a provenance
# record) to ROOT/book/_static/figures and write their manifest. ROOT is . for `execute`.
define execute-chapters
	mkdir -p $(1)/_build/executed
	for nb in $(NOTEBOOKS); do \
	  out=$(1)/_build/executed/$$(basename $$nb); \
	  echo "executing $$nb"; \
	  MTRL_FIGURES=$(abspath $(1))/book/_static/figures MTRL_CHAPTER=$$(basename $$nb .ipynb) \
	    $(PAPERMILL) --cwd $(1)/book $(1)/$$nb $$out; \
	  mv $$out $(1)/$$nb; \
	done
	$(BIN)/python -c "import mtrl.book; print('wrote', mtrl.book.write_manifest('$(1)/book'))"
endef

execute: install  ## maintainers: re-execute every chapter in place, refreshing the stored outputs and figures
	@test -z "$$(git status --porcelain -- mtrl)" || { echo "mtrl/ has uncommitted changes:" \
	  "commit them first, so that the figures' provenance names a commit that has their code"; exit 2; }
	$(call execute-chapters,.)

run: install  ## re-run one chapter with overrides, to HTML: make run CHAPTER=03_theorem PARAMS="-p d 60"
	@test -n "$(CHAPTER)" || { echo "CHAPTER is required, e.g. CHAPTER=01_setup; the chapters:"; $(BIN)/mtrl chapters; exit 2; }
	$(BIN)/mtrl run $(CHAPTER) $(PARAMS)

# `book` executes a copy of the book's sources in _build/src and builds the HTML from it, so
# that it changes no tracked file; `execute` refreshes the committed outputs themselves.
BOOK_SRC := _build/src

book: install  ## execute every chapter (in a copy, _build/src) and build the HTML book into _build/html
	rm -rf $(BOOK_SRC) && mkdir -p $(BOOK_SRC)
	cp -r _config.yml _toc.yml book $(BOOK_SRC)/
	$(call execute-chapters,$(BOOK_SRC))
	$(BIN)/jupyter-book build $(BOOK_SRC) --path-output . $(JB_FLAGS)
	$(PRINT_PDF)
	@echo "open _build/html/index.html (the book as one PDF: _build/html/mtrl.pdf)"

test: install lint unit nbval book-check browser-check  ## everything CI runs: lint, unit tests, nbval, strict build, browser check

lint:  ## ruff lint and format check of the package, the tests and the chapters
	$(BIN)/ruff check .
	$(BIN)/ruff format --check mtrl tests book

unit:  ## unit, property, reliability and Dask tests, and the bad-input tests of every chapter
	$(BIN)/pytest tests

nbval:  ## re-execute every chapter and compare with its stored outputs
	$(BIN)/pytest --nbval --nbval-current-env --nbval-sanitize-with book/sanitize.cfg \
	  -p no:cacheprovider book

book-check:  ## build the HTML from the stored outputs; any warning fails
	$(BIN)/jupyter-book build . $(JB_FLAGS)

# Headless Chromium from Debian, installed on first use (root), to look at the book as a reader.
CHROMIUM = command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The PDF is printed from the built HTML into it, as _build/html/mtrl.pdf, which the intro links.
PRINT_PDF = $(CHROMIUM); $(BIN)/python -c \
  "import mtrl.book; print('wrote', mtrl.book.print_pdf('_build/html', '_build/html/mtrl.pdf'))"

browser-check: pdf  ## open every built page in headless Chromium: math, images, links, glue, navigation
	$(BIN)/python tests/browser_check.py _build/html

pdf: book-check  ## print the built book, page by page in the order of _toc.yml, to _build/html/mtrl.pdf
	$(PRINT_PDF)

bench: install  ## time a pretraining round (vs the matmul rate and peers), its memory, a sweep vs a process pool
	mkdir -p _build
	cd tests && ../$(BIN)/python bench_pretrain.py --json ../_build/bench.json

clean:  ## remove the built book and caches (not .venv)
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
