# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# The tests start many Python processes (API, workers, CLI runs, parser processes); where the
# environment turns bytecode caches off, each of them would compile the project's modules again
# (about 0.25 s of CPU for a worker).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: venv demo test lint typecheck unit bench test-nightly clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/cns run examples/ --out out/ --data-dir out/data
	@echo "open out/report.html"

lint: $(STAMP)
	$(BIN)/ruff check cns tests benchmarks scripts
	$(BIN)/ruff format --check cns tests benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/python -m pytest -q

# The browser tests (report rendering, the web interface through Playwright) use Debian's
# chromium, never a browser download: installed here when missing and we are root (CI is); a
# developer who is not root is told the command, and outside CI those tests skip with the reason.
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is missing: run 'sudo apt-get install -y chromium' (browser tests skip without it)"; fi

# The suite runs in TEST_WORKERS pytest processes (pytest-xdist). Most of its wall time is spent
# waiting on real services (leases expiring, workers restarting, parsers timing out), so two
# processes overlap those waits on a 2-core machine; all tests of one file stay on one process
# (--dist loadfile), so module fixtures are built once and a file's services never race each
# other. Each process gets its own Redis database (tests/service/service_harness.py).
# TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 2

test: lint typecheck chromium
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --cov=cns --cov-report=term

test-nightly: $(STAMP)
	$(BIN)/python -m pytest -q -m "slow or nightly"

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info out
