# Two commands do all the setup on a fresh machine (see README.md):
#   make example   create .venv, generate the example dataset, process it
#   make test      create .venv, install test system packages, lint, run every test
# For the inner loop: make check (lint + the fast tests, no browser, cluster or pipeline runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests start for real: a headless browser for the viewers,
# and a single-node SLURM (with munge) for the cluster tests.
TEST_SYSTEM_PACKAGES := chromium slurmctld slurmd slurm-client munge

.PHONY: example test check lint venv clean viewer-assets

$(STAMP): pyproject.toml
	$(PYTHON) -m pip install --quiet --disable-pip-version-check uv
	$(PYTHON) -m uv venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	# --compile-bytecode: every Snakemake job is a fresh interpreter, and without .pyc
	# files (uv writes none by default) each one recompiles bioio, dask, polars... (~5 CPU s).
	$(PYTHON) -m uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev,formats]"
	touch $(STAMP)

venv: $(STAMP)

# The static viewer's JavaScript/WASM bundle (needs Node.js + npm; see README.md).
viewer-assets: $(STAMP)
	$(BIN)/python hatch_build.py

example: $(STAMP) viewer-assets
	$(BIN)/python -m pixel_patrol_base.example example/data
	$(BIN)/pixel-patrol process example/data -o example/report.parquet --name example \
		-p control -p treated --description "Generated example dataset"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy viewer/app.py viewer/pp_viewer
	$(BIN)/snakefmt --check workflow
	$(BIN)/python tests/lint_workflow.py
	$(BIN)/python hatch_build.py --lint

test: $(STAMP) lint viewer-assets
	bash tests/install_system_packages.sh $(TEST_SYSTEM_PACKAGES)
	$(BIN)/pytest -q --durations=30

# The fast lane: lint, then every test not marked slow, browser, cluster or wheel.
check: $(STAMP) lint
	$(BIN)/pytest -q -m "not slow and not browser and not cluster and not wheel"

clean:
	rm -rf $(VENV) example .pytest_cache .mypy_cache .ruff_cache dist
