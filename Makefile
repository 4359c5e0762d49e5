# The two commands: `make run` (set up, load the demo, serve http://127.0.0.1:8000/) and
# `make test` (set up, lint, check migrations, run the whole suite). Both work on a fresh clone.

# The first Python 3.11+ that actually runs (pyenv shims may name versions that are not installed).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { command -v $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: setup test-setup run test lint format clean messages bench

$(STAMP): pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed: install it, or run make PYTHON=/path/to/python3.11" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)
	scripts/system-packages

test-setup: setup
	scripts/system-packages --browser

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runserver 127.0.0.1:8000

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# CCOP_SWEEP=skip|required decides whether the page sweep runs (see tests/browser/conftest.py).
test: test-setup lint
	DJANGO_SETTINGS_MODULE=ccop.settings.test $(PY) manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=ccop.settings.test $(PY) manage.py check
	$(VENV)/bin/pytest $(PYTEST_ARGS)

format: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Translations: update the Khmer and Lao catalogues from the code (no source locations, so two
# branches adding strings in different files do not collide), then compile the .mo files.
# Django's own messages the portal shows are kept in the catalogues by ccop/django_messages.py
# (makemessages collects only our code); translators follow locale/GLOSSARY.md.
messages: setup
	$(PY) manage.py makemessages -l km -l lo --no-location --no-obsolete --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=.cache
	sed -i 's/^"POT-Creation-Date: .*/"POT-Creation-Date: 2026-01-01 00:00+0700\\n"/' locale/*/LC_MESSAGES/django.po
	$(PY) manage.py compilemessages --ignore=.venv

# Issue 13's figures in one run (PostgreSQL at BENCH_POSTGRES, default the local cluster):
# pages at demo size and at scale, load under gunicorn, PDF, workbook, import, approvals.
# BENCH_ARGS="--reuse-scale" keeps an earlier scale dataset; "--scale 0.1" a smaller one.
BENCH_ARGS ?=
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .cache .pytest_cache
