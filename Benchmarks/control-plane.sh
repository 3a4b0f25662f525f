#!/usr/bin/env bash
# Benchmarks/control-plane.sh - Volley's HTTP API against a bare libmicrohttpd responder
# (reference/mhd_bare.c, built here), in one run, alternating, on loopback only:
#   1. requests/s with wrk on GET /v1/health and GET /v1/jobs/{id} (the same JSON bytes from both);
#   2. API latency while a send job keeps a core busy: wrk --latency on one connection (a closed
#      loop as fast as it goes), and Benchmarks/paced-get.py at 1000 requests/s (an open loop).
# Prints markdown table rows on stdout (run.sh appends them to docs/performance.md); logs on stderr.
# Environment: VOLLEY (.build/release/volley), ROUNDS (3), SECS (5), BUILD (.build-bench); for the
# throughput rows G_ROUNDS (3 × ROUNDS) and G_SECS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
VOLLEY=${VOLLEY:-.build/release/volley}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
BUILD=${BUILD:-.build-bench}
log() { printf '[control-plane %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

command -v wrk >/dev/null || { log "installing wrk"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v python3 >/dev/null || { log "installing python3"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 >/dev/null; }
mkdir -p "$BUILD"
gcc -O2 -Wall -o "$BUILD/mhd_bare" Benchmarks/reference/mhd_bare.c $(pkg-config --cflags --libs libmicrohttpd)

TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT

"$VOLLEY" serve --listen 127.0.0.1:0 --data-dir "$TMP/data" --log-level warning --max-queued 1000 2>"$TMP/agent.log" &
PIDS+=($!)
# The agent's port: warning-level logs are quiet, so ask the kernel which port it listens on.
for _ in $(seq 50); do
    PORT=$(ss -ltnpH 2>/dev/null | awk -v pid="pid=${PIDS[0]}," '$0 ~ pid { n = split($4, a, ":"); print a[n]; exit }')
    [ -n "${PORT:-}" ] && break
    sleep 0.1
done
[ -n "${PORT:-}" ] || { log "agent did not start"; cat "$TMP/agent.log" >&2; exit 1; }
AGENT=http://127.0.0.1:$PORT
JOB=$(curl -sf --json '{"mode":"send","target":"127.0.0.1:9","duration_s":0.2,"rate_pps":1000,"tags":{"bench":"control-plane"}}' "$AGENT/v1/jobs" | jq -r .id)
sleep 0.6
curl -sf "$AGENT/v1/jobs/$JOB" >"$TMP/job.json"

BARE_PORT=$(( (PORT % 20000) + 30000 ))
# The agent serves from a pool of 4 libmicrohttpd threads (HTTPServer.Limits.threads); the reference
# gets the same pool, so the ratio compares the work per request, not the thread count.
"$BUILD/mhd_bare" "$BARE_PORT" "$TMP/job.json" 4 >"$TMP/bare.out" &
PIDS+=($!)
BARE=http://127.0.0.1:$BARE_PORT
# Until it answers (at most 5 s), rather than a fixed pause that a busy machine can outlast.
for _ in $(seq 50); do curl -s -o /dev/null --max-time 1 "$BARE/v1/health" && break; sleep 0.1; done

# rps URL: requests/s from a wrk run (2 threads, 16 connections, G_SECS).
rps() { wrk -t2 -c16 -d"${G_SECS}s" "$1" | awk '/Requests\/sec/ { print $2 }'; }
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# CPU clock ticks (user + system) a process has used so far.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
HZ_TICKS=$(getconf CLK_TCK)
# measure PID URL: "req/s µs-of-CPU-per-request" of one wrk run against the server PID.
measure() {
    local t0 r t1
    t0=$(ticks "$1"); r=$(rps "$2"); t1=$(ticks "$1")
    awk -v r="$r" -v d=$((t1 - t0)) -v hz="$HZ_TICKS" -v s="$G_SECS" 'BEGIN { printf "%s %.2f", r, (r > 0) ? d / hz * 1e6 / (r * s) : 0 }'
}

# Which of the pool's threads a wrk run's 16 connections land on, and how often those threads then
# sleep and switch, moves a run's req/s by ±20 % for either server (Benchmarks/README.md, "Row g's
# rounds"); so more, shorter rounds than the other rows, the ratio taken round by round (each Volley
# run against the bare run right after it) and its median reported, with each server's CPU per request.
G_ROUNDS=${G_ROUNDS:-$((3 * ROUNDS))}
G_SECS=${G_SECS:-2}
for path in /v1/health "/v1/jobs/$JOB"; do
    v=""; b=""; vc=""; bc=""; ratios=""
    for round in $(seq "$G_ROUNDS"); do
        log "round $round/$G_ROUNDS: $path"
        read -r vr vu <<<"$(measure "${PIDS[0]}" "$AGENT$path")"
        read -r br bu <<<"$(measure "${PIDS[1]}" "$BARE$path")"
        v="$v $vr"; b="$b $br"; vc="$vc $vu"; bc="$bc $bu"
        ratios="$ratios $(awk -v a="$vr" -v b="$br" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }')"
    done
    ratio=$(echo "$ratios" | median)
    met=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.9) ? "met" : "MISSED" }')
    label=${path/$JOB/\{id\}}
    printf '| g | API throughput, GET %s (wrk -t2 -c16, %s rounds of %s s) | %.0f req/s, %.2f µs CPU/req | %.0f req/s, %.2f µs CPU/req (bare libmicrohttpd) | %.2f× (rounds %s) | ≥ 0.9× | %s |\n' \
        "$label" "$G_ROUNDS" "$G_SECS" "$(echo "$v" | median)" "$(echo "$vc" | median)" "$(echo "$b" | median)" "$(echo "$bc" | median)" \
        "$ratio" "$(echo $ratios | sed 's/ /, /g')" "$met"
