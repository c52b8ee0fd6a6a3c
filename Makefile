# Two commands on a fresh machine: `make demo` and `make test`. Both create .venv and install on first
# use; the stamp file makes a second run skip the install until a requirements file changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test fast lint format bench clean programs readme-options docs-images pg

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools  # the venv's own setuptools warns that pyproject support is beta
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/recur demo

# Programs some tests drive (chromium, pdftoppm): installed when make runs as root with apt.
programs:
	@tools/system-deps.sh

test: $(STAMP) programs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	tools/pg.sh run $(PY) -m pytest -n 2 --dist loadgroup -m "not gpu" --durations=15

fast: $(STAMP)
	$(PY) -m pytest -n 2 -m "not slow and not gpu and not ray"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# the README's option tables, regenerated from the configuration dataclasses (a test holds them equal)
readme-options: $(STAMP)
	$(PY) -m commands.readme README.md

# a PostgreSQL server on 127.0.0.1 for trying recur on it (prints the --db URL; tools/pg.sh stop .pg ends it)
pg: $(STAMP)
	tools/pg.sh start .pg

# the report pictures in docs/ that the README shows (a demo store's report, HTML and two PDF pages)
docs-images: $(STAMP) programs
	tools/report-images.sh

bench: $(STAMP)
	$(PY) bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
