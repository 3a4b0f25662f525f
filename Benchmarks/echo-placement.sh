#!/usr/bin/env bash
# Benchmarks/echo-placement.sh - echo RTT of Volley and sockperf, placement by placement (#13 item 2).
#
#   bash Benchmarks/echo-placement.sh            # uses .build/release/volley as it is
#
# For each round, in alternating order, it measures round-trip p50/p99 at 1000/s, 64 B:
#   same/agent   one agent pinned to CPU 1 runs the reflect and the echo job (the harness's row e)
#   same/run     `volley run reflect` and `volley run echo`, two processes, both on CPU 1
#   split/run    the same two processes, reflect on CPU 0, echo on CPU 1
#   same/sockperf, split/sockperf   `sockperf sr` and `sockperf ping-pong --full-rtt`, placed alike
# Environment: ROUNDS (3), SECS (5), VOLLEY, EXTRA (JSON members added to both Volley jobs, e.g.
# ',"busy_poll_us":50'), ECHO_EXTRA (members for the echo job only, e.g. ',"warm_up":false'),
# SOCKPERF_EXTRA (flags for both sockperf ends, e.g. '--nonblocked', which makes them spin in
# recvfrom), ONLY (space-separated case names to run, default all), HOLD (1: idle CPUs poll instead
# of halting — the Volley jobs get "cpu_latency_us": 0 and each sockperf pair runs while this script
# holds the same PM QoS request on /dev/cpu_dma_latency; needs root).
# Prints one line per case and round, then the medians, with the load average next to each.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VOLLEY=${VOLLEY:-$ROOT/.build/release/volley}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
EXTRA=${EXTRA:-}
ECHO_EXTRA=${ECHO_EXTRA:-}
SOCKPERF_EXTRA=${SOCKPERF_EXTRA:-}
HOLD=${HOLD:-0}
[[ $HOLD != 1 ]] || EXTRA="$EXTRA,\"cpu_latency_us\":0"
ONLY=${ONLY:-same/agent same/run split/run same/sockperf split/sockperf}
BIN=$ROOT/.build-bench
mkdir -p "$BIN"
gcc -O2 -D_GNU_SOURCE -Wall -o "$BIN/udpref" "$ROOT/Benchmarks/reference/udpref.c"
TMP=$(mktemp -d /tmp/volley-echo.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
freeport() { "$BIN/udpref" freeport; }
load() { cut -d' ' -f1 /proc/loadavg; }
declare -A P50=() P99=()

echo_spec() { echo "{\"mode\":\"echo\",\"target\":\"127.0.0.1:$1\",\"duration_s\":$SECS,\"rate_pps\":1000,\"payload_bytes\":64$EXTRA$ECHO_EXTRA}"; }
reflect_spec() { echo "{\"mode\":\"reflect\",\"listen\":\"127.0.0.1:$1\",\"duration_s\":$((SECS + 2))$EXTRA}"; }

record() {   # record CASE P50 P99
    P50[$1]="${P50[$1]:-} $2"
    P99[$1]="${P99[$1]:-} $3"
    printf '%-15s p50 %6s us  p99 %6s us  (load %s)\n' "$1" "$2" "$3" "$(load)"
}

volley_run() {   # volley_run CASE REFLECT_CPU ECHO_CPU
    local port
    port=$(freeport)
    reflect_spec "$port" | timeout $((SECS + 20)) taskset -c "$2" "$VOLLEY" run - --json >"$TMP/r.json" 2>"$TMP/r.err" &
    local refl=$!
    sleep 0.5
    echo_spec "$port" | timeout $((SECS + 20)) taskset -c "$3" "$VOLLEY" run - --json >"$TMP/e.json" 2>"$TMP/e.err" || true
    kill -INT "$refl" 2>/dev/null || true
    wait "$refl" 2>/dev/null || true
    record "$1" "$(jq .latency_us.p50 "$TMP/e.json")" "$(jq .latency_us.p99 "$TMP/e.json")"
}

volley_agent() {   # one agent on CPU 1 with both jobs, as Benchmarks/run.sh row e
    local dir=$TMP/agent port url= id state i
    mkdir -p "$dir"
    timeout $((SECS + 30)) taskset -c 1 "$VOLLEY" serve --listen 127.0.0.1:0 --data-dir "$dir" 2>"$dir/log" &
    local agent=$!
    for i in $(seq 100); do
        url=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$dir/log" | head -1 | sed 's/listening on //') || true
        [[ -n $url ]] && break
        sleep 0.1
    done
    port=$(freeport)
    curl -sS --json "$(reflect_spec "$port")" "$url/v1/jobs" >/dev/null
    id=$(curl -sS --json "$(echo_spec "$port")" "$url/v1/jobs" | jq -r .id)
    for i in $(seq 300); do
        state=$(curl -sS "$url/v1/jobs/$id" | jq -r .state)
        case $state in completed | failed | cancelled) break ;; esac
        sleep 0.2
    done
    curl -sS -o "$TMP/a.json" "$url/v1/jobs/$id/result"
    kill -TERM "$agent" 2>/dev/null || true
    wait "$agent" 2>/dev/null || true
    record same/agent "$(jq .latency_us.p50 "$TMP/a.json")" "$(jq .latency_us.p99 "$TMP/a.json")"
}

