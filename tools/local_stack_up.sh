# Sourced by the CI scripts: start_local_stack LOG starts the local stack in the background on a
# free port, waits until it answers (the first request is a cold start: up to 30 s), sets $url and
# $pid, and stops it (SIGINT) when the calling script exits. Fails if the stack dies or never answers.
start_local_stack() {
  local log=$1 started ready
  PY=${PY:-.venv/bin/python}
  mkdir -p "$(dirname "$log")"
  local port
  port=$($PY -c 'from local_stack.stack import free_port; print(free_port())')
  url="http://127.0.0.1:${port}"
  started=$(date +%s.%N)
  $PY -m local_stack --port "$port" >"$log" 2>&1 &  # in memory: starts empty, leaves nothing on disk
  pid=$!
  trap 'kill -INT "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the local stack exited during start-up:" >&2; tail -50 "$log" >&2; return 1
    fi
    if $PY -c "import sys, requests; sys.exit(requests.get('${url}/products', timeout=30).status_code != 200)" 2>/dev/null; then
      ready=$(date +%s.%N)
      $PY -c "print(f'local stack answering on ${url} after {${ready} - ${started}:.2f} s')"
      return 0
    fi
    sleep 0.1
  done
  echo "the local stack did not answer on $url" >&2; tail -50 "$log" >&2; return 1
}
