#!/usr/bin/env bash
# Starts a sink and a paced sender on loopback, waits for both, and prints what each counted.
# Usage: VOLLEY_AGENT=http://127.0.0.1:8080 scripts/sink-and-send.sh [PORT] [RATE_PPS] [SECONDS]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
port=${1:-9000} rate=${2:-20000} seconds=${3:-2}

sink=$(api POST /v1/jobs "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$(awk "BEGIN{print $seconds + 1.5}")}" | jq -r .id)
send=$(api POST /v1/jobs "{\"mode\":\"send\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$seconds,\"rate_pps\":$rate}" | jq -r .id)
echo "sink $sink, send $send" >&2
[ "$(wait_job "$send")" = completed ] || { echo "send job did not complete" >&2; exit 1; }
[ "$(wait_job "$sink")" = completed ] || { echo "sink job did not complete" >&2; exit 1; }
sent=$(api GET "/v1/jobs/$send/result" | jq .sent.packets)
received=$(api GET "/v1/jobs/$sink/result" | jq .received.packets)
echo "{\"send\":\"$send\",\"sink\":\"$sink\",\"sent\":$sent,\"received\":$received}"
[ "$sent" -gt 0 ] || { echo "nothing was sent" >&2; exit 1; }
