#!/usr/bin/env bash
# Contract test: schemathesis generates requests from openapi.yaml against a live agent and checks
# that no response is a 5xx and that every response matches the document. Used by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.build-tools/venv}
DATA=$(mktemp -d)
LOG=$DATA/agent.log
# Short, slow jobs only: whatever schemathesis invents stays small and stops by itself.
.build/debug/volley serve --listen 127.0.0.1:0 --data-dir "$DATA/data" --max-duration-s 2 --max-rate-pps 2000 \
    --max-threads 2 --max-jobs 2 --max-queued 8 2>"$LOG" &
AGENT=$!
trap 'kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do
    grep -q "listening on" "$LOG" 2>/dev/null && break
    sleep 0.1
done
PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$LOG" | head -1 | grep -o '[0-9]*$' || true)
[ -n "$PORT" ] || { echo "contract test: agent did not start"; cat "$LOG"; exit 1; }
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run openapi.yaml --url "http://127.0.0.1:$PORT" \
    --checks all --max-examples 30 --seed 1 --suppress-health-check all
