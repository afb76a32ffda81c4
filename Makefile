# Two commands on a fresh machine: `make demo` and `make test`. Everything else is set up here.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
EXTRAS := spark,query,report,probing,dev
# The project's shared data (real dumps, tokenizers, the paper's reference figures), read in place.
export FACTRACE_SHARED_DATA ?= $(abspath ../shared/data)

.PHONY: venv demo test test-fast lint docs outputs bench clean java browser dist

# What executors run: factrace's wheel and a packed virtual environment with it and its dependencies
# (spark-submit --archives dist/factrace-env.tar.gz#env, PYSPARK_PYTHON=./env/bin/python). DIST_EXTRAS=probing
# adds torch and transformers, for executors that probe. Rebuilt when the code or the dependencies change.
DIST := dist
PACKED_ENV := $(DIST)/factrace-env.tar.gz
DIST_EXTRAS ?=
DIST_SOURCES := setup.cfg pyproject.toml requirements/constraints.txt $(shell find tracer probing schemas jobs -type f \( -name '*.py' -o -name '*.xml' -o -name '*.jsonl' -o -name '*.tsv' -o -name '*.properties' -o -name '*.c' \) 2>/dev/null)

# The C word loop is built by the install: an edit to it reinstalls (without a compiler the install warns and goes on).
$(STAMP): setup.cfg pyproject.toml requirements/constraints.txt $(wildcard tracer/tokenization/_*.[ch])
	@$(MAKE) --no-print-directory java
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

venv: $(STAMP)

java:
	@command -v java >/dev/null 2>&1 || { \
	  echo "Java 17+ is needed for Spark; installing openjdk-17-jre-headless"; \
	  (apt-get update -qq && apt-get install -y -qq openjdk-17-jre-headless) || \
	  { echo "error: install Java 17 (e.g. apt-get install openjdk-17-jre-headless) and rerun"; exit 1; }; }

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "The report's browser test needs Chromium; installing Debian's chromium"; \
	  (apt-get update -qq && apt-get install -y -qq chromium) || \
	  { echo "error: install chromium (apt-get install chromium), or deselect the test with -m 'not browser'"; exit 1; }; }
	@fc-list :lang=ja 2>/dev/null | grep -q . || { \
	  echo "The report shows Japanese and Chinese examples; installing fonts-noto-cjk"; \
	  (apt-get update -qq && apt-get install -y -qq fonts-noto-cjk) || \
	  { echo "error: install fonts-noto-cjk, or deselect the browser test with -m 'not browser'"; exit 1; }; }

demo: venv
	$(BIN)/factrace demo --warehouse demo-warehouse

test: venv browser $(PACKED_ENV)
	$(BIN)/ruff check .
	$(BIN)/python -m schemas.docs | diff -u docs/tables.md - || { echo "docs/tables.md is stale: run 'make docs'"; exit 1; }
	$(BIN)/python -m pytest

test-fast: venv
	$(BIN)/python -m pytest -m "not spark and not cluster"

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

docs: venv
	$(BIN)/python -m schemas.docs > docs/tables.md

# Rewrite the command outputs the README shows from fresh runs (tests/shown.py); review the diff.
outputs: venv
	FACTRACE_WRITE_OUTPUTS=1 $(BIN)/python -m pytest -q tests/integration/test_demo.py \
	  tests/realdata/test_shared_dumps.py::test_the_readmes_truncated_dump_output \
	  tests/realdata/test_trace_shared.py -k "readme or demo"

dist: $(PACKED_ENV)

$(PACKED_ENV): $(STAMP) $(DIST_SOURCES)
	rm -rf $(DIST)
	$(BIN)/pip wheel --quiet --no-deps -w $(DIST) .
	$(PYTHON) -m venv $(DIST)/env
	$(DIST)/env/bin/pip install --quiet --upgrade pip
	$(DIST)/env/bin/pip install --quiet -c requirements/constraints.txt "$$(ls $(DIST)/factrace-*.whl)$(if $(DIST_EXTRAS),[$(DIST_EXTRAS)])"
	$(BIN)/venv-pack --quiet --prefix $(DIST)/env --output $(PACKED_ENV)
	rm -rf $(DIST)/env
	@echo "dist: $$(ls $(DIST)/factrace-*.whl) and $(PACKED_ENV) ($$(du -h $(PACKED_ENV) | cut -f1))"

bench: venv
	$(BIN)/python bench/extract.py
	$(BIN)/python bench/segment.py
	$(BIN)/python bench/trace.py
	$(BIN)/python bench/probe.py
	$(BIN)/python bench/classify.py
	$(BIN)/python bench/neuron_precision.py
	$(BIN)/python bench/paper_differences.py
	$(BIN)/python bench/publish.py --s3
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/sizing.py --markdown

clean:
	rm -rf $(VENV) demo-warehouse .pytest_cache bench/.venvs $(DIST)
