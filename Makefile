# The template's own commands. `make demo` shows the template at work; `make test` proves it.
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
DEMO_DIR ?= build/demo
# Python's default, whatever this machine's environment says: each fresh virtualenv (a baked project's,
# a workflow job's) compiles a module once, not again in every one of the hundreds of processes the tests
# start (importing pandas, scikit-learn and MLflow from source costs about 5 s of CPU each time).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help demo test test-fast lock clean

help:  ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

demo: $(VENV)/.installed  ## bake with defaults into build/demo, set it up, run the pipeline, show the metrics
	rm -rf $(DEMO_DIR)
	$(BIN)/cookiecutter --no-input --output-dir $(DEMO_DIR) .
	$(MAKE) -C $(DEMO_DIR)/my-ml-project setup repro metrics

test: $(VENV)/.installed  ## every test: baking, hooks, and the generated projects' pipelines
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(VENV)/.installed  ## while working (minutes): baking, hooks, linters, one pipeline run
	$(BIN)/python -m pytest -m fast $(PYTEST_ARGS)

lock: $(VENV)/.installed  ## re-resolve requirements-dev.txt
	$(BIN)/uv pip compile --quiet --no-header --universal --python-version 3.11 requirements-dev.in -o requirements-dev.txt

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt
	@touch $@

clean:  ## remove the virtualenv and the demo
	rm -rf $(VENV) build .pytest_cache
