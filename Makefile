# The product's commands. `make run` and `make test` work on a fresh clone.
PY := .venv/bin/python
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
SHARED ?= ../shared

.PHONY: setup index run test test-fast lint bench-index bench-retrieval bench-answers bench-latency bench-concurrency bench-load eval clean fit fit-sentences eval-new-documents \
	setup-llm model test-llm bench-llm eval-llm

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

# The answer-or-not decision, fitted on the public Q&A sets (builds the ncppolicies knowledge base first: ~15 min
# of embedding on a fresh machine, cached after); writes assistant/rules/decision.json with its cross-validated figures.
fit: index
	$(PY) scripts/fit_decision.py --shared $(SHARED)

# What the extractive generator quotes (how many further sentences of the chosen clause: after its best sentence
# for an open question, and otherwise; how much it trusts the clause ranking), chosen on the public Q&A sets (every
# value of each grid through the whole chain: ~45 min); writes assistant/rules/sentences.json with every set's
# figures. Run it before `make fit`: the decision is fitted on the answers the generator gives.
fit-sentences: index
	$(PY) scripts/choose_sentences.py --shared $(SHARED) --parameter keep_ratio_open
	$(PY) scripts/choose_sentences.py --shared $(SHARED) --parameter keep_ratio
	$(PY) scripts/choose_sentences.py --shared $(SHARED) --parameter rank_prior

# Colloquial questions about documents the rules were not written on, each set on its own knowledge base: the
# seeds plus the nine laws of extra-corpus, and the 599 ncppolicies notices (qa/laws-colloquial and
# qa/ncp-colloquial are held out of `make fit`; ncp-natural-train is fitted on).
eval-new-documents: setup
	$(PY) -m assistant eval --qa qa/laws-colloquial.jsonl --corpus corpus --corpus $(SHARED)/extra-corpus \
		--out data/eval/laws-colloquial.jsonl
	$(PY) -m assistant eval --qa qa/ncp-colloquial.jsonl --corpus $(SHARED)/bench/ncppolicies --out data/eval/ncp-colloquial.jsonl
	$(PY) -m assistant eval --qa $(SHARED)/qa/ncp-natural-train.jsonl --corpus $(SHARED)/bench/ncppolicies \
		--out data/eval/ncp-natural-train.jsonl

bench-latency: index
	$(PY) scripts/bench_latency.py --qa qa/dev.jsonl
	$(PY) scripts/bench_latency.py --qa qa/natural-dev.jsonl
	@if [ -d $(SHARED)/bench/ncppolicies ]; then $(PY) scripts/bench_latency.py --qa $(SHARED)/qa/ncp-natural-train.jsonl \
		--corpus $(SHARED)/bench/ncppolicies --rounds 1 --goal-ms 1000; fi

bench-concurrency: index
	$(PY) scripts/bench_concurrency.py --qa qa/dev.jsonl

bench-load: index
	$(PY) scripts/bench_load.py --qa qa/natural-dev.jsonl --levels 1,5,20,50 --json data/bench/load.json

bench-retrieval: setup
	$(PY) -m assistant bench-retrieval --beir $(SHARED)/bench/ncppolicies --ids $(SHARED)/bench/ncppolicies/dev_ids.txt --out data/bench/ncppolicies-dev.jsonl

bench-answers: setup
	$(PY) -m assistant bench-answers --beir $(SHARED)/bench/ncppolicies --ids $(SHARED)/bench/ncppolicies/dev_ids.txt --out data/bench/ncppolicies-answers-dev.jsonl

# The optional LLM generators (README, "LLM answers"): not part of `make test`, which CI runs.
setup-llm:
	bash scripts/setup_llm.sh

model:
	bash scripts/fetch_model.sh

test-llm: setup-llm model
	$(PY) -m pytest -m llm

bench-llm: setup-llm model index
	$(PY) scripts/bench_llm.py --qa qa/dev.jsonl

eval-llm: setup-llm model index
	$(PY) -m assistant eval --generator llamacpp --qa qa/dev.jsonl --out data/eval/dev-llamacpp.jsonl
	$(PY) -m assistant eval --generator llamacpp --qa qa/natural-dev.jsonl --out data/eval/natural-dev-llamacpp.jsonl

clean:
	rm -rf data
