# Each target bootstraps .venv by itself: a fresh machine needs only `make demo` or `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
# The workspace runs on Python 3.12 (LeRobot 0.6 needs >= 3.12). Use an installed one when there is one
# (on PATH, or pyenv's; a pyenv shim that is not active does not run and is skipped); otherwise name the
# version and uv finds its own or downloads one.
VENV_PYTHON_VERSION ?= 3.12
VENV_PYTHON ?= $(or $(shell for p in "$$(command -v python$(VENV_PYTHON_VERSION))" \
		"$$(pyenv prefix $(VENV_PYTHON_VERSION) 2>/dev/null)/bin/python$(VENV_PYTHON_VERSION)"; do \
		"$$p" -c "" 2>/dev/null && { echo "$$p"; break; }; done),$(VENV_PYTHON_VERSION))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.synced
export HF_HUB_DISABLE_TELEMETRY := 1
export MUJOCO_GL ?= egl

.PHONY: venv test test-fast demo bench bench-success lint clean

# --compile-bytecode: every process (each CLI run, data worker and test subprocess) then starts from .pyc
# files instead of compiling torch, transformers and LeRobot again (35 s -> 20 s to import LeRobot's ACT here,
# where PYTHONDONTWRITEBYTECODE is set and Python never caches what it compiles).
$(STAMP): Makefile pyproject.toml uv.lock $(wildcard core/pyproject.toml runtime/pyproject.toml benchmarks/pyproject.toml plugins/*/pyproject.toml hardware/*/pyproject.toml)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --python $(VENV_PYTHON) --all-packages --all-extras --frozen --inexact --compile-bytecode
	@touch $@

uv.lock: pyproject.toml $(wildcard core/pyproject.toml runtime/pyproject.toml benchmarks/pyproject.toml plugins/*/pyproject.toml hardware/*/pyproject.toml)
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) lock --python $(VENV_PYTHON)
	@touch $@

venv: $(STAMP)

# Lint, formatting and the contract's types: what `make test` and `make test-fast` check first.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The test plugins (tests/plugins/tinyzoo, examples/mlp_bc) are not installed: conftest.py gives the test
# session, and only it, their entry points. Remove copies an older `make test` installed into .venv.
test: lint
	@$(UV) pip uninstall --quiet --python $(BIN)/python tinyzoo policyzoo-mlp-bc 2>/dev/null || true
	HF_HUB_OFFLINE=1 $(BIN)/pytest -n 2 --dist loadscope --no-loadscope-reorder --durations=15

# The tests not marked slow (no end-to-end trainings, installs or subprocess runs): for the edit-test loop.
test-fast: lint
	@$(UV) pip uninstall --quiet --python $(BIN)/python tinyzoo policyzoo-mlp-bc 2>/dev/null || true
	HF_HUB_OFFLINE=1 $(BIN)/pytest -n 2 --dist loadscope -m "not slow" --durations=10

demo: venv
	$(BIN)/policyzoo demo

bench: venv
	$(BIN)/policyzoo bench all

bench-success: venv
	$(BIN)/policyzoo bench success --task=lift

clean:
	rm -rf $(VENV) bench-results
