# Stream: `make run` serves the site, `make test` runs the whole suite.
# Both install into .venv and start the embedded PostgreSQL unless DATABASE_URL is set.

# PYTHON: the interpreter for .venv; by default the newest Python >= 3.12 found by scripts/find-python.
PYTHON ?=
VENV := .venv
PY := $(VENV)/bin/python
DB := $(PY) -m ops.embedded_db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve cluster demo install install-dev lock messages db db-stop db-reset backup restore bench \
	bench-http loadtest loadtest-outage loadtest-faults lint format clean assets _serve-dev _pytest _serve-prod _bench _bench-http _demo \
	_migrate

run: install messages
	@$(DB) run -- $(MAKE) --no-print-directory _serve-dev

test: install-dev messages lint
	@CHROMIUM_PATH="$$(scripts/find-chromium)" && export CHROMIUM_PATH && \
		VNU_JAR="$$($(PY) scripts/find-vnu)" && export VNU_JAR && \
		$(DB) run -- $(MAKE) --no-print-directory _pytest

# The production server (gunicorn, static files through whitenoise). It never loads the demo course.
serve: install messages
	@$(DB) run -- $(MAKE) --no-print-directory _serve-prod

# The production topology on one machine, in the foreground, under supervisord (ops/cluster.py): nginx on
# 127.0.0.1:$(PORT) in front of two gunicorn instances, the task worker, Redis (unless REDIS_URL is set) and the
# embedded PostgreSQL (unless DATABASE_URL is set); a process that dies is started again; Ctrl-C stops all of it.
# nginx and redis-server come from Debian's packages, installed with apt-get when root on Debian.
cluster: install messages
	PORT=$(PORT) $(PY) -m ops.cluster

# Loads (or updates) the demo course into the configured database.
demo: install messages
	@$(DB) run -- $(MAKE) --no-print-directory _demo

install: $(VENV)/.installed assets

install-dev: $(VENV)/.installed-dev assets

# The locks pin every package with its hashes; pip refuses anything else.
$(VENV)/.installed: requirements.txt
	@test -x $(PY) || { \
		python="$(PYTHON)"; [ -n "$$python" ] || python=$$(scripts/find-python) || exit 1; \
		echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); \
	}
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.txt
	@touch $@

# The browser's packages from the npm registry, each checked against its pinned integrity: Pyodide
# (ops/pyodide.py) into .cache/pyodide/<version>/, the packages of package-lock.json (ops/npm_assets.py)
# into .cache/vendor/. Once they are there, this checks them and does nothing else.
assets: $(VENV)/.installed
	@$(PY) -m ops.pyodide
	@$(PY) -m ops.npm_assets

# Rebuilds both locks from requirements.in and requirements-dev.in (pip-tools, in a throwaway venv).
lock:
	@python="$(PYTHON)"; [ -n "$$python" ] || python=$$(scripts/find-python) || exit 1; \
		rm -rf $(VENV)-lock && "$$python" -m venv $(VENV)-lock && \
		$(VENV)-lock/bin/pip install --quiet --disable-pip-version-check pip-tools==7.6.2 && \
		for name in requirements requirements-dev; do \
			$(VENV)-lock/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
				--no-emit-index-url --output-file $$name.txt $$name.in || exit 1; \
		done; \
		rm -rf $(VENV)-lock

