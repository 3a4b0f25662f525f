#!/usr/bin/env bash
# Benchmarks/run.sh - Volley against a C reference (Benchmarks/reference/udpref.c), iperf3 and
# sockperf, in one run, on loopback only. See Benchmarks/README.md for what each row measures.
#
#   make bench                 # builds the release agent, then runs this
#   bash Benchmarks/run.sh     # uses .build/release/volley as it is
#
# Environment: ROUNDS (3) rounds per measurement, median reported; SECS (5) seconds per run;
# T_ROUNDS (3 × ROUNDS) and T_SECS (2): the rounds and seconds of the throughput rows a-c instead;
# SCALING (1): the threads-2 rows s1-s4 on a second, unpinned agent (0 skips them, "only" runs
# nothing else and writes OUT with those rows alone - point OUT elsewhere for that);
# VOLLEY (.build/release/volley); OUT (docs/performance.md); PIN (1): with 2+ CPUs the side under
# test (the Volley agent, or the C/iperf3/sockperf program it is compared with) runs on CPU PIN_CPU
# (1) and its peer (sink, sender, server) on CPU 0 (CPU 1 when PIN_CPU is 0), so every pair gets the
# same placement; PIN=0 leaves placement to the scheduler.
# The harness reports; it does not fail on a missed target (exit 0 unless something broke).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VOLLEY=${VOLLEY:-$ROOT/.build/release/volley}
ROUNDS=${ROUNDS:-3}
SECS=${SECS:-5}
OUT=${OUT:-$ROOT/docs/performance.md}
BIN=$ROOT/.build-bench
UDPREF=$BIN/udpref
SHIM=$BIN/malloc_count.so
RATE=100000            # pacing test, datagrams per second
START_AHEAD=0.3        # a Volley send job of rows a, b1 and s1 starts this long after it is submitted
SIZE=64                # UDP payload bytes everywhere
SINK_SECS=$(awk -v s="$SECS" 'BEGIN { print s + 1 }')   # a Volley sink job fed for SECS (6 s for 5 s runs)
# The throughput rows (a-c) pair more, shorter runs: the host slows a vCPU for seconds at a time
# (both senders at 0.75-0.94 Mpps instead of ~1.7 for 8-10 s, Benchmarks/README.md, "Throughput
# rounds"), and two 2 s runs back to back share such a period more often than two 5 s runs do.
T_ROUNDS=${T_ROUNDS:-$((3 * ROUNDS))}
T_SECS=${T_SECS:-2}
# throughput CMD...: runs one side of rows a-c with SECS and SINK_SECS set to the throughput rounds'.
throughput() {
    local SECS=$T_SECS SINK_SECS
    SINK_SECS=$(awk -v s="$T_SECS" 'BEGIN { print s + 1 }')
    "$@"
}
PIN=${PIN:-1}
# Reads an echo result's HDR histogram for a p50 finer than whole µs (Benchmarks/hdr-p50.py); `make
# bench` passes the test venv's python, which has hdrhistogram.
PYTHON=${VOLLEY_PYTHON:-python3}

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ------------------------------------------------------------------ set-up

need=()
for tool in iperf3 sockperf jq curl gcc; do command -v "$tool" >/dev/null || need+=("$tool"); done
if ((${#need[@]})); then
    log "installing ${need[*]} with apt-get"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
[[ -x $VOLLEY ]] || die "$VOLLEY not found: build it first (make release)"

mkdir -p "$BIN"
gcc -O2 -D_GNU_SOURCE -Wall -o "$UDPREF" Benchmarks/reference/udpref.c
gcc -O2 -D_GNU_SOURCE -Wall -shared -fPIC -o "$SHIM" Benchmarks/malloc_count.c

DUT=() PEER=() ALL=()   # command prefixes: the side under test, its peer, any CPU
DUT_CPU='' PEER_CPU=''  # their CPUs when pinned (not taken from the environment)
if [[ $PIN == 1 ]] && (($(nproc) >= 2)) && command -v taskset >/dev/null; then
    DUT_CPU=${PIN_CPU:-1} PEER_CPU=0
    [[ $DUT_CPU =~ ^[0-9]+$ ]] || die "PIN_CPU=$DUT_CPU: give a CPU number"
    ((DUT_CPU != 0)) || PEER_CPU=1
    ((DUT_CPU < $(nproc))) || die "PIN_CPU=$DUT_CPU: this machine has CPUs 0-$(($(nproc) - 1))"
    DUT=(taskset -c "$DUT_CPU") PEER=(taskset -c "$PEER_CPU") ALL=(taskset -c "0-$(($(nproc) - 1))")
    PLACEMENT="side under test on CPU $DUT_CPU, its peer and the harness itself on CPU $PEER_CPU"
    # The harness's own processes (bash, and the curl and jq of every job poll, 5 a second) stay
    # off the side under test's CPU: scheduled there, each held it for a slice of ~3 ms while the
    # paced worker waited, which cost row d 5-9 % of its 10 ms windows (Benchmarks/README.md,
    # "The pacing stall"). Programs that should run anywhere are started with ALL.
    taskset -cp "$PEER_CPU" $$ >/dev/null
else
    PLACEMENT="not pinned"
fi

TMP=$(mktemp -d /tmp/volley-bench.XXXXXX)
BG_PIDS=()
cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    rm -rf "$TMP"
    # Leave our cgroup (to the root one) so that it can be removed.
    if [[ -n ${OWN_CGROUP:-} ]]; then
        echo $$ >"$(dirname "$OWN_CGROUP")/cgroup.procs" 2>/dev/null || true
        rmdir "$OWN_CGROUP" 2>/dev/null || true
    fi
}
trap cleanup EXIT

# Runs "$@" in the background under `timeout` (so it always ends by itself); sets BG_PID.
bg() {
    local limit=$1 out=$2; shift 2
    timeout "$limit" "$@" >"$out" 2>"$out.err" &
    BG_PID=$!
    BG_PIDS+=("$BG_PID")
}
# Waits for a background command; its failure is logged, not fatal.
bg_wait() { wait "$1" || log "background command $1 exited with $?"; }
# Seconds for `timeout`: the run time plus a margin.
limit() { awk -v s="$1" 'BEGIN { printf "%d", s + 15 }'; }
freeport() { "$UDPREF" freeport; }
# udp_bound PORT: waits until a UDP socket is bound to PORT (at most 5 s; says so if none is), so a
# client is not started against a server still starting up on a busy machine.
udp_bound() {
    local _
    for _ in $(seq 50); do
        ss -uln "sport = :$1" | grep -q ":$1" && return 0
        sleep 0.1
    done
    log "nothing bound UDP port $1 within 5 s"
    return 1
}
# ipis: the function-call IPIs the side under test's CPU has received (the CAL line of
# /proc/interrupts), when it is pinned; else nothing. On loopback most of them are the kernel's
# deferred-free kicks: the sink's CPU hands the buffers it frees back to the CPU that allocated them
# (the sender's) and interrupts it when 32 have piled up; in a VM each is an exit. A GSO sender
# runs at one of two speeds with them (Benchmarks/README.md, "Deferred frees"), so rows a and b1
# list them per 1000 datagrams.
ipis() { [[ -n ${DUT_CPU:-} ]] && awk -v c=$((DUT_CPU + 2)) '$1 == "CAL:" { print $c }' /proc/interrupts || true; }
# add_ipis KEY BEFORE DATAGRAMS: records KEY.ipi, the IPIs since BEFORE per 1000 datagrams.
# Nothing when unpinned, or when the run reports no datagrams (a count of 0, or none at all).
add_ipis() { [[ -n $2 && $3 =~ ^[1-9][0-9]*$ ]] && add "$1.ipi" "$(calc "1000 * ($(ipis) - $2) / $3")" || true; }

# ------------------------------------------------------------------ the agent

# start_agent NAME [PRELOAD]: sets AGENT_PID, AGENT_URL, AGENT_LOG.
start_agent() {
    local dir=$TMP/agent-$1 preload=${2:-} i
    mkdir -p "$dir/data"
    AGENT_LOG=$dir/log
    if [[ -n $preload ]]; then
        timeout 900 "${DUT[@]}" env LD_PRELOAD="$preload" "$VOLLEY" serve --listen 127.0.0.1:0 --data-dir "$dir/data" 2>"$AGENT_LOG" &
    else
        timeout 900 "${DUT[@]}" "$VOLLEY" serve --listen 127.0.0.1:0 --data-dir "$dir/data" 2>"$AGENT_LOG" &
    fi
    AGENT_PID=$!
    BG_PIDS+=("$AGENT_PID")
    AGENT_URL=
    for i in $(seq 100); do
        AGENT_URL=$(grep -o 'listening on http://[0-9.]*:[0-9]*' "$AGENT_LOG" | head -1 | sed 's/listening on //') || true
        [[ -n $AGENT_URL ]] && return 0
        kill -0 "$AGENT_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$AGENT_LOG" >&2
    die "the agent did not start"
}

# SIGTERM, then wait. The agent should log "stopping" and exit 0; anything else is reported.
stop_agent() {
    local status=0
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || status=$?
    if ((status != 0)) || ! grep -q stopping "$AGENT_LOG"; then
        log "warning: the agent did not shut down cleanly on SIGTERM (exit status $status$(grep -q stopping "$AGENT_LOG" || echo ', no "stopping" in its log'))"
        AGENT_WARNINGS="the agent did not shut down cleanly on SIGTERM (exit status $status)"
    fi
}
AGENT_WARNINGS=

# submit JSON: on 201 sets JOB_ID and returns 0; otherwise sets REFUSAL and returns 1.
submit() {
    local code
    code=$(curl -sS --max-time 10 -o "$TMP/response.json" -w '%{http_code}' --json "$1" "$AGENT_URL/v1/jobs") || code=000
    if [[ $code == 201 ]]; then
        JOB_ID=$(jq -r .id "$TMP/response.json")
        return 0
    fi
    REFUSAL="agent refused: $(jq -r '.error.message // empty' "$TMP/response.json" 2>/dev/null || true)"
    [[ $code == 400 ]] || REFUSAL="$REFUSAL (HTTP $code)"
    REFUSAL=${REFUSAL//|//}
    log "job refused: $1 -> $REFUSAL"
    return 1
}

# wait_job ID OUTFILE [QUIET_SECONDS]: polls until the job has finished, then stores its result in
# OUTFILE. With QUIET_SECONDS (a traffic job's duration) the first poll waits that long: the C
# references run unpolled, and a curl and a jq started every 0.2 s during a Volley round made its
# send row 7 % slower than the same job left alone (Benchmarks/README.md, row a).
wait_job() {
    local id=$1 out=$2 state t0=$SECONDS
    [[ -z ${3:-} ]] || sleep "$3"
    while :; do
        state=$(curl -sS --max-time 5 "$AGENT_URL/v1/jobs/$id" | jq -r .state) || state=unknown
        case $state in completed | failed | cancelled) break ;; esac
        if ((SECONDS - t0 > 60)); then
            log "job $id still '$state' after 60 s"
            return 1
        fi
        sleep 0.2
    done
    curl -sS --max-time 10 -o "$out" "$AGENT_URL/v1/jobs/$id/result"
}

# ------------------------------------------------------------------ numbers

declare -A VALS=() NA=()
add() { VALS[$1]="${VALS[$1]:-} $2"; }    # add KEY VALUE: one round's value
na() { local m=${2//$'\n'/ }; NA[$1]=${m//|//}; }   # na KEY REASON: the measurement could not be made
has() { [[ -z ${NA[$1]:-} && -n ${VALS[$1]:-} ]]; }
median() {
    # shellcheck disable=SC2086
    printf '%s\n' ${VALS[$1]:-} | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) print "nan"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
calc() { awk "BEGIN { printf \"%.10g\\n\", $* }"; }
# paired VKEY RKEY: the median of the per-round ratios VKEY/RKEY, then the ratios themselves, when
# both keys have one value per round (the two sides ran back to back in each round); else the ratio
# of the medians and nothing more. The host's speed drifts between rounds (a GSO round may run at
# 1.0 or 1.7 Mpps for either tool), and the ratio of two medians can then pair a fast round of one
# side with a slow round of the other.
paired() {
    # shellcheck disable=SC2086
    local -a v=(${VALS[$1]:-}) r=(${VALS[$2]:-})
    if ((${#v[@]} == 0 || ${#v[@]} != ${#r[@]})); then calc "$(median "$1") / $(median "$2")"; return; fi
    local i ratio key="$1/$2" list=""
    VALS[$key]=""
    for i in "${!v[@]}"; do
        ratio=$(calc "${v[$i]} / ${r[$i]}")
        add "$key" "$ratio"
        list="$list${list:+, }$(fmt '%.2f' "$ratio")"
    done
    printf '%s %s\n' "$(median "$key")" "$list"
}
pps() { awk -v x="$1" 'BEGIN { if (x !~ /^[0-9.eE+-]+$/) print "n/a"; else if (x >= 1e6) printf "%.2f Mpps", x / 1e6;
                             else printf "%.1f kpps", x / 1e3 }'; }
fmt() { awk -v x="$2" "BEGIN { printf \"$1\", x }"; }
yes_no() { if awk "BEGIN { exit !($1) }"; then echo met; else echo MISSED; fi; }

# ------------------------------------------------------------------ a. send

volley_send() {   # volley_send KEY EXTRA_JSON: Volley send job into the C sink
    local key=$1 extra=$2 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/sink.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 1 + "$START_AHEAD")"
    local sink=$BG_PID
    udp_bound "$port" || true
    local ipi0 start_at
    ipi0=$(ipis)
    # The job starts START_AHEAD s after it is submitted (`start_at`, on the agent's clock thread),
    # so the harness's curl and jq are done by then: run on the sink's CPU as the job started, they
    # tipped the kernel into its slow GSO state (the one with the deferred-free IPIs) in 5, 4 and 1
    # of 8 jobs, in none of 16 started this way (Benchmarks/README.md, "Deferred frees"). The C
    # sender starts with nothing else running.
    start_at=$(date -u -d "+$START_AHEAD sec" +%Y-%m-%dT%H:%M:%S.%3NZ)
    if submit "{\"mode\":\"send\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$SECS,\"payload_bytes\":$SIZE,\"batch\":64,\"rate_pps\":\"max\",\"start_at\":\"$start_at\"$extra}"; then
        if ! wait_job "$JOB_ID" "$TMP/job.json" "$(calc "$SECS" + "$START_AHEAD")"; then
            na "$key" "job did not finish"
            bg_wait "$sink"
            return
        fi
        bg_wait "$sink"
        local sent elapsed
        sent=$(jq .sent.packets "$TMP/job.json")
        elapsed=$(jq .elapsed_s "$TMP/job.json")
        add "$key" "$(calc "$sent / $elapsed")"
        add "$key.rx" "$(calc "$(jq .packets "$TMP/sink.json") / $elapsed")"
        add_ipis "$key" "$ipi0" "$sent"
        log "$key: volley sent $sent in $elapsed s; C sink got $(jq .packets "$TMP/sink.json")"
    else
        na "$key" "$REFUSAL"
        kill -TERM "$sink" 2>/dev/null || true
        wait "$sink" 2>/dev/null || true
    fi
}

ref_send() {   # ref_send KEY [--gso]: the C sender into the C sink
    local key=$1 port
    shift
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/sink.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 1)"
    local sink=$BG_PID
    udp_bound "$port" || true
    local ipi0
    ipi0=$(ipis)
    timeout "$(limit "$SECS")" "${DUT[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$SECS" --size "$SIZE" --batch 64 "$@" >"$TMP/send.json"
    bg_wait "$sink"
    add "$key" "$(jq .pps "$TMP/send.json")"
    add_ipis "$key" "$ipi0" "$(jq .packets "$TMP/send.json")"
    add "$key.rx" "$(calc "$(jq .packets "$TMP/sink.json") / $(jq .seconds "$TMP/send.json")")"
    log "$key: C sent $(jq .packets "$TMP/send.json"); C sink got $(jq .packets "$TMP/sink.json")"
}

iperf_send() {   # iperf_send KEY: iperf3 -u -b 0 -l 64, sender datagrams/s
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/iperf-server.txt" "${PEER[@]}" iperf3 -s -1 -B 127.0.0.1 -p "$port"
    local server=$BG_PID
    sleep 0.5
    if timeout "$(limit "$SECS")" "${DUT[@]}" iperf3 -c 127.0.0.1 -p "$port" -u -b 0 -l "$SIZE" -t "$SECS" -J >"$TMP/iperf.json"; then
        local p s
        p=$(jq '(.end.sum_sent // .end.sum).packets' "$TMP/iperf.json")
        s=$(jq '(.end.sum_sent // .end.sum).seconds' "$TMP/iperf.json")
        add "$key" "$(calc "$p / $s")"
        log "$key: iperf3 sent $p in $s s"
    else
        log "$key: iperf3 failed: $(jq -r '.error // empty' "$TMP/iperf.json" 2>/dev/null)"
    fi
    bg_wait "$server"
}

# ------------------------------------------------------------------ c. sink

# The sinks are fed by `udpref send --gso`: on loopback the kernel's receive path (including
# cutting GSO super-datagrams into datagrams) runs on the sender's CPU, so a plain sender is slower
# than any sink; the GSO sender offers more than a sink takes in, which is what is measured.
volley_sink() {
    local key=$1 port
    port=$(freeport)
    if submit "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$SINK_SECS,\"batch\":64}"; then
        udp_bound "$port" || true
        timeout "$(limit "$SECS")" "${PEER[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$SECS" --size "$SIZE" --batch 64 --gso >"$TMP/send.json"
        wait_job "$JOB_ID" "$TMP/job.json" || { na "$key" "job did not finish"; return; }
        local got
        got=$(jq .received.packets "$TMP/job.json")
        add "$key" "$(calc "$got / $(jq .seconds "$TMP/send.json")")"
        add "$key.tx" "$(jq .pps "$TMP/send.json")"
        log "$key: C sent $(jq .packets "$TMP/send.json"); volley sink got $got"
    else
        na "$key" "$REFUSAL"
    fi
}

ref_sink() {   # ref_sink KEY [--sources]: the C sink (with --sources reading each datagram's source, row c2)
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SINK_SECS")" "$TMP/sink.json" "${DUT[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$SINK_SECS" "${@:2}"
    local sink=$BG_PID
    udp_bound "$port" || true
    timeout "$(limit "$SECS")" "${PEER[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$SECS" --size "$SIZE" --batch 64 --gso >"$TMP/send.json"
    bg_wait "$sink"
    add "$key" "$(calc "$(jq .packets "$TMP/sink.json") / $(jq .seconds "$TMP/send.json")")"
    add "$key.tx" "$(jq .pps "$TMP/send.json")"
    log "$key: C sent $(jq .packets "$TMP/send.json"); C sink got $(jq .packets "$TMP/sink.json")"
}

# ------------------------------------------------------------------ d. pacing

JUDGE=(--windows-ms 10 --expect-pps "$RATE")
# judged KEY SINKFILE: records total error (%) and the fraction of good windows from a judging sink.
judged() {
    local key=$1 f=$2
    if ! jq -e .windows "$f" >/dev/null 2>&1; then
        log "$key: no judgement ($(cat "$f.err" 2>/dev/null))"
        return
    fi
    add "$key.total" "$(calc "($(jq .packets "$f") - $RATE * $SECS) * 100 / ($RATE * $SECS)")"
    add "$key.windows" "$(calc "$(jq .windows_within_5pct "$f") * 100")"
    log "$key: $(jq -c '{packets, windows, windows_within_5pct, window_min, window_max}' "$f")"
}

# pace_volley KEY [EXTRA_JSON]: EXTRA_JSON goes into the job's spec (row d5: busy_poll_us). Also
# records KEY.cpu, the worker's CPU seconds per second of the job (io.workers).
pace_volley() {
    local key=$1 extra=${2:-} port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/judge.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 1)" "${JUDGE[@]}"
    local sink=$BG_PID
    udp_bound "$port" || true
    if submit "{\"mode\":\"send\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$SECS,\"payload_bytes\":$SIZE,\"batch\":64,\"rate_pps\":$RATE$extra}"; then
        local finished=1 cpu
        wait_job "$JOB_ID" "$TMP/job.json" "$SECS" || finished=0
        bg_wait "$sink"
        if ((finished)); then judged "$key" "$TMP/judge.json"; else na "$key" "job did not finish"; fi
        cpu=$(jq -r '(.io.workers.cpu_s // empty) / .elapsed_s' "$TMP/job.json" 2>/dev/null) || cpu=
        [[ -z $cpu ]] || add "$key.cpu" "$cpu"
    else
        na "$key" "$REFUSAL"
        kill -TERM "$sink" 2>/dev/null || true
        wait "$sink" 2>/dev/null || true
    fi
}

pace_ref() {
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/judge.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 1)" "${JUDGE[@]}"
    local sink=$BG_PID
    udp_bound "$port" || true
    timeout "$(limit "$SECS")" "${DUT[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$SECS" --size "$SIZE" --batch 64 --rate "$RATE" >/dev/null
    bg_wait "$sink"
    judged "$key" "$TMP/judge.json"
}

# iperf3 talks to its own server (control connection), so its datagrams are judged by watching
# the loopback interface (udpref sink --tap-port) rather than by receiving them.
pace_iperf() {
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/iperf-server.txt" "${PEER[@]}" iperf3 -s -1 -B 127.0.0.1 -p "$port"
    local server=$BG_PID
    bg "$(limit "$SECS")" "$TMP/judge.json" "${PEER[@]}" "$UDPREF" sink --tap-port "$port" --size "$SIZE" --seconds "$(calc "$SECS" + 2.5)" "${JUDGE[@]}"
    local tap=$BG_PID
    sleep 0.5
    timeout "$(limit "$SECS")" "${DUT[@]}" iperf3 -c 127.0.0.1 -p "$port" -u -b $((RATE * SIZE * 8)) -l "$SIZE" -t "$SECS" >/dev/null ||
        log "$key: iperf3 failed"
    bg_wait "$server"
    bg_wait "$tap"
    judged "$key" "$TMP/judge.json"
}

# sockperf tp needs no answers, so it is pointed straight at the judging sink. Its warm-up
# (about 2 s, ~50 dummy messages just before the test) is inside the sink's run.
pace_sockperf() {
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/judge.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 3.5)" "${JUDGE[@]}"
    local sink=$BG_PID
    udp_bound "$port" || true
    timeout "$(limit "$SECS")" "${DUT[@]}" sockperf tp -i 127.0.0.1 -p "$port" --mps "$RATE" -m "$SIZE" -t "$SECS" >"$TMP/sockperf-tp.txt" 2>&1 ||
        log "$key: sockperf failed: $(tail -3 "$TMP/sockperf-tp.txt")"
    bg_wait "$sink"
    judged "$key" "$TMP/judge.json"
}

# ------------------------------------------------------------------ e. echo

# volley_echo KEY [EXTRA_JSON [split]]: EXTRA_JSON goes into the echo job's spec (row e2:
# busy_poll_us; rows e5 and e6: cpu_latency_us). With "split" the reflector is `volley run reflect` on the peer's CPU instead of a
# reflect job in the agent (row e4: every request and every reply wakes a thread on the other CPU).
volley_echo() {
    local key=$1 extra=${2:-} split=${3:-} port reflector='' reflect
    port=$(freeport)
    reflect="{\"mode\":\"reflect\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$(calc "$SECS" + 2)}"
    if [[ -n $split ]]; then
        if [[ -z ${PEER_CPU:-} ]]; then
            na "$key" "needs two CPUs and PIN=1"
            return
        fi
        echo "$reflect" >"$TMP/reflect-split.json"
        bg "$(limit "$SECS")" "$TMP/reflect-split.out" "${PEER[@]}" "$VOLLEY" run "$TMP/reflect-split.json" --progress none
        reflector=$BG_PID
        udp_bound "$port" || true
    elif ! submit "$reflect"; then
        na "$key" "$REFUSAL"
        return
    fi
    # The reflector ends by itself 2 s after the echo job; a reflect job is not waited for.
    if submit "{\"mode\":\"echo\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$SECS,\"rate_pps\":1000,\"payload_bytes\":$SIZE$extra}"; then
        wait_job "$JOB_ID" "$TMP/job.json" "$SECS" || { na "$key" "job did not finish"; return; }
        local p50 whole
        whole=$(jq '.latency_us.p50 // empty' "$TMP/job.json")
        if [[ -z $whole ]]; then
            na "$key" "no latency_us.p50 in the echo result"
            return
        fi
        # Within its whole-µs bucket (sockperf's p50 is to the ns); the whole µs only without hdrhistogram.
        p50=$("$PYTHON" Benchmarks/hdr-p50.py "$TMP/job.json" 2>/dev/null) || { p50=$whole; ECHO_WHOLE_US=1; }
        add "$key" "$p50"
        log "$key: volley echo p50 ${p50} us; $(jq -c '{sent: .sent.packets, received: .received.packets, latency_us: (.latency_us | del(.hdr))}' "$TMP/job.json")"
    else
        na "$key" "$REFUSAL"
    fi
    [[ -z $reflector ]] || bg_wait "$reflector"
}

# sockperf reports half the round trip unless --full-rtt; Volley's echo latency is a round trip.
# Both sockperf ends run where the agent runs, as Volley's echo and reflect jobs share the agent;
# with "split" (row e4) the server runs on the peer's CPU, as row e4's reflector does.
sockperf_echo() {
    local key=$1 split=${2:-} poll=${3:-} port where=("${DUT[@]}") qos=''
    if [[ -n $split ]]; then
        if [[ -z ${PEER_CPU:-} ]]; then
            na "$key" "needs two CPUs and PIN=1"
            return
        fi
        where=("${PEER[@]}")
    fi
    # "poll" (row e5): the harness holds the PM QoS request that Volley's `cpu_latency_us` 0 holds
    # (idle CPUs poll instead of halting) for as long as sockperf runs; one byte "0" is read as hex.
    if [[ -n $poll ]]; then
        if ! { exec {qos}>/dev/cpu_dma_latency; } 2>/dev/null; then
            na "$key" "cannot open /dev/cpu_dma_latency (needs root)"
            return
        fi
        printf 0 >&"$qos"
    fi
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/sockperf-sr.txt" "${where[@]}" sockperf sr -i 127.0.0.1 -p "$port"
    local server=$BG_PID
    udp_bound "$port" || true
    timeout "$(limit "$SECS")" "${DUT[@]}" sockperf ping-pong -i 127.0.0.1 -p "$port" --mps 1000 -m "$SIZE" -t "$SECS" --full-rtt \
        >"$TMP/sockperf-pp.txt" 2>&1 || log "$key: sockperf ping-pong failed"
    kill -TERM "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    [[ -z $qos ]] || exec {qos}>&-
    local p50
    p50=$(sed -n 's/.*percentile 50\.000 = *\([0-9.]*\).*/\1/p' "$TMP/sockperf-pp.txt" | head -1)
    if [[ -n $p50 ]]; then
        add "$key" "$p50"
        log "$key: sockperf p50 ${p50} us"
    else
        log "$key: no p50 in sockperf output: $(tail -3 "$TMP/sockperf-pp.txt")"
    fi
}

# c_echo KEY: the C ping-pong client that sleeps between requests (udpref ping) against the C reflector
# (udpref reflect), both where the agent runs: what sleeping costs a round trip on this machine, with no
# Volley code on the path (row e3, a reference for row e).
c_echo() {
    local key=$1 port
    port=$(freeport)
    bg "$(limit "$SECS")" "$TMP/c-reflect.json" "${DUT[@]}" "$UDPREF" reflect --listen "127.0.0.1:$port" --seconds "$(calc "$SECS" + 1)"
    local server=$BG_PID
    udp_bound "$port" || true
    timeout "$(limit "$SECS")" "${DUT[@]}" "$UDPREF" ping --target "127.0.0.1:$port" --seconds "$SECS" --rate 1000 --size "$SIZE" \
        >"$TMP/c-ping.json" 2>&1 || log "$key: udpref ping failed: $(tail -3 "$TMP/c-ping.json")"
    bg_wait "$server"
    local p50
    p50=$(jq -r '.p50_us // empty' "$TMP/c-ping.json" 2>/dev/null || true)
    if [[ -n $p50 ]]; then
        add "$key" "$p50"
        log "$key: C sleeping echo p50 ${p50} us; $(cat "$TMP/c-ping.json")"
    else
        log "$key: no p50 from udpref ping: $(tail -3 "$TMP/c-ping.json")"
    fi
}

# ------------------------------------------------------------------ f. allocations

# alloc_run KIND SECONDS: `volley run` (the engine in-process: no agent, no HTTP, no checkpoints)
# under the malloc_count shim runs one job (kind send: into the C sink; kind sink: fed by the C GSO
# sender). Records "allocations datagrams"; the difference of two lengths leaves the per-datagram part.
alloc_run() {
    local kind=$1 d=$2 port allocs packets= err=$TMP/alloc.err out=$TMP/alloc.json
    port=$(freeport)
    if [[ $kind == send ]]; then
        bg "$(limit "$d")" "$TMP/sink.json" "${PEER[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$(calc "$d" + 1)"
        local sink=$BG_PID
        udp_bound "$port" || true
        echo "{\"mode\":\"send\",\"target\":\"127.0.0.1:$port\",\"duration_s\":$d,\"payload_bytes\":$SIZE,\"batch\":64,\"rate_pps\":\"max\"}" |
            LD_PRELOAD=$SHIM timeout "$(limit "$d")" "${DUT[@]}" "$VOLLEY" run - --progress none >"$out" 2>"$err" || true
        packets=$(jq '.sent.packets // empty' "$out" 2>/dev/null)
        bg_wait "$sink"
    else
        echo "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$(calc "$d" + 1),\"batch\":64}" |
            LD_PRELOAD=$SHIM timeout "$(limit "$d")" "${DUT[@]}" "$VOLLEY" run - --progress none >"$out" 2>"$err" &
        local run=$!
        udp_bound "$port" || true
        timeout "$(limit "$d")" "${PEER[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$d" --size "$SIZE" --gso >/dev/null
        wait "$run" || true
        packets=$(jq '.received.packets // empty' "$out" 2>/dev/null)
    fi
    allocs=$(grep 'malloc_count: program=volley' "$err" | tail -1 | sed -n 's/.* total=\([0-9]*\).*/\1/p')
    if [[ -z $allocs || -z $packets ]]; then
        na "alloc.$kind" "$( [[ -z $allocs ]] && echo "no malloc_count line" || echo "no datagram count: $(head -c 120 "$out")")"
        return
    fi
    log "alloc $kind ${d}s: $allocs allocations, $packets datagrams"
    ALLOC[$kind.$d]="$allocs $packets"
}
declare -A ALLOC=()

# ------------------------------------------------------------------ s. scaling (#13 item 8)

# Run on a second, unpinned agent (DUT and PEER allow every CPU): two threads pinned to one CPU
# would only measure time-sharing. Volley's sink threads share the port with SO_REUSEPORT, which
# picks a socket by hashing the source address and port: one feeder reaches one thread only, two
# feeders land on different threads only when their ports hash apart (the per-thread counts in the
# log show it).
scale_send() {   # scale_send KEY THREADS
    volley_send "$1" ",\"threads\":$2"
}

# scale_sink KEY THREADS FEEDERS [c]: a Volley sink with THREADS threads (or, with c, the C sink)
# fed by FEEDERS GSO senders at once; records received/s and the offered rate.
scale_sink() {
    local key=$1 threads=$2 feeders=$3 kind=${4:-v} port i got sink= pids=()
    port=$(freeport)
    if [[ $kind == c ]]; then
        bg "$(limit "$SINK_SECS")" "$TMP/sink.json" "${DUT[@]}" "$UDPREF" sink --listen "127.0.0.1:$port" --seconds "$SINK_SECS"
        sink=$BG_PID
    elif ! submit "{\"mode\":\"sink\",\"listen\":\"127.0.0.1:$port\",\"duration_s\":$SINK_SECS,\"batch\":64,\"threads\":$threads}"; then
        na "$key" "$REFUSAL"
        return
    fi
    udp_bound "$port" || true
    for ((i = 0; i < feeders; i++)); do
        timeout "$(limit "$SECS")" "${PEER[@]}" "$UDPREF" send --target "127.0.0.1:$port" --seconds "$SECS" --size "$SIZE" --batch 64 --gso >"$TMP/send$i.json" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || log "$key: a feeder exited with $?"; done
    local offered=0 secs=0
    for ((i = 0; i < feeders; i++)); do
        offered=$(calc "$offered + $(jq .pps "$TMP/send$i.json")")
        secs=$(awk -v a="$(jq .seconds "$TMP/send$i.json")" -v b="$secs" 'BEGIN { print (a > b ? a : b) }')
    done
    if [[ $kind == c ]]; then
        bg_wait "$sink"
        got=$(jq .packets "$TMP/sink.json")
    else
        wait_job "$JOB_ID" "$TMP/job.json" || { na "$key" "job did not finish"; return; }
        got=$(jq .received.packets "$TMP/job.json")
    fi
    add "$key" "$(calc "$got / $secs")"
    add "$key.tx" "$offered"
    log "$key: $feeders feeder(s) offered $(pps "$offered"); $kind sink ($threads thread(s)) got $got"
}

# ------------------------------------------------------------------ the run

START=$SECONDS
start_agent main
VERSION=$(curl -sS --max-time 5 "$AGENT_URL/v1/agent" | jq -r .version)
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
log "agent $VERSION at $AGENT_URL; $ROUNDS rounds of ${SECS} s (rows a-c: $T_ROUNDS of ${T_SECS} s); $PLACEMENT; load average $LOAD"
# How busy the machine is without us: CPU time used over one second (all CPUs), and by whom.
cpu_sample() { awk '/^cpu / { print $2 + $3 + $4 + $6 + $7 + $8, $5 }' /proc/stat; }
read -r busy0 idle0 < <(cpu_sample); sleep 1; read -r busy1 idle1 < <(cpu_sample)
CPU_BUSY=$(awk -v b=$((busy1 - busy0)) -v i=$((idle1 - idle0)) 'BEGIN { printf "%.0f", b + i ? 100 * b / (b + i) : 0 }')
BUSY=$(top -b -n 2 -d 0.5 -w 200 | awk '/^top -/ { n++ } n == 2 && $1 ~ /^[0-9]+$/ && $9 + 0 >= 10 {
    printf "%s%s (%s%%)", sep, $12, $9; sep = ", " }') || BUSY=
log "CPU busy before the run: ${CPU_BUSY} %${BUSY:+ ($BUSY)}"
((CPU_BUSY < 10)) || log "warning: the machine is not quiet; results will be noisy"
# Other programs' CPU use during the run, estimated at the end as the machine's user+nice time
# minus the user time of this script and everything it started (the benchmark itself runs mostly
# in the kernel). Counted in a cgroup of our own where the machine allows one: `times` sees only
# children that were waited for, and the agent and the peers that are killed at the end of each
# measurement are not, so without the cgroup their own CPU time looked like other programs' (about
# 20 % of the machine on an idle VM).
user_ticks() { awk '/^cpu / { print $2 + $3 }' /proc/stat; }
OWN_CGROUP=/sys/fs/cgroup/unified/volley-bench.$$
[[ -d /sys/fs/cgroup/unified ]] || OWN_CGROUP=/sys/fs/cgroup/volley-bench.$$
if mkdir "$OWN_CGROUP" 2>/dev/null && echo $$ >"$OWN_CGROUP/cgroup.procs" 2>/dev/null \
    && [[ -r $OWN_CGROUP/cpu.stat ]]; then
    own_user_seconds() { awk '$1 == "user_usec" { printf "%.2f", $2 / 1e6 }' "$OWN_CGROUP/cpu.stat"; }
else
    rmdir "$OWN_CGROUP" 2>/dev/null || true
    OWN_CGROUP=
    own_user_seconds() { times | awk 'NR == 2 { split($1, t, /[ms]/); print t[1] * 60 + t[2] }'; }
fi
USER0=$(user_ticks)
OWN0=$(own_user_seconds)

# Alternate who goes first from round to round, so slow drift does not favour one side.
MAIN_ROUNDS=$ROUNDS
[[ ${SCALING:-1} != only ]] || MAIN_ROUNDS=0
T_MAIN_ROUNDS=$T_ROUNDS
[[ ${SCALING:-1} != only ]] || T_MAIN_ROUNDS=0
for ((r = 1; r <= T_MAIN_ROUNDS; r++)); do
    log "round $r/$T_ROUNDS: send"
    if ((r % 2)); then throughput volley_send v.send ""; throughput ref_send c.send
    else throughput ref_send c.send; throughput volley_send v.send ""; fi
done
for ((r = 1; r <= T_MAIN_ROUNDS; r++)); do
    log "round $r/$T_ROUNDS: GSO send"
    if ((r % 2)); then
        throughput volley_send v.gso ',"gso":true'; throughput ref_send c.gso --gso; throughput iperf_send iperf.send
    else
        throughput iperf_send iperf.send; throughput ref_send c.gso --gso; throughput volley_send v.gso ',"gso":true'
    fi
done
for ((r = 1; r <= T_MAIN_ROUNDS; r++)); do
    log "round $r/$T_ROUNDS: sink"
    if ((r % 2)); then throughput volley_sink v.sink; throughput ref_sink c.sink; throughput ref_sink c.sink_src --sources
    else throughput ref_sink c.sink_src --sources; throughput ref_sink c.sink; throughput volley_sink v.sink; fi
done
# Row d5: the paced worker spinning through its waits instead of sleeping, as sockperf's sender does.
SPIN=',"busy_poll_us":1000'
for ((r = 1; r <= MAIN_ROUNDS; r++)); do
    log "round $r/$ROUNDS: pacing at $RATE pps"
    if ((r % 2)); then
        pace_volley v.pace; pace_volley v.pace_spin "$SPIN"; pace_iperf iperf.pace; pace_sockperf sockperf.pace; pace_ref c.pace
    else
        pace_ref c.pace; pace_sockperf sockperf.pace; pace_iperf iperf.pace; pace_volley v.pace_spin "$SPIN"; pace_volley v.pace
    fi
done
# Rows e5 and e6: idle CPUs polling instead of halting while the echo job runs (`cpu_latency_us` 0).
POLL=',"cpu_latency_us":0'
for ((r = 1; r <= MAIN_ROUNDS; r++)); do
    log "round $r/$ROUNDS: echo"
    if ((r % 2)); then
        volley_echo v.echo; volley_echo v.echo_busy ',"busy_poll_us":1000'; sockperf_echo sockperf.echo; c_echo c.echo
        volley_echo v.echo_split "" split; sockperf_echo sockperf.echo_split split
        volley_echo v.echo_split_poll "$POLL" split; sockperf_echo sockperf.echo_split_poll split poll; volley_echo v.echo_poll "$POLL"
    else
        c_echo c.echo; sockperf_echo sockperf.echo; volley_echo v.echo_busy ',"busy_poll_us":1000'; volley_echo v.echo
        sockperf_echo sockperf.echo_split split; volley_echo v.echo_split "" split
        volley_echo v.echo_poll "$POLL"; sockperf_echo sockperf.echo_split_poll split poll; volley_echo v.echo_split_poll "$POLL" split
    fi
done
stop_agent

# Scaling rows: a second agent, nothing pinned (see scale_send). SCALING=0 skips them, SCALING=only
# runs nothing else.
if [[ ${SCALING:-1} != 0 ]]; then
    MAIN_DUT=("${DUT[@]}") MAIN_PEER=("${PEER[@]}") MAIN_DUT_CPU=${DUT_CPU:-}
    DUT=("${ALL[@]}") PEER=("${ALL[@]}") DUT_CPU=   # unpinned: no one CPU's IPIs to count
    start_agent scaling
    for ((r = 1; r <= ROUNDS; r++)); do
        log "round $r/$ROUNDS: scaling (unpinned)"
        if ((r % 2)); then
            scale_send s.send1 1; scale_send s.send2 2
            scale_sink s.sink1 1 1; scale_sink s.sink2 2 1
            scale_sink s.two1 1 2; scale_sink s.two2 2 2; scale_sink s.twoc 1 2 c
        else
            scale_sink s.twoc 1 2 c; scale_sink s.two2 2 2; scale_sink s.two1 1 2
            scale_sink s.sink2 2 1; scale_sink s.sink1 1 1
            scale_send s.send2 2; scale_send s.send1 1
        fi
    done
    stop_agent
    DUT=("${MAIN_DUT[@]}") PEER=("${MAIN_PEER[@]}") DUT_CPU=$MAIN_DUT_CPU
fi

log "allocations per datagram"
for kind in $([[ ${SCALING:-1} == only ]] || echo send sink); do
    alloc_run "$kind" 1
    [[ -n ${NA[alloc.$kind]:-} ]] || alloc_run "$kind" 4
done
ELAPSED=$((SECONDS - START))
OWN_USER=$(awk -v a="$(own_user_seconds)" -v b="$OWN0" 'BEGIN { print a - b }')
FOREIGN=$(awk -v u=$(($(user_ticks) - USER0)) -v hz="$(getconf CLK_TCK)" -v own="$OWN_USER" \
    'BEGIN { f = u / hz - own; printf "%.0f", f < 0 ? 0 : f }')
FOREIGN_PCT=$(awk -v f="$FOREIGN" -v t="$ELAPSED" -v n="$(nproc)" 'BEGIN { printf "%.0f", t ? 100 * f / (t * n) : 0 }')
QUIET="other programs used about ${FOREIGN} CPU-seconds (${FOREIGN_PCT} % of the machine) during the run"
if ((FOREIGN_PCT >= 3)); then
    QUIET="$QUIET - **the machine was not quiet; these numbers are disturbed, run again**"
    log "warning: $QUIET"
else
    log "$QUIET"
fi

# ------------------------------------------------------------------ the table

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); }

