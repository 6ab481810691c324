# One entry point for every task. `make test` and `make demo` set themselves up on a fresh clone.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The demo needs only the runtime and the [testing] extra (the fake), not the dev group.
DEMO_STAMP := $(VENV)/.demo-installed

.PHONY: install generate vendor drift lint format test demo bench update-spec clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.1"
	$(PY) -m pip install --quiet --group dev -e ".[testing,cli,webhooks,fast,postgres,spec,otel]"
	touch $(STAMP)

vendor: install
	$(PY) -m scripts.vendor_spec $(if $(SOURCE),"$(SOURCE)")

generate: install
	$(PY) -m scripts.generate

drift: install
	$(PY) -m scripts.check_drift

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(PY) -m mypy --strict tests/typing/api_usage.py
	$(PY) -m mypy --strict tests/typing/sync_usage.py
	MYPYPATH=examples $(PY) -m mypy --strict examples

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: install lint drift
	$(PY) -m pytest

$(DEMO_STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	test $(STAMP) -nt pyproject.toml || $(PY) -m pip install --quiet -e ".[testing]"
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) examples/export_to_ledger.py --embedded

bench: install
	$(PY) benchmarks/run_all.py

update-spec: install
	@test -n "$(SOURCE)" || (echo "usage: make update-spec SOURCE=<path or URL>"; exit 2)
	$(PY) -m scripts.update_spec "$(SOURCE)"
	$(MAKE) test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
