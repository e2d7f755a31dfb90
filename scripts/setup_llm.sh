#!/usr/bin/env bash
# The optional local LLM on top of scripts/setup.sh: llama-cpp-python (compiled from source, ~10-25 min on two
# cores) and what its OpenAI-compatible server needs, from requirements-llm.txt. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
VENV=.venv
STAMP=$VENV/.installed-llm
if [ ! -f "$STAMP" ] || ! cmp -s requirements-llm.txt "$STAMP"; then
  # Not the native build: it enables AMX kernels that crash on the first token on these CPUs.
  export CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
  export MAKEFLAGS=-j2 CMAKE_BUILD_PARALLEL_LEVEL=2
  echo "installing requirements-llm.txt (llama-cpp-python compiles from source: 10-25 minutes)…"
  # The product's pins as constraints (pip takes no extras there: psycopg[binary] → psycopg).
  constraints=$(mktemp)
  sed 's/\[[^]]*\]//' requirements.txt > "$constraints"
  "$VENV/bin/pip" install --quiet -r requirements-llm.txt -c "$constraints"
  rm -f "$constraints"
  cp requirements-llm.txt "$STAMP"
fi