# ratio_row ID WHAT VKEY RKEY TARGET_TEXT OP THRESHOLD [NOTE_LABEL VNOTE_KEY RNOTE_KEY] [RESULT_PREFIX]
# The values are medians; the ratio is the median of the per-round ratios (`paired`), which the cell
# lists in brackets; the notes (e.g. the other end's count) are shown in brackets.
ratio_row() {
    local id=$1 what=$2 vk=$3 rk=$4 target=$5 op=$6 thr=$7 label=${8:-} vnote=${9:-} rnote=${10:-} kind=${11:-}
    local v r vcell rcell
    if [[ -n ${NA[$vk]:-} ]]; then
        row "$id" "$what" "n/a (${NA[$vk]})" "$(has "$rk" && pps "$(median "$rk")" || echo n/a)" "n/a" "$target" "n/a"
        return
    fi
    if ! has "$vk" || ! has "$rk"; then
        row "$id" "$what" "n/a" "n/a" "n/a" "$target" "n/a (no data)"
        return
    fi
    v=$(median "$vk"); r=$(median "$rk")
    vcell=$(pps "$v"); rcell=$(pps "$r")
    [[ -z $vnote ]] || ! has "$vnote" || vcell="$vcell ($label $(pps "$(median "$vnote")"))"
    [[ -z $rnote ]] || ! has "$rnote" || rcell="$rcell ($label $(pps "$(median "$rnote")"))"
    local ratio rounds
    read -r ratio rounds <<<"$(paired "$vk" "$rk")"
    row "$id" "$what" "$vcell" "$rcell" "$(fmt '%.2f×' "$ratio")${rounds:+ (rounds ${rounds})}" "$target" "$kind$(yes_no "$ratio $op $thr")"
}

ratio_row a "send, 64 B, batch 64 (sender count)" v.send c.send "≥ 0.95× C" ">=" 0.95 "C sink got" v.send.rx c.send.rx
ratio_row b1 "GSO send, 64 B segments (sender count; C: 64 messages × 64 segments per call)" v.gso c.gso "≥ 0.95× C GSO" ">=" 0.95 "C sink got" v.gso.rx c.gso.rx
ratio_row b2 "GSO send vs iperf3 -u -b 0 -l 64 (sender count)" v.gso iperf.send "≥ 5× iperf3" ">=" 5
ratio_row b3 "(check) C GSO send vs iperf3" c.gso iperf.send "(≥ 5× for Volley)" ">=" 5 "" "" "" "ref "
ratio_row c "sink, fed by the C GSO sender (received/s)" v.sink c.sink "≥ 0.95× C" ">=" 0.95 "offered" v.sink.tx c.sink.tx
ratio_row c2 "(check) C sink asking for each datagram's source, as Volley's does for its per-sender accounting (udpref sink --sources)" c.sink_src c.sink "(≥ 0.95× for Volley)" ">=" 0.95 "offered" c.sink_src.tx c.sink.tx "ref "

pace_row() {   # pace_row ID WHAT KEY [RESULT_PREFIX]
    local id=$1 what=$2 k=$3 kind=${4:-} t w
    local target="total ±0.5 %, ≥ 99.5 % of windows ±5 %"
    if [[ -n ${NA[$k]:-} ]]; then row "$id" "$what" "n/a (${NA[$k]})" "" "" "$target" "n/a"; return; fi
    if ! has "$k.total"; then row "$id" "$what" "n/a (no data)" "" "" "$target" "n/a"; return; fi
    t=$(median "$k.total"); w=$(median "$k.windows")
    local cell
    cell="total $(fmt '%+.3f' "$t") %, $(fmt '%.1f' "$w") % of windows"
    ! has "$k.cpu" || cell+=", worker CPU $(fmt '%.2f' "$(median "$k.cpu")") s per s"
    local res
    res=$(yes_no "($t >= -0.5 && $t <= 0.5) && $w >= 99.5")
    if [[ -n $kind ]]; then row "$id" "$what" "" "$cell" "" "$target" "$kind$res"
    else row "$id" "$what" "$cell" "" "" "$target" "$res"; fi
}
pace_row d "pacing $RATE pps: Volley (judged by the C sink)" v.pace
pace_row d5 "pacing $RATE pps: Volley spinning through its waits as sockperf does (busy_poll_us 1000)" v.pace_spin
pace_row d2 "pacing: iperf3 -b $((RATE * SIZE * 8)) -l 64 (judged on lo)" iperf.pace "ref "
pace_row d3 "pacing: sockperf tp --mps $RATE -m 64 (C sink)" sockperf.pace "ref "
pace_row d4 "pacing: C udpref --rate $RATE (C sink)" c.pace "ref "

