#!/usr/bin/env bash
# CI: start the local stack in the background on a free port, wait until it answers, run the
# demo against it over HTTP, stop the stack. Fails if the stack does not start or the demo fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
source tools/local_stack_up.sh
start_local_stack build/local-stack.log
$PY -m local_stack demo --url "$url" || { echo "demo failed; stack log:" >&2; tail -80 build/local-stack.log >&2; exit 1; }
