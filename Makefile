# cskh-bot: every target creates the virtualenv and installs on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa 3.6 supports nothing newer): pyenv honours .python-version.
PYTHON_BOOT ?= $(shell pyenv which python 2>/dev/null || command -v python3.10)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install lock setup browser widget scale-deps train run run-scaled shell test test-fast lint bench bench-nlu bench-handoff bench-latency bench-retrain bench-swap bench-unanswered bench-flood bench-widget bench-desk-outage bench-phoatis bench-first-start clean

help:
	@echo "make run    - install, train if needed, start the bot (Ctrl-C stops)"
	@echo "make test   - install (and make setup), run the whole test suite, as CI does"
	@echo "make test-fast - the tests that start no server and load no model, ruff and mypy (under 2 minutes)"
	@echo "make setup  - Debian's nginx and chromium, when missing (make test does this itself)"
	@echo "make run-scaled - 2 Rasa replicas + 2 action servers behind nginx, on PostgreSQL and Redis"
	@echo "make shell  - chat with the running bot in this terminal"
	@echo "make train  - train the model if data or config changed"
	@echo "make bench  - benchmarks (PHOATIS_DIR=... adds the PhoATIS intents): first start, NLU vs Rasa's default, handoff delivery, whole bot vs stock rasa init, retrain, a model swap on every replica, unanswered grouping, a flood at the doors, widget replies across replicas, a desk outage"
	@echo "make lint   - ruff check, ruff format --check and mypy (bot, actions, connectors, bench)"

$(PY):
	@test -n "$(PYTHON_BOOT)" || { echo "Python 3.10 not found (pyenv install 3.10)"; exit 1; }
	$(PYTHON_BOOT) -c 'import sys; assert sys.version_info[:2] == (3, 10), "need Python 3.10, got " + sys.version'
	$(PYTHON_BOOT) -m venv $(VENV)

# Exact versions from requirements.lock, installed by uv without resolving: 3.1 GB of packages in 25 s
# with an empty cache, 2 s from uv's cache (pip: 1.5-2 min either way, one wheel at a time; BENCHMARKS.md).
# `make lock` writes the lock again after pyproject.toml's dependencies change.
LOCK := requirements.lock
UV_VERSION := 0.13.9
UV := $(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps
$(VENV)/bin/uv: | $(PY)
	$(PY) -m pip install --quiet uv==$(UV_VERSION)

$(STAMP): pyproject.toml $(LOCK) | $(VENV)/bin/uv
	$(UV) -r $(LOCK)
	$(UV) -e .
	@touch $(STAMP)

# Resolves pyproject.toml's dependencies (dev included) in a scratch venv and pins what was installed.
lock:
	rm -rf .venv-lock && $(PYTHON_BOOT) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip wheel && .venv-lock/bin/pip install --quiet -e '.[dev]'
	{ echo "# make lock: every package make install puts in .venv, at the version pip resolved for pyproject.toml"; \
	  .venv-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > $(LOCK)
	rm -rf .venv-lock

install: $(STAMP)

# The chat widget's one npm dependency (socket.io-client), pinned by package-lock.json.
WIDGET_STAMP := widget/node_modules/.installed
$(WIDGET_STAMP): widget/package.json widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	@touch $(WIDGET_STAMP)

widget: $(WIDGET_STAMP)

# Debian packages beyond Python's, each installed only when missing (nothing runs apt on a machine that
# has them): nginx for the scaled-out stack, chromium for the browser tests.
setup: scale-deps browser

# The scaled-out stack's load balancer: Debian's nginx.
NGINX ?= /usr/sbin/nginx
scale-deps:
	@test -x $(NGINX) || { \
	  echo "Installing Debian's nginx for the scaled-out stack"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) \
	    apt-get install -y -qq --no-install-recommends nginx-light >/dev/null; }

# Browser tests drive Debian's chromium through Playwright (no browser download).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo ) \
	    apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

train: install
	$(PY) -m bot.training

run: install widget
	$(PY) -m bot.run

run-scaled: install widget scale-deps
	$(PY) -m bot.scaled

shell: install
	$(PY) -m bot.chat

test: install widget setup lint
	$(PY) -m pytest

# No training, no server process: what a change can be checked with in a minute or two.
test-fast: lint
	$(PY) -m pytest -m "not slow"

# `ruff format .` fixes what the format check finds; `# fmt: skip` keeps a hand-aligned statement as written.
# mypy checks what pyproject.toml's [tool.mypy] names, cached in .mypy_cache.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: bench-first-start bench-nlu bench-phoatis bench-handoff bench-latency bench-retrain bench-swap bench-unanswered bench-flood bench-widget bench-desk-outage

bench-nlu: install
	$(PY) -m bench.nlu

# a clone of HEAD: make run until the first answer (uses this machine's uv and npm caches)
bench-first-start: install
	$(PY) -m bench.first_start

# PhoATIS (research use, never committed): PHOATIS_DIR=<a JointIDSF checkout>/PhoATIS; skipped politely without it
bench-phoatis: install
	$(PY) -m bench.phoatis $(if $(PHOATIS_DIR),--dir "$(PHOATIS_DIR)")

bench-handoff: install
	$(PY) -m bench.handoff

bench-latency: install
	$(PY) -m bench.latency

bench-retrain: install widget
	$(PY) -m bench.retrain

bench-swap: install widget scale-deps
	$(PY) -m bench.model_swap

bench-unanswered: install
	$(PY) -m bench.unanswered

bench-flood: install
	$(PY) -m bench.flood

bench-widget: install widget
	$(PY) -m bench.widget
# the scaled stack: needs nginx, PostgreSQL, Redis and RabbitMQ (127.0.0.1:5672)
bench-desk-outage: install widget scale-deps
	$(PY) -m bench.desk_outage

clean:
	rm -rf models .rasa results var/*.db
