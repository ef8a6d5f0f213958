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
source tools/local_stack_up.sh
start_local_stack build/fuzz-stack.log
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
