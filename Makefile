# writesae: `make demo` runs the pipeline on the embedded default; `make test` runs every check.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.writesae-installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install test demo export outputs clean-check sync-check readme-check nbtest pytest readme bench plain-install app docs

$(STAMP): settings.ini setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	@if $(PY) -c "import triton" 2>/dev/null; then echo "triton is installed in $(VENV): the CPU environment must not contain it: transformers would route its Gated DeltaNet and Mamba-2 kernels to it"; exit 1; fi
	touch $(STAMP)

install: $(STAMP)

# the notebooks are the source: fail when nbdev_clean or nbdev_export would change a tracked file
clean-check: $(STAMP)
	@before=$$(cat nbs/*.ipynb | md5sum); $(BIN)/nbdev_clean; after=$$(cat nbs/*.ipynb | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "nbdev_clean changed nbs/: commit clean notebooks"; exit 1; fi

sync-check: $(STAMP)
	@before=$$(find writesae -name '*.py' | sort | xargs cat | md5sum); $(BIN)/nbdev_export; \
	after=$$(find writesae -name '*.py' | sort | xargs cat | md5sum); \
	if [ "$$before" != "$$after" ]; then echo "notebooks and library are not in sync: run nbdev_export and commit"; exit 1; fi

# every notebook executed as nbdev_test runs it (same skipped cells, stops at the first failure), and its outputs
# compared with the saved ones: re-executing must reproduce what a reader sees (tools/run_notebooks.py)
nbtest: $(STAMP)
	$(PY) tools/run_notebooks.py --check

# execute the notebooks and save their outputs (only notebooks whose outputs changed are rewritten)
outputs: $(STAMP)
	$(PY) tools/run_notebooks.py

pytest: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile tests

readme-check: $(STAMP)
	$(PY) tools/make_readme.py --check

test: clean-check sync-check readme-check nbtest pytest docs

# the three demo models, one report each (demo_report/gdn-demo, demo_report/mamba2-demo, demo_report/rwkv7-demo),
# then their cross-host table and figure (demo_report/compare); --force replaces an earlier output there
demo: $(STAMP)
	$(BIN)/writesae demo --model gdn-demo --out demo_report/gdn-demo --force
	$(BIN)/writesae demo --model mamba2-demo --out demo_report/mamba2-demo --force
	$(BIN)/writesae demo --model rwkv7-demo --out demo_report/rwkv7-demo --force
	$(BIN)/writesae compare demo_report/gdn-demo demo_report/rwkv7-demo demo_report/mamba2-demo --out demo_report/compare --force

# the steering app (nbs/23_steering_app.ipynb) as a standalone page on http://127.0.0.1:8866 (Voila; Ctrl-C stops it)
APP_PORT ?= 8866
app: $(STAMP)
	$(BIN)/voila nbs/23_steering_app.ipynb --no-browser --port=$(APP_PORT) --Voila.ip=127.0.0.1

# an HTML site of the notebooks with their saved outputs, contents in reading order: _docs/toc.html (nbconvert; Quarto cannot be installed here)
docs: $(STAMP)
	$(PY) tools/make_docs.py --out _docs --force

export: $(STAMP)
	$(BIN)/nbdev_export

readme: $(STAMP)
	$(PY) tools/make_readme.py

bench: $(STAMP)
	$(PY) benchmarks/hosts.py

# a clean venv with `pip install .` (no extras, torch pinned first): the package alone runs the CLI end to end
PLAIN ?= .venv-plain
plain-install:
	rm -rf $(PLAIN) && python3 -m venv $(PLAIN)
	$(PLAIN)/bin/python -m pip install -q --upgrade pip
	$(PLAIN)/bin/python -m pip install -q torch==2.13.0
	$(PLAIN)/bin/python -m pip install -q .
	@if $(PLAIN)/bin/python -c "import nbdev" 2>/dev/null; then echo "nbdev is in the plain venv: a runtime requirement pulls a dev tool"; exit 1; fi
	d=$$(mktemp -d) && cd $$d && $(CURDIR)/$(PLAIN)/bin/writesae demo --quick --out demo-quick && test -f demo-quick/report.md && rm -rf $$d