# Compiled with Babel, so GNU gettext need not be installed.
messages: install
	@for po in locale/*/LC_MESSAGES/*.po; do \
		mo=$${po%.po}.mo; \
		if [ ! -f "$$mo" ] || [ "$$po" -nt "$$mo" ]; then \
			$(VENV)/bin/pybabel compile --statistics -i "$$po" -o "$$mo" || exit 1; \
		fi; \
	done

# A database that does not answer within DATABASE_WAIT seconds stops the start with one line that names it.
DATABASE_WAIT ?= 10
_migrate:
	@$(PY) manage.py wait_for_database --timeout $(DATABASE_WAIT)
	$(PY) manage.py migrate --no-input

_demo: _migrate
	$(PY) manage.py import_course content/asyncio

# The web server and the task worker run side by side under honcho (Procfile.dev, Procfile): Ctrl-C or
# SIGTERM stops both, and so does either one exiting. exec hands make's signals straight to honcho.
# `-e /dev/null`: configuration comes from the environment only, never from a .env file.
HONCHO = PYTHONUNBUFFERED=1 HOST=$(HOST) exec $(VENV)/bin/honcho start -e /dev/null -p $(PORT)

# The demo course is loaded on the embedded database only: a configured DATABASE_URL may be production.
_serve-dev: _migrate
	@if [ -z "$$DATABASE_URL" ]; then \
		$(PY) manage.py import_course content/asyncio; \
	else \
		echo "DATABASE_URL is set, so the demo course is not loaded (make demo loads it)."; \
	fi
	$(HONCHO) -f Procfile.dev

_serve-prod: _migrate
	DEBUG=$${DEBUG:-false} $(PY) manage.py collectstatic --no-input --if-changed
	DEBUG=$${DEBUG:-false} $(HONCHO) -f Procfile

# pytest-django creates and drops its own test databases; the configured one is not touched. The tests run in
# TEST_WORKERS processes (pytest-xdist; auto: one per core), each with its own database, live server and browser;
# a worker that is done takes tests from the others. The 25 slowest tests are listed at the end, so what makes the
# suite slow stays in sight.
TEST_WORKERS ?= auto
_pytest:
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist worksteal --durations=25 $(PYTEST_ARGS)

db: install
	@$(DB) start

db-stop: install
	@$(DB) stop

db-reset: install
	@printf 'Delete every row of the embedded database in .pgdata/ and start over? [y/N] '; \
		read answer; \
		if [ "$$answer" = y ] || [ "$$answer" = Y ]; then \
			$(DB) stop && rm -rf .pgdata .pgdata.users && $(DB) start; \
		else \
			echo "Nothing changed."; \
		fi

# A pg_dump of the configured database into backups/ (git-ignored); `make restore FILE=…` puts one
# back after asking (CONFIRM=yes skips the question). The logic is in ops/backup.py.
backup: install
	@$(DB) run -- $(PY) -m ops.backup backup

restore: install
	@if [ -z "$(FILE)" ]; then echo "usage: make restore FILE=backups/….dump [CONFIRM=yes]" >&2; exit 2; fi
	@$(DB) run -- $(PY) -m ops.backup restore $(if $(filter yes,$(CONFIRM)),--yes) -- "$(FILE)"

# Times the public pages of the demo course, then those of a large site that lives in a database of
# its own (<database>_bench on the same server), with one gunicorn worker's memory, then a lesson page
# for signed-in learners and completing a lesson with 1,000 learners in that database, then a lesson
# with 200 comments beside one without, then search at 500 and 5,000 lessons in a database of its own
# (scripts/bench_pages.py); then Python's start in the learner's browser, headless Chromium against the site
# served as `make serve` serves it: the first Run on a first and a second lesson page, and a later Run
# (scripts/bench_python.py; docs/developers/performance.md says how to read it); then a restart of `make serve`
# with nothing changed, to its first 200 (scripts/bench_start.py).
bench: install-dev messages
	@$(DB) run -- $(MAKE) --no-print-directory _bench

_bench: _demo
	$(PY) scripts/bench_pages.py
	$(PY) scripts/bench_pages.py --large-site
	$(PY) scripts/bench_pages.py --progress
	$(PY) scripts/bench_pages.py --comments
	$(PY) scripts/bench_pages.py --search
	$(PY) scripts/bench_python.py
	$(PY) scripts/bench_start.py

# Throughput over HTTP with wrk (Debian's wrk package): one and two gunicorn instances, each pinned to a core,
# on the bench database of `make bench`, in A/B rounds against a bare view, with server CPU per request, cold
# renders and mixed loads of signed-in readers with writes (scripts/bench_http.py; how to read it:
# docs/developers/performance.md).
bench-http: install-dev messages
	@$(DB) run -- $(MAKE) --no-print-directory _bench-http

_bench-http: _migrate
	$(PY) scripts/bench_http.py $(BENCH_ARGS)

# The load test (loadtest/run.py): the production site on a free loopback port with a database of its own,
# LOADTEST_USERS simulated people (50) for LOADTEST_TIME seconds (60), then manage.py check_integrity.
# loadtest-outage also stops the embedded PostgreSQL for a while in the middle.
loadtest: install-dev messages
	$(PY) -m loadtest.run

loadtest-outage: install-dev messages
	LOADTEST_OUTAGE=1 $(PY) -m loadtest.run

# loadtest-faults SIGKILLs `make cluster`'s processes one after another under the load: a gunicorn master alone,
# the worker, Redis, PostgreSQL; it passes when the cluster heals itself and nothing fails outside each fault.
loadtest-faults: install-dev messages
	LOADTEST_FAULTS=1 LOADTEST_TIME=$${LOADTEST_TIME:-120} $(PY) -m loadtest.run

# lint-imports: the layers of docs/developers/architecture.md ([tool.importlinter] in pyproject.toml).
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

format: install-dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles
