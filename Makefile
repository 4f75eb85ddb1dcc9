# framelab: `make demo` and `make test` work from a clean clone with Python 3.11+.
# Settings are plain assignments, not ?=, so a PYTHON, HOST or PORT exported in the shell
# changes nothing; override one on the command line instead: make demo PORT=8000.
PYTHON := python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST   := 127.0.0.1
PORT   := 5000
DEMO_STUDY := examples/torture-ban.yaml

.PHONY: demo test test-lowest bench lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/framelab init-db
	$(BIN)/framelab load-study $(DEMO_STUDY) --status live --replace
	$(BIN)/framelab simulate torture-ban --n 800 --seed 7 --effect care=0.5 --effect fairness=0.3 --effect loyalty=-0.2 --recognition liberty=0
	$(BIN)/framelab report torture-ban --rehearsal --out reports/torture-ban
	@test -f instance/demo-login.txt || { \
	  pw=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  echo "$$pw" | $(BIN)/framelab create-user demo@framelab.local --admin --password-stdin && \
	  printf 'Studio sign-in for this demo: demo@framelab.local / %s\n' "$$pw" > instance/demo-login.txt; }
	@cat instance/demo-login.txt
	@echo "Rehearsal report (simulated participants only): $(CURDIR)/reports/torture-ban/index.html"
	$(BIN)/framelab serve --host $(HOST) --port $(PORT)

# The suite runs in one worker process per core (pytest-xdist; tests/conftest.py gives each
# worker its own PostgreSQL database and schedules the tests). `make test TEST_WORKERS=0`
# runs it in one process.
TEST_WORKERS := auto
TEST_XDIST   := -n $(TEST_WORKERS)

test: $(STAMP)
	$(BIN)/python -m pytest $(TEST_XDIST)

# The oldest versions pyproject.toml allows: every declared dependency (runtime and [dev])
# pinned to its lower bound by a generated constraints file, in a venv of its own; the
# dependencies of those dependencies resolve to what the registry serves today.
LOWEST        := .venv-lowest
LOWEST_STAMP  := $(LOWEST)/.installed-lowest
LOWEST_TESTS  := tests/tools tests/analysis tests/report tests/domain tests/services

$(LOWEST_STAMP): pyproject.toml tools/lowest_constraints.py
	rm -rf $(LOWEST)
	$(PYTHON) -m venv $(LOWEST)
	$(LOWEST)/bin/python -m pip install --quiet --upgrade pip
	$(LOWEST)/bin/python -m pip install --quiet packaging  # the generator's one import
	$(LOWEST)/bin/python tools/lowest_constraints.py --extra dev --output $(LOWEST)/constraints.txt
	$(LOWEST)/bin/python -m pip install --quiet -c $(LOWEST)/constraints.txt -e '.[dev]'
	touch $(LOWEST_STAMP)

test-lowest: $(LOWEST_STAMP)
	$(LOWEST)/bin/python -m pytest -p no:cacheprovider $(TEST_XDIST) $(LOWEST_TESTS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(LOWEST) instance reports test-artifacts .pytest_cache
