# Parvis — the two commands of the README:
#   make run   set up (once) and start the console on the built-in demo data, with its worker
#   make test  set up (once), run ruff and mypy, then the whole test suite, browser tests included
PYTHON ?= python3.11
VENV   ?= .venv
PY      = $(VENV)/bin/python
PORT   ?= 8501

.PHONY: run test lint setup setup-dev browser nginx bench clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Parvis needs $(PYTHON) (set PYTHON=python3 if that is 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

# Debian's Chromium for the browser tests (never `playwright install`: no download of browsers), and axe-core
# from the npm registry for their accessibility checks (tests/e2e/test_pages_browser.py).
browser:
	@test -x /usr/bin/chromium || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -f .cache/axe-core/package/axe.min.js || { mkdir -p .cache/axe-core && cd .cache/axe-core && \
	  npm pack axe-core@4.14 --silent >/dev/null && tar xzf axe-core-4.14.*.tgz; }

# Debian's nginx for the reverse-proxy tests (tests/operations/test_nginx.py, tests/e2e/test_nginx_browser.py:
# the tests start it as the current user on deploy/nginx/parvis.conf; the package's own service is not used).
nginx:
	@test -x /usr/sbin/nginx || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nginx >/dev/null; }

run: setup
	$(PY) -m console demo
	$(PY) -m console up --port $(PORT)

# Lint and type guards (configuration in pyproject.toml); part of `make test`.
lint: setup-dev
	$(PY) -m ruff check .
	$(PY) -m mypy

test: setup-dev lint browser nginx
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q --e2e

bench: setup-dev browser
	PY=$(PY) scripts/bench_all.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
