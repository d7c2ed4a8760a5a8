# Two commands for people: `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The build backend of the editable install: pinned with the development tools, needed by `make run` too.
SETUPTOOLS := $(shell grep '^setuptools==' requirements-dev.txt)

.PHONY: run test bench clean

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11+ is needed: set PYTHON=/path/to/python3.11"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt $(SETUPTOOLS)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

run: $(STAMP)
	@echo "== dealreg check: the example Clay export against the example registrations =="
	$(VENV)/bin/dealreg check examples/prospects.csv --registry examples/registrations.csv \
		--rules examples/rules.yaml --as-of 2026-11-20 -o - --format table
	@echo "== dealreg serve --demo: the webhooks on http://127.0.0.1:8000 (Ctrl-C to stop) =="
	$(VENV)/bin/dealreg serve --demo

# Type-check every package (pyproject.toml, [tool.mypy]), then run the suite once.
test: $(DEV_STAMP)
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(DEV_STAMP)
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_http.py

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache
