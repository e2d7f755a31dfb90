#!/usr/bin/env bash
# Set up everything the product needs on a fresh machine: a virtualenv with every pinned package
# (torch first, from the CPU build), and Debian's Chromium for the browser tests. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=.venv
STAMP=$VENV/.installed

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
if [ ! -f "$STAMP" ] || ! cmp -s requirements.txt "$STAMP"; then
  "$VENV/bin/pip" install --quiet --upgrade pip
  # torch before anything that needs it, or pip pulls a multi-GB CUDA build.
  "$VENV/bin/pip" install --quiet "torch==2.13.0"
  "$VENV/bin/pip" install --quiet -r requirements.txt
  cp requirements.txt "$STAMP"
fi

# Browser tests: Debian's Chromium and driver, and a CJK font so screenshots are readable; the deployment
# tests: Debian's PostgreSQL (a throwaway cluster in a temporary folder, never the system one).
if [ "${SKIP_BROWSER:-0}" != "1" ]; then
  missing=""
  for package in chromium chromium-driver fonts-wqy-zenhei postgresql; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
  done
  if [ -n "$missing" ]; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
      echo "installing Debian packages:$missing (browser and deployment tests)…"
      apt-get update -qq >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
      echo "note: missing Debian packages for the browser and deployment tests:$missing" >&2
    fi
  fi
fi
