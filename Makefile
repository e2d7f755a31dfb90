# The product's commands. `make run` and `make test` work on a fresh clone.
PY := .venv/bin/python
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
SHARED ?= ../shared

.PHONY: setup index run test test-fast lint bench-index bench-retrieval bench-answers bench-latency bench-concurrency bench-load eval clean

setup:
	bash scripts/setup.sh

index: setup
	$(PY) -m index build

run: index
	$(PY) ui.py

test: setup
	$(PY) -m ruff check .
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

lint: setup
	$(PY) -m ruff check .

bench-index: setup
	$(PY) scripts/bench_index.py

eval: index
	$(PY) -m assistant eval --qa qa/dev.jsonl --out data/eval/dev-results.jsonl --report data/eval/dev-report.html

bench-latency: index
	$(PY) scripts/bench_latency.py --qa qa/dev.jsonl
	$(PY) scripts/bench_latency.py --qa qa/natural-dev.jsonl

bench-concurrency: index
	$(PY) scripts/bench_concurrency.py --qa qa/dev.jsonl

bench-load: index
	$(PY) scripts/bench_load.py --qa qa/natural-dev.jsonl --levels 1,5,20,50 --json data/bench/load.json

bench-retrieval: setup
	$(PY) -m assistant bench-retrieval --beir $(SHARED)/bench/ncppolicies --ids $(SHARED)/bench/ncppolicies/dev_ids.txt --out data/bench/ncppolicies-dev.jsonl

bench-answers: setup
	$(PY) -m assistant bench-answers --beir $(SHARED)/bench/ncppolicies --ids $(SHARED)/bench/ncppolicies/dev_ids.txt --out data/bench/ncppolicies-answers-dev.jsonl

clean:
	rm -rf data
