#!/usr/bin/env bash
# Benchmarks/hostile-peer.sh - what a hostile UDP peer costs a Volley agent, one line per attack:
#   1. 16,384 datagrams with distinct stamp tags into a 4-thread sink: agent RSS growth, sink count
#   2. 300 datagrams whose sequence jumps by 2^21 into a 1-thread sink: agent CPU seconds, sink count
#      (release and debug binaries)
#   3. the largest send job scheduled a minute ahead: POST time, status, RSS growth (then cancelled)
#   4. two reflect jobs and one spoofed datagram from A to B: what each reflector received
#   5. an echo job against a reflector that replays replies > 2^21 behind: did the agent survive
#
# Usage (from the repo root, as root for the spoofed datagram):
#   bash Benchmarks/hostile-peer.sh                 # .build/release/volley (and .build/debug/volley for 2)
#   VOLLEY_BIN=/path/to/volley bash Benchmarks/hostile-peer.sh
#   VOLLEY_DEBUG_BIN=/path/to/debug/volley ...      # "-" skips the debug line
#   KEEP_LOGS=DIR ...                                # keep each agent's stderr as DIR/agent-NAME.stderr
# The peer is Benchmarks/reference/hostile.c, built into .build-bench/. Traffic stays on 127.0.0.1;
# every program runs under `timeout`, every wait is bounded, and the agents and the temporary folder
# are removed on exit. A fresh agent serves each attack, so one attack's damage does not colour the next.
set -euo pipefail
cd "$(dirname "$0")/.."

VOLLEY=${VOLLEY_BIN:-.build/release/volley}
VOLLEY_DEBUG=${VOLLEY_DEBUG_BIN:-.build/debug/volley}
BIN=.build-bench
PEER=$BIN/hostile
TICKS=$(getconf CLK_TCK)

die() { echo "hostile-peer: $*" >&2; exit 1; }
for tool in curl jq gcc timeout; do command -v $tool >/dev/null || die "$tool is missing (make deps installs curl and jq)"; done
[[ -x $VOLLEY ]] || die "$VOLLEY not found: build it first (swift build -c release) or set VOLLEY_BIN"
mkdir -p "$BIN"
gcc -O2 -D_GNU_SOURCE -Wall -o "$PEER" Benchmarks/reference/hostile.c

TMP=$(mktemp -d /tmp/volley-hostile.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ -n ${KEEP_LOGS:-} ]]; then
        mkdir -p "$KEEP_LOGS"
        for log in "$TMP"/agent-*/stderr; do cp "$log" "$KEEP_LOGS/$(basename "$(dirname "$log")").stderr"; done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT

# start_agent BINARY NAME: sets AGENT_PID (the volley process itself), AGENT_URL, AGENT_LOG.
start_agent() {
    local dir=$TMP/agent-$2 wrapper i
    mkdir -p "$dir/data"
    AGENT_LOG=$dir/stderr
    timeout 300 "$1" serve --listen 127.0.0.1:0 --data-dir "$dir/data" 2>"$AGENT_LOG" &
    wrapper=$!
    PIDS+=("$wrapper")
    AGENT_URL= AGENT_PID=
    for i in $(seq 100); do
        AGENT_PID=${AGENT_PID:-$(pgrep -P "$wrapper" || true)}
        AGENT_URL=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$AGENT_LOG" | head -1 | sed 's/listening on //') || true
        [[ -n $AGENT_URL && -n $AGENT_PID ]] && return 0
        sleep 0.1
    done
    cat "$AGENT_LOG" >&2
    die "the agent ($1) did not start"
}
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$AGENT_PID/status"; }
# The RSS once it has stopped changing for 0.6 s (at most 10 s): the agent may still be catching up.
settled_rss_kb() {
    local last=-1 now i same=0
    for i in $(seq 50); do
        now=$(rss_kb)
        if [[ $now == "$last" ]]; then ((++same >= 3)) && break; else same=0; fi
        last=$now
        sleep 0.2
    done
    echo "$now"
}
# utime + stime of the agent in seconds (fields 14 and 15 of /proc/PID/stat, after the command name).
cpu_s() { sed 's/.*) //' "/proc/$AGENT_PID/stat" | awk -v t="$TICKS" '{ printf "%.2f", ($12 + $13) / t }'; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
freeport() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# post JSON: sets CODE, BODY (the response file) and SECONDS_TAKEN; JOB_ID on 201.
post() {
    local out
    BODY=$TMP/response.json
    out=$(curl -sS --max-time 30 -o "$BODY" -w '%{http_code} %{time_total}' --json "$1" "$AGENT_URL/v1/jobs") || out="000 0"
    CODE=${out% *} SECONDS_TAKEN=${out#* }
    JOB_ID=$(jq -r '.id // empty' "$BODY" 2>/dev/null || true)
}
refusal() { jq -c '.error // .' "$BODY" 2>/dev/null || cat "$BODY"; }
state() { curl -sS --max-time 5 "$AGENT_URL/v1/jobs/$1" 2>/dev/null | jq -r .state 2>/dev/null || echo unknown; }
# wait_ended ID SECONDS: until the job is no longer queued/scheduled/running (or the time is up).
wait_ended() {
    local end=$((SECONDS + $2))
    while ((SECONDS < end)); do
        case $(state "$1") in queued | scheduled | running) sleep 0.2 ;; *) return 0 ;; esac
    done
    return 1
}
wait_running() {
    local i
    for i in $(seq 50); do [[ $(state "$1") == running ]] && return 0; sleep 0.1; done
    return 1
}
result() { curl -sS --max-time 10 "$AGENT_URL/v1/jobs/$1/result"; }
cancel() { curl -sS --max-time 10 -o /dev/null -X POST -H 'Content-Type: application/json' "$AGENT_URL/v1/jobs/$1/cancel" || true; }
stop_agent() { kill -TERM "$AGENT_PID" 2>/dev/null || true; }

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# hostile-peer: $VOLLEY, tree at $(git rev-parse --short HEAD 2>/dev/null), $(uname -r), $(nproc) CPUs, load $(load)"

