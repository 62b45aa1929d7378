# Two entry points, each creating .venv on first use and reusing it after.
#   make demo   installs ibkit and runs `ibkit run demo` on the embedded digits
#   make test   installs ibkit with its test extras and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ibkit-installed
# torch is pinned to the CPU build first, so that no later install pulls a CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ibkit run demo --run-dir runs/demo --overwrite

test: $(STAMP)
	$(BIN)/ruff check --output-format concise src tests benchmarks scripts
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

clean:
	rm -rf $(VENV) runs .pytest_cache
