#!/usr/bin/env bash
# CI: fuzz the API with schemathesis against docs/openapi.json on a local stack started on a free
# port. Bounded and deterministic: a fixed seed, FUZZ_EXAMPLES cases per operation (default 30),
# and a wall-clock cap (FUZZ_TIMEOUT seconds, default 480). Checks: no 5xx, responses match the
# schema. A dev JWT with every role makes the authorized operations reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
EXAMPLES=${FUZZ_EXAMPLES:-30}
TIMEOUT=${FUZZ_TIMEOUT:-480}
SEED=${FUZZ_SEED:-20261122}
mkdir -p build
port=$($PY -c 'from local_stack.stack import free_port; print(free_port())')
url="http://127.0.0.1:${port}"
$PY -m local_stack --port "$port" >build/fuzz-stack.log 2>&1 &
pid=$!
stop() { kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; }
trap stop EXIT
up=""
for _ in $(seq 1 300); do
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the local stack exited during start-up:" >&2; tail -50 build/fuzz-stack.log >&2; exit 1
  fi
  if $PY -c "import sys, requests; sys.exit(requests.get('${url}/products', timeout=2).status_code != 200)" 2>/dev/null; then
    up=1; break
  fi
  sleep 0.1
done
[ -n "$up" ] || { echo "the local stack did not answer on $url" >&2; tail -50 build/fuzz-stack.log >&2; exit 1; }
token=$($PY -m local_stack token --user fuzz-user --groups reviewer,support,ops,analyst --ttl 3600)
started=$(date +%s)
status=0
timeout "$TIMEOUT" .venv/bin/schemathesis run docs/openapi.json \
  --url "$url" \
  --header "Authorization: Bearer ${token}" \
  --checks not_a_server_error,response_schema_conformance \
  --max-examples "$EXAMPLES" \
  --seed "$SEED" \
  --generation-database none \
  --workers 1 \
  --no-color \
  --report junit --report-junit-path build/fuzz-junit.xml || status=$?
echo "fuzzing took $(( $(date +%s) - started )) s (budget: ${EXAMPLES} examples per operation, ${TIMEOUT} s cap, seed ${SEED})"
if [ "$status" -ne 0 ]; then
  echo "schemathesis found problems (exit $status); last stack log lines:" >&2
  tail -40 build/fuzz-stack.log >&2
fi
exit "$status"
