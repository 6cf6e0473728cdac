# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates (or reuses) the local virtual environment .venv first.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
SHARED_DATA ?= ../shared/data/prices

.PHONY: demo test venv bench clean precompile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	$(VENV)/bin/shortthehype precompile
	touch $(STAMP)

# Compile and cache the numba kernels (done once after installing; the first run would otherwise do it).
precompile: $(STAMP)
	$(VENV)/bin/shortthehype precompile

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/shortthehype demo

# The report tests open HTML in Debian's chromium (playwright drives it; no browser download).
test: $(STAMP)
	@command -v chromium >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; else echo "note: chromium is missing (apt-get install chromium): the browser tests skip outside CI"; fi; }
	$(VENV)/bin/python -m pytest -n 2 -q

bench: $(STAMP)
	$(VENV)/bin/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) .pytest_cache build