# echo_row ID WHAT KEY [REF [SOCKPERF_KEY]]: an echo p50 against sockperf's of the same rounds
# (sockperf.echo unless SOCKPERF_KEY); REF ("ref ") marks a reference row (the C sleeping client),
# whose ratio shows what this machine allows, not a Volley result.
echo_row() {
    local id=$1 what=$2 k=$3 ref=${4:-} sk=${5:-sockperf.echo} ve se er rounds unit target
    unit=$([[ -n ${ECHO_WHOLE_US:-} && -z $ref ]] && echo ' (whole µs)' || true)
    target=$([[ -n $ref ]] && echo "(≤ 1.1× for Volley)" || echo "≤ 1.1× sockperf")
    if [[ -n ${NA[$k]:-} ]]; then
        row "$id" "$what" "n/a (${NA[$k]})" "$(has "$sk" && fmt '%.2f µs' "$(median "$sk")" || echo n/a)" n/a "$target" n/a
    elif has "$k" && has "$sk"; then
        ve=$(median "$k"); se=$(median "$sk"); read -r er rounds <<<"$(paired "$k" "$sk")"
        row "$id" "$what" "$(fmt '%.2f µs' "$ve")$unit" "$(fmt '%.2f µs' "$se") (sockperf --full-rtt)" "$(fmt '%.2f×' "$er")${rounds:+ (rounds ${rounds})}" "$target" "$ref$(yes_no "$er <= 1.1")"
    else
        row "$id" "$what" n/a n/a n/a "$target" "n/a (no data)"
    fi
}
echo_row e "echo RTT p50, 1000/s, 64 B" v.echo
echo_row e2 "echo RTT p50, the echo spinning as sockperf's client does (busy_poll_us 1000)" v.echo_busy
echo_row e3 "(check) C echo client sleeping between requests as row e's does (udpref ping, udpref reflect)" c.echo "ref "
echo_row e4 "echo RTT p50, the two ends on different CPUs (echo in the agent, \`volley run reflect\` on the peer's CPU; sockperf's server there too)" v.echo_split "" sockperf.echo_split
echo_row e5 "echo RTT p50, row e4's placement with idle CPUs polling (cpu_latency_us 0; the harness holds the same request while sockperf runs)" v.echo_split_poll "" sockperf.echo_split_poll
echo_row e6 "echo RTT p50, row e's placement with idle CPUs polling (cpu_latency_us 0), against row e's sockperf" v.echo_poll

# scale_row ID WHAT KEY2 KEY1 [NOTE]: the two-thread figure against the one-thread one; reported, no target.
scale_row() {
    local id=$1 what=$2 k2=$3 k1=$4
    if ! has "$k2" || ! has "$k1"; then
        row "$id" "$what" "n/a${NA[$k2]:+ (${NA[$k2]})}" "n/a${NA[$k1]:+ (${NA[$k1]})}" n/a "reported" "n/a (no data)"
        return
    fi
    local v2 v1 c2 c1
    v2=$(median "$k2"); v1=$(median "$k1")
    c2=$(pps "$v2"); c1=$(pps "$v1")
    ! has "$k2.tx" || c2="$c2 (offered $(pps "$(median "$k2.tx")"))"
    ! has "$k1.tx" || c1="$c1 (offered $(pps "$(median "$k1.tx")"))"
    local ratio rounds
    read -r ratio rounds <<<"$(paired "$k2" "$k1")"
    row "$id" "$what" "$c2" "$c1" "$(fmt '%.2f×' "$ratio")${rounds:+ (rounds ${rounds})}" "reported (2 CPUs)" "${5:-reported}"
}
if [[ ${SCALING:-1} != 0 ]]; then
    scale_row s1 "scaling: send threads 2 vs threads 1 (unpinned; Volley column: 2 threads, reference: 1)" s.send2 s.send1
    scale_row s2 "scaling: sink threads 2 vs 1, one GSO feeder (unpinned)" s.sink2 s.sink1
    scale_row s3 "scaling: sink threads 2 vs 1, two GSO feeders (unpinned)" s.two2 s.two1
    scale_row s4 "scaling: Volley sink threads 2 vs the C sink, two GSO feeders (unpinned)" s.two2 s.twoc "ref"