done

# API latency while a send job keeps one core busy (as fast as possible, one thread): first wrk's
# closed loop, then a paced open loop (1000 requests/s). On a 2-CPU machine wrk and the thread that
# serves it fill the CPU the job leaves (~55 % + ~45 %), so a request that then lands on the job's CPU
# waits for a scheduler tick (HZ 250: up to 4 ms); the paced client leaves room
# (Benchmarks/README.md, "API p99 under a saturating send").
SAT=$(curl -sf --json "{\"mode\":\"send\",\"target\":\"127.0.0.1:9\",\"duration_s\":$((2 * SECS + 3)),\"rate_pps\":\"max\"}" "$AGENT/v1/jobs" | jq -r .id)
sleep 1
p99=$(wrk -t1 -c1 -d"${SECS}s" --latency "$AGENT/v1/jobs/$JOB" | awk '$1 == "99%" { print $2 }')
ms=$(awk -v x="$p99" 'BEGIN { v = x + 0; if (x ~ /us$/) v /= 1000; else if (x ~ /s$/ && x !~ /ms$/) v *= 1000; printf "%.3f", v }')
met=$(awk -v m="$ms" 'BEGIN { print (m < 1) ? "met" : "MISSED" }')
printf '| h | API p99 latency, GET /v1/jobs/{id}, while a send job saturates a core (wrk -c1 --latency, closed loop) | %s ms | | | < 1 ms | %s |\n' "$ms" "$met"
paced=$(python3 Benchmarks/paced-get.py "$AGENT/v1/jobs/$JOB" 1000 "$SECS") || log "paced-get failed: $paced"
if [ "$(jq -r '.p99_ms // empty' <<<"$paced")" != "" ] && [ "$(jq -r .errors <<<"$paced")" = 0 ]; then
    pms=$(jq -r .p99_ms <<<"$paced")
    met=$(awk -v m="$pms" 'BEGIN { print (m < 1) ? "met" : "MISSED" }')
    printf '| h | API p99 latency, GET /v1/jobs/{id} at 1000 req/s (one keep-alive connection, paced), while a send job saturates a core | %s ms (p50 %s, max %s; %s requests) | | | < 1 ms | %s |\n' \
        "$pms" "$(jq -r .p50_ms <<<"$paced")" "$(jq -r .max_ms <<<"$paced")" "$(jq -r .requests <<<"$paced")" "$met"