# 1 ------------------------------------------------------------------------ distinct tags
start_agent "$VOLLEY" tags
port=$(freeport)
post "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"threads\":4,\"duration_s\":10}"
wait_running "$JOB_ID" || die "sink did not start: $(refusal)"
before=$(rss_kb)
sent=$(timeout 30 "$PEER" tags --target "127.0.0.1:$port" --count 16384 --sockets 64 | jq .sent)
after=$(settled_rss_kb)
wait_ended "$JOB_ID" 20 || cancel "$JOB_ID"
wait_ended "$JOB_ID" 5 || true
r=$(result "$JOB_ID")
ended=$(rss_kb)
echo "1. distinct tags: sent $sent to a 4-thread sink; agent RSS +$(mib $((after - before))) ($(mib "$before") -> $(mib "$after"), $(mib "$ended") after the job);" \
    "sink counted $(jq .received.packets <<<"$r") datagrams, tracked $(jq '.sequence.senders | length' <<<"$r") flows"
stop_agent

# 2 ------------------------------------------------------------------------ sequence jumps
jumps() {  # jumps BINARY LABEL
    start_agent "$1" "jumps-$2"
    local port r before after start
    port=$(freeport)
    post "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"threads\":1,\"duration_s\":10}"
    wait_running "$JOB_ID" || die "sink did not start: $(refusal)"
    sleep 0.3
    before=$(cpu_s)
    start=$SECONDS
    sent=$(timeout 30 "$PEER" jumps --target "127.0.0.1:$port" --count 300 --step 2097152 | jq .sent)
    wait_ended "$JOB_ID" 120 || { cancel "$JOB_ID"; wait_ended "$JOB_ID" 60 || true; }
    after=$(cpu_s)
    r=$(result "$JOB_ID")
    echo "2. sequence jumps of 2^21 ($2): sent $sent; agent CPU $(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.2f", a - b }') s" \
        "(job ended after $((SECONDS - start)) s, state $(jq -r .state <<<"$r")); sink counted $(jq .received.packets <<<"$r")," \
        "too_old $(jq '[.sequence.senders[].too_old] | add' <<<"$r"), highest_seq $(jq '[.sequence.senders[].highest_seq] | max' <<<"$r")"
    stop_agent
}
jumps "$VOLLEY" release
if [[ $VOLLEY_DEBUG == - ]]; then echo "2. sequence jumps (debug): skipped (VOLLEY_DEBUG_BIN=-)"
elif [[ -x $VOLLEY_DEBUG ]]; then jumps "$VOLLEY_DEBUG" debug
else echo "2. sequence jumps (debug): skipped, $VOLLEY_DEBUG not built (swift build)"; fi

# 3 ------------------------------------------------------------------------ largest scheduled send
start_agent "$VOLLEY" schedule
sleep 0.3
before=$(rss_kb)
start_at=$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%S.%3NZ)
# Meanwhile, how long another client waits for the job list (does the POST hold the agent up?).
(sleep 0.5; curl -sS --max-time 30 -o /dev/null -w '%{http_code} %{time_total}' "$AGENT_URL/v1/jobs" >"$TMP/list.txt") &
lister=$!
post "{\"mode\":\"send\",\"target\":\"127.0.0.1:9\",\"threads\":16,\"batch\":1024,\"payload_bytes\":65507,\"rate_pps\":1000,\"start_at\":\"$start_at\"}"
after=$(rss_kb)
wait "$lister" || true
list=$(cat "$TMP/list.txt" 2>/dev/null || echo "none")
if [[ $CODE == 201 ]]; then
    what="state $(jq -r .state "$BODY")"
    cancel "$JOB_ID"
    wait_ended "$JOB_ID" 10 || true
