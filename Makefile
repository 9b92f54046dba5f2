# glancedash: `make run` for the demo, `make test` for everything. Needs only Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
# The PostgreSQL run of the suite; pytest-django creates and drops test_glancedash in it.
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/glancedash
# The suite runs in pytest-xdist worker processes, one a CPU (TEST_WORKERS=0: in this process
# alone), each on its own test database (test_glancedash_gw0, …; the SQLite file gets the same
# suffix). `--dist load` hands out tests in pytest-django's order, so each worker still runs its
# tests in a transaction before those with transaction=True, which flush the database; one at a
# time (--maxschedchunk 1), so the long browser tests do not queue up behind one worker.
TEST_WORKERS ?= auto
PYTEST := $(PY) -m pytest -n $(TEST_WORKERS) --dist load --maxschedchunk 1

.PHONY: install run test test-sqlite test-postgres test-clock lint demo-password clean bench load \
	screenshots

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) scripts/run_demo.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

test-sqlite: $(STAMP)
	env -u DATABASE_URL $(PYTEST)

# Runs when PostgreSQL answers; with REQUIRE_POSTGRES=1 (as .ci/run sets) an unreachable one fails.
test-postgres: $(STAMP)
	@if $(PY) scripts/postgres_ready.py "$(TEST_POSTGRES_URL)"; then \
		DATABASE_URL="$(TEST_POSTGRES_URL)" $(PYTEST); \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL at $(TEST_POSTGRES_URL) is unreachable and REQUIRE_POSTGRES=1"; exit 1; \
	else \
		echo "SKIPPED the PostgreSQL run: $(TEST_POSTGRES_URL) is unreachable (set TEST_POSTGRES_URL)"; \
	fi

# The SQLite suite again on a moved wall clock: the US change to summer time, a Sunday. The whole
# suite must pass on any day; CLOCK=… tries another instant.
CLOCK ?= 2027-03-14T08:30:00Z
test-clock: $(STAMP)
	env -u DATABASE_URL $(PYTEST) --clock=$(CLOCK)

test: lint test-sqlite test-postgres

# The browser tests, writing the README's pictures to docs/screenshots (a plain test run writes
# them to the ignored screenshots-tmp/).
screenshots: $(STAMP)
	env -u DATABASE_URL GLANCEDASH_SCREENSHOTS=docs/screenshots GLANCEDASH_TEST_TRAFFIC=week \
		REQUIRE_BROWSER=1 \
		$(PY) -m pytest tests/browser

demo-password: $(STAMP)
	$(PY) manage.py setup_demo --reset-password

clean:
	rm -rf $(VENV) data staticfiles .pytest_cache .ruff_cache

# Not part of `make test`: about 15 minutes at the default million sessions (see README).
bench: $(STAMP)
	$(PY) scripts/bench.py $(BENCH_ARGS)

# Not part of `make test`: 50 users for 60 s against gunicorn while a sync writes (see README).
# LOAD_ARGS="--postgres-url postgres://postgres@127.0.0.1:5432/glancedash" for PostgreSQL.
load: $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-load.txt
	$(PY) scripts/load_test.py $(LOAD_ARGS)