else
    printf '| h | API p99 latency, GET /v1/jobs/{id} at 1000 req/s (paced), while a send job saturates a core | n/a (%s) | | | < 1 ms | MISSED |\n' "${paced//|//}"
fi
for _ in $(seq 100); do
    [ "$(curl -sf "$AGENT/v1/jobs/$SAT" | jq -r .state)" = running ] || break
    sleep 0.2
done

# POST latency of a large job: 16 threads × 16 flows (256 sockets opened at admission), batch 1024
# of 8,192-byte payloads, near the default --max-job-memory; then /v1/health while it is admitted.
BIG='{"mode":"send","target":"127.0.0.1:9","threads":16,"flows":16,"batch":1024,"payload_bytes":8192,"duration_s":2,"rate_pps":1000}'
post_ms=""
for round in $(seq "$ROUNDS"); do
    t=$(curl -s -o "$TMP/big.json" -w '%{time_total}' --json "$BIG" "$AGENT/v1/jobs")
    [ "$(jq -r .state "$TMP/big.json")" != null ] || { log "large job refused: $(cat "$TMP/big.json")"; break; }
    post_ms="$post_ms $(awk -v t="$t" 'BEGIN { printf "%.1f", t * 1000 }')"
    mem=$(curl -sf "$AGENT/v1/agent" | jq .budget.memory_in_use_bytes)
    curl -sf -X POST "$AGENT/v1/jobs/$(jq -r .id "$TMP/big.json")/cancel" >/dev/null
    sleep 1
done
[ -n "$post_ms" ] && printf '| h | POST /v1/jobs latency, a job of 256 sockets and %s MiB (median of %s) | %s ms | | | | |\n' \
    "$(( ${mem:-0} >> 20 ))" "$ROUNDS" "$(echo "$post_ms" | median)"

# start_at precision: STARTS jobs scheduled 300 ms apart, on an idle agent; start_delay_ms as reported.
STARTS=${STARTS:-20}
now_ms=$(date +%s%3N)
ids=()
for i in $(seq "$STARTS"); do
    at=$(( now_ms + 1500 + i * 300 ))
    stamp=$(date -u -d "@$(( at / 1000 ))" +%Y-%m-%dT%H:%M:%S).$(printf '%03d' $(( at % 1000 )))Z
    ids+=("$(curl -sf --json "{\"mode\":\"send\",\"target\":\"127.0.0.1:9\",\"duration_s\":0.05,\"rate_pps\":100,\"start_at\":\"$stamp\"}" "$AGENT/v1/jobs" | jq -r .id)")
done
sleep $(( (1500 + STARTS * 300) / 1000 + 2 ))
delays=""
for id in "${ids[@]}"; do delays="$delays $(curl -sf "$AGENT/v1/jobs/$id" | jq -r '.start_delay_ms // empty')"; done
count=$(echo "$delays" | wc -w)
sorted=$(echo "$delays" | tr ' ' '\n' | grep -v '^$' | sort -g)
p50=$(echo "$delays" | median)
worst=$(echo "$sorted" | tail -1)
within=$(echo "$sorted" | awk '$1 >= 0 && $1 < 1 { n++ } END { print n + 0 }')
met=$(awk -v w="$within" -v c="$count" -v s="$STARTS" 'BEGIN { print (c == s && w == c) ? "met" : "MISSED" }')
printf '| h | start_at precision, %s scheduled jobs (start_delay_ms) | median %s ms, max %s ms, %s of %s within 1 ms | | | all < 1 ms | %s |\n' \
    "$count" "$p50" "$worst" "$within" "$STARTS" "$met"
