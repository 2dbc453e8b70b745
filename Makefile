# The two commands of the README: `make run` and `make test`. Everything they need, they install.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
CHROMIUM ?= /usr/bin/chromium
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test test-postgres install install-test browser migrate demo-site clean

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

migrate: install
	$(FLASK) db upgrade

demo-site: migrate
	$(FLASK) comments create-site demo --name "Demo Gazette" --if-absent \
	  --origin http://127.0.0.1:$(PORT) --origin http://localhost:$(PORT)

# The demo is served over plain HTTP on loopback, so its session cookie cannot be Secure.
run: demo-site
	COMMENTS_SESSION_COOKIE_SECURE=false $(FLASK) run --host $(HOST) --port $(PORT)

test: install-test browser
	$(BIN)/python -m pytest -q

# The same suite against PostgreSQL and Redis (as .ci/run does after `make test`).
test-postgres: install-test browser
	DATABASE_URL=$(PG_TEST_URL) REDIS_URL=redis://127.0.0.1:6379/0 $(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) instance .pytest_cache