fi

for kind in send sink; do
    what="allocations per datagram, $kind loop (4 s − 1 s run)"
    if [[ -n ${NA[alloc.$kind]:-} ]]; then row "f" "$what" "n/a (${NA[alloc.$kind]})" "" "" "0" "n/a"; continue; fi
    if [[ -z ${ALLOC[$kind.1]:-} || -z ${ALLOC[$kind.4]:-} ]]; then row f "$what" "n/a (no data)" "" "" "0" "n/a"; continue; fi
    read -r a1 p1 <<<"${ALLOC[$kind.1]}"
    read -r a4 p4 <<<"${ALLOC[$kind.4]}"
    per=$(calc "($a4 - $a1) / ($p4 - $p1)")
    row f "$what" "$(fmt '%.6f' "$per") ($((a4 - a1)) allocations / $((p4 - p1)) datagrams; $(fmt '%.0f' "$(calc "($a4 - $a1) / 3")") per second)" "" "" "0 (< 0.0001)" "$(yes_no "$per < 0.0001 && $per > -0.0001")"
done

[[ ${SCALING:-1} == only ]] || log "control plane (Benchmarks/control-plane.sh)"
[[ ${SCALING:-1} == only ]] || while IFS= read -r line; do ROWS+=("$line"); done < <(VOLLEY=$VOLLEY ROUNDS=$ROUNDS SECS=$SECS BUILD=$BIN "${ALL[@]}" bash "$ROOT/Benchmarks/control-plane.sh" || log "control-plane.sh failed")

