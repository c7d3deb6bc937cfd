# streamwise: `make demo` runs everything in memory; `make test` runs the suites on real services.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SERVICES := PYTHON=$(abspath $(BIN)/python) scripts/services.sh
PYTEST_ARGS ?=

.PHONY: install demo test tools unit lint up down status clean bench bench-quick

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@# uv installs in about a third of pip's time; pip remains the fallback.
	($(BIN)/pip install --quiet --disable-pip-version-check uv \
	  && $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]') \
	|| $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## demo: simulated sensors -> in-process bus -> learner -> API on 127.0.0.1:8000 (no services)
demo: install
	$(BIN)/streamwise demo

## test: lint, then unit + integration tests on real Kafka and Redis started here (and stopped)
test: install tools
	$(BIN)/ruff check .
	@started=0; \
	if ! $(SERVICES) status >/dev/null 2>&1; then $(SERVICES) up || exit 1; started=1; \
	else STREAMWISE_SERVICES=prometheus $(SERVICES) up || exit 1; fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$started = 1 ]; then $(SERVICES) down; fi; \
	exit $$rc

## tools: wrk, the HTTP load generator of the API benchmark (its smoke test runs in make test),
## and Debian's chromium + chromium-driver, for the dashboard's browser test
tools:
	@command -v wrk >/dev/null || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -qq wrk >/dev/null 2>&1 \
	  || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq wrk; }; }
	@{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1 \
	  || { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; }; }

## unit: the fast suites only, no services
unit: install
	$(BIN)/python -m pytest -m "not integration" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## up / down / status: the real local stack (Kafka KRaft + Redis on loopback)
up: install
	$(SERVICES) up

down:
	$(SERVICES) down

status:
	$(SERVICES) status

clean: down
	rm -rf $(VENV) .services .pytest_cache .ruff_cache .hypothesis

## bench / bench-quick: the benchmark suite (< 15 min / < 2 min) on the real Kafka and Redis of
## `make up`; prints a Markdown table, writes bench/results/latest.json (docs/benchmarks.md)
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	($(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,bench]') \
	|| $(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	@$(SERVICES) status >/dev/null 2>&1 || { echo "Kafka and Redis are not running: make up"; exit 1; }
	$(BIN)/python -m bench

bench-quick: $(BENCH_STAMP)
	@$(SERVICES) status >/dev/null 2>&1 || { echo "Kafka and Redis are not running: make up"; exit 1; }
	$(BIN)/python -m bench --quick
