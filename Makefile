# Two commands for people: `make run` and `make test`. Each sets up .venv first.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# The build backend of the editable install: pinned with the development tools, needed by `make run` too.
SETUPTOOLS := $(shell grep '^setuptools==' requirements-dev.txt)

.PHONY: run test bench clean screenshot browser

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
test: $(DEV_STAMP) browser
	$(PY) -m mypy
	$(PY) -m pytest

bench: $(DEV_STAMP)
	$(PY) bench/bench_engine.py
	$(PY) bench/bench_http.py

# The report's browser tests and `make screenshot` drive headless Chromium, the OS package.
# Installed when missing and apt-get can (root on Debian, as CI is); else those tests skip, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
		{ [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); } || \
		echo "no Chromium (apt-get install chromium): the report's browser tests will be skipped"

# build/report.png: the report page of the example history, for people who review a change.
screenshot: $(STAMP) browser
	$(PY) -m tools.screenshot build/report.png

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache
