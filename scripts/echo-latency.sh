#!/usr/bin/env bash
# Measures round-trip latency on loopback: a reflect job answers an echo job; prints loss and RTT.
# Usage: VOLLEY_AGENT=http://127.0.0.1:8080 scripts/echo-latency.sh [PORT] [RATE_PPS] [SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
port=${1:-9001} rate=${2:-1000} seconds=${3:-2}

reflect=$(api POST /v1/jobs "{\"mode\":\"reflect\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$(awk "BEGIN{print $seconds + 2}")}" | jq -r .id)
echo=$(api POST /v1/jobs "{\"mode\":\"echo\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$seconds,\"rate_pps\":$rate,\"echo_timeout_ms\":500}" | jq -r .id)
[ "$(wait_job "$echo")" = completed ] || { echo "echo job did not complete" >&2; exit 1; }
api POST "/v1/jobs/$reflect/cancel" >/dev/null
api GET "/v1/jobs/$echo/result" | jq -c '{job: .id, echo, rtt_us: (.latency_us | del(.hdr))}'
