# Two commands for a new machine: `make run` and `make test`. Both are safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app supervision
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test install install-test setup-db lint bench-ingest bench-reports bench-load clean

CATALOGUE := supervision/translations/zh/LC_MESSAGES/messages

$(VENV)/.runtime: setup.cfg pyproject.toml scripts/install-system-packages
	scripts/install-system-packages --runtime
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.runtime
	$(VENV)/bin/pybabel compile --statistics -d supervision/translations

$(VENV)/.test: $(VENV)/.runtime $(CATALOGUE).mo
	scripts/install-system-packages
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.runtime $(CATALOGUE).mo

setup-db: install
	$(FLASK) db upgrade
	$(FLASK) checklists load
	$(FLASK) demo seed

run: setup-db
	$(FLASK) run --host $(HOST) --port $(PORT)

test: $(VENV)/.test
	$(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check supervision tests bench

bench-ingest: $(VENV)/.test
	$(PY) bench/ingest.py $(BENCH_ARGS)

bench-reports: $(VENV)/.test
	$(PY) bench/reports.py $(BENCH_ARGS)

bench-load: $(VENV)/.test
	$(PY) bench/load.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) instance test-output .pytest_cache
