# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-all lint setup sysdeps clean bench

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

sysdeps:
	@if command -v ngspice >/dev/null 2>&1 && ldconfig -p | grep -q libngspice.so; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo ">> installing Debian packages: ngspice libngspice0-dev"; \
	  (apt-get install -y -q ngspice libngspice0-dev >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q ngspice libngspice0-dev >/dev/null)); \
	else \
	  echo "!! ngspice is missing. Install it with: sudo apt-get install ngspice libngspice0-dev"; exit 1; \
	fi

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

setup: sysdeps $(STAMP)

demo: setup
	$(VENV)/bin/eda demo --out out/demo

test: setup
	$(PY) -m pytest -q -m "not slow" $(PYTEST_ARGS)

test-all: setup
	$(PY) -m pytest -q $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf out build *.egg-info
