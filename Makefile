# Two commands for a new machine: `make run` and `make test`. Both are safe to run again.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app supervision
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test install setup-db lint lock bench-ingest bench-reports bench-load bench-photo-memory bench-sync clean

CATALOGUE := supervision/translations/zh/LC_MESSAGES/messages

# Python packages come only from the lock files (exact versions and hashes); the project itself
# is installed without dependencies and without build isolation, so nothing unpinned is fetched.
$(VENV)/.runtime: requirements.lock scripts/install-system-packages
	scripts/install-system-packages --runtime
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(CATALOGUE).mo: $(CATALOGUE).po $(VENV)/.runtime
	$(VENV)/bin/pybabel compile --statistics -d supervision/translations

$(VENV)/.test: $(VENV)/.runtime $(CATALOGUE).mo requirements-test.lock
	scripts/install-system-packages
	$(PY) -m pip install -q --require-hashes -r requirements-test.lock
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

bench-photo-memory: $(VENV)/.test
	$(PY) bench/photo_memory.py $(BENCH_ARGS)

bench-sync: $(VENV)/.test
	$(PY) bench/sync.py $(BENCH_ARGS)

# Refresh both lock files from the ranges in setup.cfg (see README, "Dependencies").
LOCK_FLAGS := --generate-hashes --allow-unsafe --strip-extras --all-build-deps --no-emit-index-url --no-emit-find-links $(LOCK_ARGS)
lock:
	test -x $(VENV)-lock/bin/pip-compile || (python3 -m venv $(VENV)-lock && $(VENV)-lock/bin/pip install -q pip-tools==7.7.0)
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) --extra test -o requirements-test.lock pyproject.toml
	$(VENV)-lock/bin/pip-compile $(LOCK_FLAGS) -c requirements-test.lock -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) $(VENV)-lock instance test-output .pytest_cache
