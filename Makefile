# streamwise: `make demo` runs everything in memory; `make test` runs the suites on real services.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SERVICES := PYTHON=$(abspath $(BIN)/python) scripts/services.sh
PYTEST_ARGS ?=

.PHONY: install demo test unit lint up down status clean

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
test: install
	$(BIN)/ruff check .
	@started=0; \
	if ! $(SERVICES) status >/dev/null 2>&1; then $(SERVICES) up || exit 1; started=1; fi; \
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$started = 1 ]; then $(SERVICES) down; fi; \
	exit $$rc

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
