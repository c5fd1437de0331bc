# The project's verbs. `make run` and `make test` do all the set-up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test test-fast eval bench index lint format browser clean reader

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first, pinned: the CPU wheel (an unpinned torch pulls a CUDA build of several GB).
	$(PY) -m pip install --quiet -c constraints.txt torch
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

index: $(STAMP)
	$(VENV)/bin/rag index seeds

run: $(STAMP)
	$(PY) ui/app.py

# Debian's Chromium and its driver, for the browser tests (Playwright's own download fails offline).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium chromium-driver >/dev/null; fi; }

test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(PY) -m pytest

test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow and not browser"

# Every corpus of eval/corpora.py that is present (the seeds; the BBC stories when
# ../shared holds them), in one report: eval/report.md.
eval: $(STAMP)
	$(PY) -m eval

# The peers comparison needs txtai, which nothing else does.
$(VENV)/.bench-installed: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.bench-installed
	$(PY) bench/run.py
	$(PY) bench/scale.py --append
	$(PY) bench/grow.py --passages 1000000 --append
	$(PY) bench/peers.py --append

# The reading model: rebuilds rag/weights/reader.safetensors (+ reader.json) from ../shared/qadata
# on the CPU; sentence-transformers' trainer needs accelerate and datasets, nothing else does.
$(VENV)/.train-installed: $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev,train]"
	touch $@

reader: $(VENV)/.train-installed
	$(PY) -m reader.train

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .

clean:
	rm -rf index .pytest_cache tests/artifacts
