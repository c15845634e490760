# Stream: `make run` serves the site, `make test` runs the whole suite.
# Both install into .venv and start the embedded PostgreSQL unless DATABASE_URL is set.

# PYTHON: the interpreter for .venv; by default the newest Python >= 3.12 found by scripts/find-python.
PYTHON ?=
VENV := .venv
PY := $(VENV)/bin/python
DB := $(PY) -m config.embedded_db
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test serve setup install messages db db-stop db-reset bench lint format clean _serve-dev _pytest _serve-prod _bench

run: install messages
	@$(DB) run -- $(MAKE) --no-print-directory _serve-dev

test: install messages
	@CHROMIUM_PATH="$$(scripts/find-chromium)" && export CHROMIUM_PATH && \
		$(DB) run -- $(MAKE) --no-print-directory _pytest

# The production server (gunicorn, static files through whitenoise) on the same database.
serve: install messages
	@$(DB) run -- $(MAKE) --no-print-directory _serve-prod

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(PY) || { \
		python="$(PYTHON)"; [ -n "$$python" ] || python=$$(scripts/find-python) || exit 1; \
		echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV); \
	}
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# Compiled with Babel, so GNU gettext need not be installed.
messages: install
	@for po in locale/*/LC_MESSAGES/*.po; do \
		mo=$${po%.po}.mo; \
		if [ ! -f "$$mo" ] || [ "$$po" -nt "$$mo" ]; then \
			$(VENV)/bin/pybabel compile --statistics -i "$$po" -o "$$mo" || exit 1; \
		fi; \
	done

setup: install messages
	$(PY) manage.py migrate --no-input
	$(PY) manage.py import_course content/asyncio

_serve-dev: setup
	$(PY) manage.py runserver $(HOST):$(PORT)

_serve-prod: setup
	DEBUG=$${DEBUG:-false} $(PY) manage.py collectstatic --no-input --verbosity 0
	DEBUG=$${DEBUG:-false} $(VENV)/bin/gunicorn config.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2}

_pytest: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

db: install
	@$(DB) start

db-stop: install
	@$(DB) stop

db-reset: install
	@printf 'Delete every row of the embedded database in .pgdata/ and start over? [y/N] '; \
		read answer; \
		if [ "$$answer" = y ] || [ "$$answer" = Y ]; then \
			$(DB) stop && rm -rf .pgdata && $(DB) start; \
		else \
			echo "Nothing changed."; \
		fi

# Times the public pages on the running database (see scripts/bench_pages.py).
bench: install
	@$(DB) run -- $(MAKE) --no-print-directory _bench

_bench: setup
	$(PY) scripts/bench_pages.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) staticfiles