else
    what="refused: $(refusal)"
fi
echo "3. largest send job scheduled 60 s ahead: POST answered $CODE in ${SECONDS_TAKEN} s ($what);" \
    "agent RSS +$(mib $((after - before))) ($(mib "$before") -> $(mib "$after")), $(mib "$(rss_kb)") after cancel;" \
    "GET /v1/jobs sent 0.5 s into the POST: ${list% *} in ${list#* } s"
stop_agent

# 4 ------------------------------------------------------------------------ reflect loop
start_agent "$VOLLEY" loop
pa=$(freeport) pb=$(freeport)
post "{\"mode\":\"reflect\",\"listen\":\"127.0.0.1:$pa\",\"duration_s\":3}"; a=$JOB_ID
post "{\"mode\":\"reflect\",\"listen\":\"127.0.0.1:$pb\",\"duration_s\":3}"; b=$JOB_ID
wait_running "$a" && wait_running "$b" || die "reflectors did not start: $(refusal)"
if spoofed=$(timeout 10 "$PEER" spoof --from "127.0.0.1:$pa" --to "127.0.0.1:$pb" 2>"$TMP/spoof.err" | jq .sent); then
    wait_ended "$a" 15 || true
    wait_ended "$b" 15 || true
    ra=$(result "$a") rb=$(result "$b")
    echo "4. reflect loop from $spoofed spoofed datagram (A=127.0.0.1:$pa -> B=127.0.0.1:$pb, 3 s):" \
        "A received $(jq .received.packets <<<"$ra") sent $(jq .sent.packets <<<"$ra");" \
        "B received $(jq .received.packets <<<"$rb") sent $(jq .sent.packets <<<"$rb")"
else
    echo "4. reflect loop: SKIPPED, no raw socket ($(cat "$TMP/spoof.err")); run as root"
fi
stop_agent

# 5 ------------------------------------------------------------------------ echo replay
start_agent "$VOLLEY" echo
port=$(freeport)
timeout 90 "$PEER" replay --listen "127.0.0.1:$port" --seconds 70 --behind 2097152 --keep 1024 >"$TMP/replay.json" &
replayer=$!
PIDS+=("$replayer")
sleep 0.3
# max_packets ends the sending; duration_s only bounds it on a slow or busy machine.
echo_spec() {
    echo "{\"mode\":\"echo\",\"target\":\"127.0.0.1:$port\",\"rate_pps\":$1,\"max_packets\":2300000,\"duration_s\":40,\"echo_timeout_ms\":8000}"
}
rate='"max"'
post "$(echo_spec "$rate")"
if [[ $CODE == 400 ]]; then rate=0; post "$(echo_spec $rate)"; fi
[[ $CODE == 201 ]] || die "echo job refused ($CODE): $(refusal)"
end=$((SECONDS + 60))
while ((SECONDS < end)) && kill -0 "$AGENT_PID" 2>/dev/null; do
    case $(state "$JOB_ID") in queued | scheduled | running | unknown) sleep 0.3 ;; *) break ;; esac
done
sleep 0.5
if kill -0 "$AGENT_PID" 2>/dev/null && curl -sS --max-time 5 "$AGENT_URL/v1/health" >/dev/null 2>&1; then
    survived="survived (process alive, /v1/health answers)"
    counters=$(result "$JOB_ID" | jq -c '{state, echo}')
else
    survived="DIED"
    counters="job counters lost with it"
fi
kill -TERM "$replayer" 2>/dev/null || true
wait "$replayer" 2>/dev/null || true
echo "5. echo replay (rate_pps $rate, 2,300,000 datagrams on one flow; peer $(tr -d '\n' <"$TMP/replay.json")): agent $survived; $counters"
if [[ $(jq .replayed "$TMP/replay.json" 2>/dev/null) == 0 ]]; then
    echo "   (no replay: the job never got 2^21 past the kept replies, so this line proves nothing; see newest_seq)"
fi
echo "# load at the end $(load)"
if [[ $survived == DIED ]]; then
    echo "--- agent stderr: the failure and the first Swift frames of the crashed thread ---"
    grep -E 'runtime failure|Fatal error| crashed:' "$AGENT_LOG" | head -3
    sed -n '/ crashed:/,$p' "$AGENT_LOG" | grep -E ' at /.*\.swift:[0-9]+' | grep -v checkouts | head -3
fi
stop_agent
