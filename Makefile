# The two commands of the README: `make run` and `make test`. Everything they need, they install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
NGINX ?= /usr/sbin/nginx
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres install install-test browser nginx migrate demo-site clean widget axe dist

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian's Chromium drives the browser tests; Playwright never downloads a browser of its own.
browser:
	@test -x $(CHROMIUM) || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# Debian's nginx runs docs/nginx.conf in front of gunicorn in tests/test_proxy.py, as a child of the
# test with its own ports and files (the package's own service is not used); openssl makes the
# tests' certificates.
nginx:
	@test -x $(NGINX) && command -v openssl >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx openssl; }

migrate: install
	$(FLASK) db upgrade

# The demo site accepts the pages of every port `make run` has served on (the others are kept).
DEMO_ORIGINS := http://127.0.0.1:$(PORT) http://localhost:$(PORT)
demo-site: migrate
	$(FLASK) comments create-site demo --name "Demo Gazette" --if-absent \
	  $(addprefix --origin ,$(DEMO_ORIGINS))
	$(FLASK) comments set-site demo $(addprefix --add-origin ,$(DEMO_ORIGINS))

# The widget's tools from the npm registry, pinned, kept out of the repository in .cache/node:
# esbuild bundles and minifies the widget; the browser tests run axe-core in Chromium.
NODE_DIR := .cache/node
ESBUILD_VERSION := 0.28.2
AXE_VERSION := 4.14.1
NODE_TOOLS := $(NODE_DIR)/.installed-esbuild-$(ESBUILD_VERSION)-axe-$(AXE_VERSION)
WIDGET_SRC := comments/static/widget
WIDGET_DIST := $(WIDGET_SRC)/dist

# One install for both: `npm install --no-save` removes whatever else is in the folder.
$(NODE_TOOLS):
	rm -f $(NODE_DIR)/.installed-*
	npm install --no-save --no-audit --no-fund --ignore-scripts --prefix $(NODE_DIR) \
	  esbuild@$(ESBUILD_VERSION) axe-core@$(AXE_VERSION)
	touch $@

axe: $(NODE_TOOLS)

# dist/widget.js is what GET /widget.js serves: every module and both catalogs in one classic
# script (the embed is a plain async <script>), and dist/widget.css next to it.
$(WIDGET_DIST)/widget.js: $(NODE_TOOLS) $(wildcard $(WIDGET_SRC)/*.js $(WIDGET_SRC)/*.css $(WIDGET_SRC)/i18n/*.js)
	$(NODE_DIR)/node_modules/.bin/esbuild $(WIDGET_SRC)/widget.js $(WIDGET_SRC)/widget.css \
	  --bundle --minify --format=iife --target=es2022,chrome100,firefox100,safari15.4 \
	  --legal-comments=none --log-level=warning --outdir=$(WIDGET_DIST)

widget: $(WIDGET_DIST)/widget.js

# The demo is served over plain HTTP on loopback, so its session cookie cannot be Secure.
run: demo-site widget
	@echo "Moderation at http://$(HOST):$(PORT)/mod/queue; the first admin account (once):"
	@echo "  $(FLASK) comments create-moderator EMAIL --role admin"
	COMMENTS_SESSION_COOKIE_SECURE=false $(FLASK) run --host $(HOST) --port $(PORT)

test: install-test browser nginx widget axe
	$(BIN)/python -m pytest -q

# The same suite against PostgreSQL and Redis (as .ci/run does after `make test`).
test-postgres: install-test browser nginx widget axe
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=redis://127.0.0.1:6379/0 $(BIN)/python -m pytest -q

# The long "nothing lost" runs of tests/test_torture.py (32 posters, 4 workers, 60 s, and the same
# through two SIGKILLs), on SQLite then PostgreSQL; their numbers replace the "Torture results"
# section of docs/benchmarks.md, and a failed run is marked there (and fails the target).
TORTURE_RESULTS := .cache/torture.json
.PHONY: torture
torture: install-test
	mkdir -p .cache && rm -f $(TORTURE_RESULTS)
	status=0; \
	for url in "" "$(PG_TEST_URL)"; do \
	  DATABASE_URL="$$url" TORTURE=long TORTURE_REPORT=$(CURDIR)/$(TORTURE_RESULTS) \
	    $(BIN)/python -m pytest -q -m torture tests/test_torture.py || status=1; \
	done; \
	$(BIN)/python -m bench.torture_report $(TORTURE_RESULTS) docs/benchmarks.md; \
	exit $$status

# The sdist and the wheel, in dist/. `python -m build` makes the wheel from the sdist, so a good
# wheel also proves the sdist complete; both carry the templates, the migrations and the widget.
dist: install-test widget
	rm -rf dist
	$(BIN)/python -m build --outdir dist .

clean:
	rm -rf $(VENV) instance .pytest_cache .cache $(WIDGET_DIST) dist

# --- The benchmark (issue 7, bench/README.md) ----------------------------------------------------
# `make bench` runs the full sizes (~20 min on a quiet machine) and writes docs/benchmarks.md and
# docs/bench-*.png; `make bench QUICK=1` is a small, short run; BENCH_ARGS passes options to
# bench/run.py (e.g. BENCH_ARGS='--db sqlite'). It installs what it needs: the bench extra, wrk from
# Debian, and Isso (the reference) in a virtualenv of its own with our gunicorn's version.
ISSO_VERSION ?= 0.14.0
ISSO_VENV := bench/.isso-venv
BENCH_ARGS ?=

.PHONY: bench bench-tools

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[bench]'
	touch $@

$(ISSO_VENV)/.installed-$(ISSO_VERSION): | $(VENV)/.installed
	rm -rf $(ISSO_VENV)
	$(PYTHON) -m venv $(ISSO_VENV)
	$(ISSO_VENV)/bin/python -m pip install -q "isso==$(ISSO_VERSION)" \
	  "gunicorn==$$($(BIN)/python -c 'import importlib.metadata as m; print(m.version("gunicorn"))')"
	touch $@

bench-tools:
	@command -v wrk >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; }

bench: $(VENV)/.installed-bench $(ISSO_VENV)/.installed-$(ISSO_VERSION) bench-tools browser widget
	$(BIN)/python -m bench.run $(if $(QUICK),--quick) $(BENCH_ARGS)
