# Set-up and everyday tasks. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
OUT ?= out/demo

.PHONY: demo test bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build on disk; letting a dependency resolve it pulls CUDA.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[neural,test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mtcheck score data/examples/singles-day.tsv --json $(OUT)/results.json --csv $(OUT)/results.csv
	$(VENV)/bin/mtcheck score -s data/examples/singles-day.zh.txt -t data/examples/singles-day.en.txt \
		--format docpair --quiet --json $(OUT)/docpair.json
	@echo "demo outputs are under $(OUT)/"

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) scripts/bench_metaeval.py

clean:
	rm -rf $(VENV) out .pytest_cache