CPU=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//') || CPU=unknown
CORES=$(grep -c '^processor' /proc/cpuinfo)
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[[ -z $(git status --porcelain -- Sources Package.swift 2>/dev/null) ]] || COMMIT="$COMMIT (with uncommitted changes)"

{
    echo "# Volley performance"
    echo
    echo "Written by \`make bench\` (\`Benchmarks/run.sh\`); see [Benchmarks/README.md](../Benchmarks/README.md) for what each row measures."
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- kernel: $(uname -r)"
    echo "- CPU: $CPU, $CORES cores"
    echo "- Volley $VERSION, commit $COMMIT"
    echo "- $(iperf3 --version | head -1 | cut -d' ' -f1-2), sockperf $(sockperf --version 2>&1 | sed -n 's/.*version \([^ ]*\).*/\1/p' | head -1), $(gcc --version | head -1)"
    echo "- loopback only, ${SIZE}-byte payloads, 1 thread, ${SECS} s runs, median of $ROUNDS alternating rounds (rows a-c: $T_ROUNDS rounds of ${T_SECS} s; a ratio is the median of the rounds' own ratios, listed beside it); CPU placement: $PLACEMENT"
    echo "- before the run: CPU ${CPU_BUSY} % busy${BUSY:+ ($BUSY)}, load average $LOAD; the run took ${ELAPSED} s; $QUIET"
    echo
    echo "| # | measurement | Volley | reference | ratio | target | result |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${ROWS[@]}"
    echo
    [[ -z $AGENT_WARNINGS ]] || { echo "Warning: $AGENT_WARNINGS."; echo; }
    if has v.gso.ipi && has c.gso.ipi; then
        echo "Function-call IPIs received by the sender's CPU per 1000 datagrams (medians; every round below,"
        echo "keys \`.ipi\`): send (row a) Volley $(fmt '%.2f' "$(median v.send.ipi)"), C $(fmt '%.2f' "$(median c.send.ipi)"); GSO send (row b1) Volley"
        echo "$(fmt '%.2f' "$(median v.gso.ipi)"), C $(fmt '%.2f' "$(median c.gso.ipi)"). On loopback they are the kernel's deferred-free kicks: a GSO"
        echo "sender runs at one of two speeds, the slower with more of them, and ~0 means the kernel did not"
        echo "hand frees back to the sender's CPU (Benchmarks/README.md, \"Deferred frees\", has the figures"
        echo "measured on the VM this harness was written on, and a slow state seen without them)."
        echo
    fi
    echo "Rows marked \"ref\" are references on the same judge, not Volley targets: they show what the"
    echo "judge and this machine allow. The harness reports and never fails on a missed target."
    echo
    echo "<details><summary>Every round</summary>"
    echo
    echo '```'
    for k in $(printf '%s\n' "${!VALS[@]}" | sort); do printf '%-22s %s\n' "$k" "${VALS[$k]}"; done
    for k in $(printf '%s\n' "${!ALLOC[@]}" | sort); do printf 'alloc.%-16s %s\n' "$k" "${ALLOC[$k]} (allocations datagrams)"; done
    for k in $(printf '%s\n' "${!NA[@]}" | sort); do printf 'n/a %-18s %s\n' "$k" "${NA[$k]}"; done
    echo '```'
    echo
    echo "</details>"
} >"$TMP/performance.md"

mkdir -p "$(dirname "$OUT")"
cp "$TMP/performance.md" "$OUT"
echo
cat "$OUT"
log "written to ${OUT#"$ROOT"/}"
