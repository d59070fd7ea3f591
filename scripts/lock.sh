#!/usr/bin/env bash
# `make lock`: compile requirements.txt (every package pinned, transitive ones included) from requirements.in
# with pip-tools, installed in a throwaway venv (never in .venv, never in a requirements file).
# Without arguments it keeps the pins already in requirements.txt where requirements.in allows them;
# pass pip-compile's options to change that, e.g. `make lock ARGS=--upgrade` (everything) or
# `make lock ARGS="--upgrade-package redis"` (one package).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_TOOLS_VERSION=7.6.2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
# The lock is for Python 3.11 on Linux (markers are resolved for the interpreter that compiles it).
"$tmp/venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "lock: compile with Python 3.11")'
# No index URL or find-links of this machine in the file; extras stripped (every package they bring is pinned).
CUSTOM_COMPILE_COMMAND="make lock" "$tmp/venv/bin/pip-compile" -q --strip-extras --allow-unsafe \
  --no-emit-index-url --no-emit-find-links --no-emit-trusted-host \
  --output-file requirements.txt "$@" requirements.in
echo "lock: requirements.txt compiled from requirements.in"
