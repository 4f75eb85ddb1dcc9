# framelab: `make demo` and `make test` work from a clean clone with Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 5000
DEMO_STUDY := examples/torture-ban.yaml

.PHONY: demo test bench lint format clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/framelab init-db
	$(BIN)/framelab load-study $(DEMO_STUDY) --status live --replace
	$(BIN)/framelab simulate torture-ban --n 800 --seed 7 --effect care=0.5 --effect fairness=0.3 --effect loyalty=-0.2
	$(BIN)/framelab report torture-ban --out reports/torture-ban
	@test -f instance/demo-login.txt || { \
	  pw=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	  echo "$$pw" | $(BIN)/framelab create-user demo@framelab.local --admin --password-stdin && \
	  printf 'Studio sign-in for this demo: demo@framelab.local / %s\n' "$$pw" > instance/demo-login.txt; }
	@cat instance/demo-login.txt
	@echo "Report: $(CURDIR)/reports/torture-ban/index.html"
	$(BIN)/framelab serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m benchmarks

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance reports test-artifacts .pytest_cache