sockperf_pair() {   # sockperf_pair CASE SERVER_CPU CLIENT_CPU
    local port qos=''
    port=$(freeport)
    if [[ $HOLD == 1 ]]; then
        exec {qos}>/dev/cpu_dma_latency   # one byte "0": the device reads it as hex
        printf 0 >&"$qos"
    fi
    timeout $((SECS + 20)) taskset -c "$2" sockperf sr -i 127.0.0.1 -p "$port" $SOCKPERF_EXTRA >"$TMP/sr.txt" 2>&1 &
    local server=$!
    sleep 0.5
    timeout $((SECS + 20)) taskset -c "$3" sockperf ping-pong -i 127.0.0.1 -p "$port" --mps 1000 -m 64 -t "$SECS" --full-rtt $SOCKPERF_EXTRA \
        >"$TMP/pp.txt" 2>&1 || true
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    [[ -z $qos ]] || exec {qos}>&-
    record "$1" "$(sed -n 's/.*percentile 50\.000 = *\([0-9.]*\).*/\1/p' "$TMP/pp.txt" | head -1)" \
        "$(sed -n 's/.*percentile 99\.000 = *\([0-9.]*\).*/\1/p' "$TMP/pp.txt" | head -1)"
}

run_case() {
    case $1 in
        same/agent) volley_agent ;;
        same/run) volley_run same/run 1 1 ;;
        split/run) volley_run split/run 0 1 ;;
        same/sockperf) sockperf_pair same/sockperf 1 1 ;;
        split/sockperf) sockperf_pair split/sockperf 0 1 ;;
    esac
}

echo "# echo placement: $ROUNDS rounds of $SECS s; HOLD=$HOLD EXTRA='$EXTRA' ECHO_EXTRA='$ECHO_EXTRA' SOCKPERF_EXTRA='$SOCKPERF_EXTRA'; load $(cut -d' ' -f1-3 /proc/loadavg)"
read -ra cases <<<"$ONLY"
for ((r = 1; r <= ROUNDS; r++)); do
    if ((r % 2)); then order=("${cases[@]}"); else order=(); for ((i = ${#cases[@]} - 1; i >= 0; i--)); do order+=("${cases[i]}"); done; fi
    for c in "${order[@]}"; do run_case "$c"; done
done
median() { printf '%s\n' $1 | sort -g | awk '{ a[NR] = $1 } END { print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo "# medians (load at the end $(cut -d' ' -f1-3 /proc/loadavg))"
for c in "${cases[@]}"; do
    printf '%-15s p50 %6s us  p99 %6s us  rounds p50:%s\n' "$c" "$(median "${P50[$c]}")" "$(median "${P99[$c]}")" "${P50[$c]}"
done
