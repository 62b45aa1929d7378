# Two entry points, each creating .venv on first use and reusing it after.
#   make demo   installs ibkit and runs `ibkit run demo` on the embedded digits
#   make test   installs ibkit with its test extras and runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.ibkit-installed
# torch is pinned to the CPU build first, so that no later install pulls a CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: demo test lint mutants results clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/ibkit run demo --run-dir runs/demo --overwrite

test: $(STAMP)
	bash scripts/ensure_chromium.sh
	$(BIN)/ruff check --output-format concise src tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

# Mutation testing of the maths modules against their own tests (pyproject's [tool.mutmut]);
# outside CI. One torch thread per mutant: torch's thread pool hangs in the forked mutant
# processes otherwise (every such mutant a timeout). Results stay in mutants/ between runs.
mutants: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,mutants]"
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/mutmut run --max-children 2 || true
	$(BIN)/mutmut results

# docs/results.md's generated tables from run directories of the current code: every preset on
# the small data sets over 3 seeds (finished runs are skipped). Add presets with PRESETS=...
results: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/ibkit reproduce --fast $(PRESETS) --seeds 3 --out results --workers 2

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks scripts

clean:
	rm -rf $(VENV) runs .pytest_cache mutants
