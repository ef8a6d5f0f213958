#!/usr/bin/env bash
# CI: start the local stack in the background on a free port, wait until it answers, run the
# demo against it over HTTP, stop the stack. Fails if the stack does not start or the demo fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p build
port=$($PY -c 'from local_stack.stack import free_port; print(free_port())')
url="http://127.0.0.1:${port}"
started=$(date +%s.%N)
$PY -m local_stack --port "$port" >build/local-stack.log 2>&1 &
pid=$!
stop() { kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT
up=""
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the local stack exited during start-up:" >&2; tail -50 build/local-stack.log >&2; exit 1
  fi
  if $PY -c "import sys, requests; sys.exit(requests.get('${url}/products', timeout=30).status_code != 200)" 2>/dev/null; then
    up=1; break
  fi
  sleep 0.1
done
[ -n "$up" ] || { echo "the local stack did not answer on $url" >&2; tail -50 build/local-stack.log >&2; exit 1; }
ready=$(date +%s.%N)
$PY -c "print(f'local stack answering on ${url} after {${ready} - ${started}:.2f} s')"
$PY -m local_stack demo --url "$url" || { echo "demo failed; stack log:" >&2; tail -80 build/local-stack.log >&2; exit 1; }
