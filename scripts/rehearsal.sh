#!/usr/bin/env bash
# A deployment rehearsal on one machine (issue #14), in under a minute: three test hosts (network
# namespaces on a bridge, scripts/testhosts.sh), an agent on each with HTTPS from a throw-away CA,
# a token and --allow 198.18.0.0/15; dnsmasq answering volley-agents.test with one A record per
# agent (a Kubernetes headless Service); Prometheus configured from deploy/prometheus/prometheus.yml
# (DNS discovery, the CA, the bearer token); a fleet found with --dns: every agent sends 3,000
# datagrams to the next host, one of which runs a sink. Prints a table and checks that Prometheus's
# sum equals the fleet's merged sent.packets, and that every agent's /metrics passes promtool's lint.
# Everything is torn down on exit, failed or not.
#   make rehearsal        (or: bash scripts/rehearsal.sh [path/to/volley]; needs root)
# Exit status: 0 all as expected, 1 a count or a step failed, 77 skipped (not root / tools missing).
set -euo pipefail
cd "$(dirname "$0")/.."
VOLLEY=$(realpath "${1:-.build/debug/volley}")
HOSTS=3
PER_AGENT=3000
PORT=8443
NAME=volley-agents.test
started=$SECONDS

skip() { echo "SKIPPED: rehearsal: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
for tool in ip openssl curl jq /usr/sbin/dnsmasq prometheus; do
    command -v "$tool" >/dev/null || skip "$tool is not installed (make test installs it)"
done
[ -x "$VOLLEY" ] || { echo "rehearsal: no volley binary at $VOLLEY (swift build first)" >&2; exit 1; }

id=reh$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')
work=$(mktemp -d)
router=volley-th-r-$id
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do timeout 10 tail --pid="$pid" -f /dev/null 2>/dev/null || kill -9 "$pid" 2>/dev/null || true; done
    bash scripts/testhosts.sh down "$id" || true
    if [ "$status" -ne 0 ]; then
        tail -n 5 "$work"/*.log 2>/dev/null | sed 's/^/    /' >&2 || true
        echo "rehearsal: FAILED (exit $status); test hosts $id removed" >&2
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "rehearsal: $*" >&2; exit 1; }
# until_ok SECONDS WHAT COMMAND...: polls COMMAND until it succeeds, at most SECONDS.
until_ok() {
    local limit=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$limit" ] || fail "$what: not within the deadline"
        sleep 0.1
    done
}
in_router() { ip netns exec "$router" "$@"; }
address() { echo "198.18.0.$((10 + $1))"; }

# ---- credentials: a CA, one certificate for every host address, a token ----
san=$(for i in $(seq 1 "$HOSTS"); do printf 'IP:%s,' "$(address "$i")"; done)
printf 'subjectAltName=%sDNS:%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$san" "$NAME" >"$work/ext.cnf"
{
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=Volley rehearsal CA $id" \
        -keyout "$work/ca.key" -out "$work/ca.pem"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=volley rehearsal agent" \
        -keyout "$work/agent.key" -out "$work/agent.csr"
    openssl x509 -req -in "$work/agent.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
        -out "$work/agent.pem" -extfile "$work/ext.cnf"
} >"$work/openssl.log" 2>&1 || fail "openssl: $(cat "$work/openssl.log")"
openssl rand -hex 24 >"$work/token"

# ---- hosts and agents ----
TESTHOSTS_CA=$work/ca.pem bash scripts/testhosts.sh up "$id" "$HOSTS" >/dev/null
for i in $(seq 1 "$HOSTS"); do
    ip netns exec "volley-th-h$i-$id" "$VOLLEY" serve --listen "$(address "$i"):$PORT" --data-dir "$work/data-$i" \
        --allow 198.18.0.0/15 --token-file "$work/token" --tls-cert "$work/agent.pem" --tls-key "$work/agent.key" \
        2>"$work/agent-$i.log" &
    pids+=($!)
done
for i in $(seq 1 "$HOSTS"); do until_ok 30 "agent $i listening" grep -q "listening on" "$work/agent-$i.log"; done

# ---- DNS: one name, an A record per agent ----
for i in $(seq 1 "$HOSTS"); do echo "$(address "$i") $NAME"; done >"$work/dns-hosts"
ip netns exec "$router" /usr/sbin/dnsmasq --keep-in-foreground --no-resolv --no-hosts --addn-hosts="$work/dns-hosts" \
    --listen-address=198.18.0.1 --bind-interfaces --port=53 --local-ttl=0 --pid-file= --user=root \
    --log-facility=- 2>"$work/dnsmasq.log" &
pids+=($!)
until_ok 20 "dnsmasq answering $NAME" in_router getent ahosts "$NAME"

# ---- Prometheus from the shipped configuration (without its static example job) ----
mkdir -p "$work/prometheus/data"
cp deploy/prometheus/volley-alerts.yml "$work/prometheus/"
sed -e '/^  # A fixed list of agents/,$d' -e 's/scrape_interval: 15s/scrape_interval: 1s/' \
    -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' -e 's/refresh_interval: 30s/refresh_interval: 1s/' \
    -e "s/\[volley-agents.volley.svc.cluster.local\]/[$NAME]/" -e "s/port: 8080/port: $PORT/" \
    -e "s#/etc/prometheus/volley-ca.pem#$work/ca.pem#" -e "s#/etc/prometheus/volley.token#$work/token#" \
    deploy/prometheus/prometheus.yml >"$work/prometheus/prometheus.yml"
grep -q "names: \[$NAME\]" "$work/prometheus/prometheus.yml" || fail "deploy/prometheus/prometheus.yml changed: update the rehearsal"
ip netns exec "$router" prometheus --config.file="$work/prometheus/prometheus.yml" --storage.tsdb.path="$work/prometheus/data" \
    --storage.tsdb.retention.time=1h --web.listen-address=127.0.0.1:9090 --log.level=warn 2>"$work/prometheus.log" &
pids+=($!)
promql() { in_router curl -sS --max-time 10 -G --data-urlencode "query=$1" http://127.0.0.1:9090/api/v1/query; }
value() { promql "$1" | jq -r '.data.result[0].value[1] // "none"'; }
until_ok 60 "Prometheus ready" in_router curl -sf --max-time 5 http://127.0.0.1:9090/-/ready
all_up() { [ "$(value 'count(up{job="volley"} == 1)')" = "$HOSTS" ]; }
until_ok 60 "Prometheus scraping all $HOSTS agents" all_up

# ---- the fleet: a sink on host 2, every agent sends to the next host ----
agent2=https://$(address 2):$PORT
echo "{\"mode\":\"sink\",\"listen\":\"$(address 2):9000\",\"duration_s\":60,\"max_packets\":$PER_AGENT}" >"$work/sink.json"
sink=$(in_router "$VOLLEY" submit --agent "$agent2" --token-file "$work/token" "$work/sink.json" | jq -r .id)
echo "{\"mode\":\"send\",\"target\":\"$(address 2):9000\",\"rate_pps\":5000,\"duration_s\":20,\"max_packets\":$PER_AGENT}" >"$work/send.json"
ring="$(address 2):9000,$(address 3):9,$(address 1):9"
fleet_status=0
in_router timeout 120 "$VOLLEY" fleet run "$work/send.json" --dns "$NAME:$PORT" --https --token-file "$work/token" \
    --lead 1 --progress none --out "$work/fleet.json" --vary "target=$ring" >"$work/fleet.out" 2>"$work/fleet.log" || fleet_status=$?
[ -s "$work/fleet.json" ] || fail "fleet run wrote no result (exit $fleet_status): $(cat "$work/fleet.log")"
merged=$(jq '.merged.sent.packets' "$work/fleet.json")
jobs=$(jq '.agents | length' "$work/fleet.json")

# Prometheus has scraped after the run when its sum reaches the fleet's (bounded wait).
limit=$((SECONDS + 60))
until [ "$(value 'sum(volley_packets_sent_total{job="volley"})')" = "$merged" ] || [ "$SECONDS" -ge "$limit" ]; do sleep 0.2; done
prom_sum=$(value 'sum(volley_packets_sent_total{job="volley"})')
until [ "$(value 'sum(volley_packets_received_total{job="volley",mode="sink"})')" = "$PER_AGENT" ] || [ "$SECONDS" -ge "$limit" ]; do
    sleep 0.2
done
sink_json=$(in_router "$VOLLEY" result --agent "$agent2" --token-file "$work/token" "$sink" 2>/dev/null \
    || in_router "$VOLLEY" status --agent "$agent2" --token-file "$work/token" --json "$sink")
per_instance=$(promql 'sum by (instance) (volley_packets_sent_total{job="volley"})')

# ---- the table ----
echo "== rehearsal $id: $HOSTS hosts, HTTPS + token, DNS $NAME (dnsmasq), $(prometheus --version 2>&1 | head -1 | cut -d' ' -f1-3)"
printf '%-5s %-26s %-12s %-10s %9s %8s %11s  %s\n' host agent job state delay_ms sent prometheus metrics_lint
lint_failed=0
for i in $(seq 1 "$HOSTS"); do
    url=https://$(address "$i"):$PORT
    row=$(jq -r --arg url "$url" '.agents[] | select(.url == $url) | "\(.job_id // "-") \(.state // "error") \(.start_delay_ms // "-") \(.sent // 0)"' \
        "$work/fleet.json")
    read -r job state delay sent <<<"${row:-- missing - 0}"
    scraped=$(echo "$per_instance" | jq -r --arg i "$(address "$i"):$PORT" '[.data.result[] | select(.metric.instance == $i) | .value[1]][0] // "none"')
    # /metrics as Prometheus fetches it, through promtool's lint.
    if in_router curl -sSf --max-time 10 --cacert "$work/ca.pem" -H "Authorization: Bearer $(cat "$work/token")" "$url/metrics" \
        | promtool check metrics >"$work/lint-$i.out" 2>&1; then lint=ok; else lint=FAILED; lint_failed=1; fi
    printf '%-5s %-26s %-12s %-10s %9s %8s %11s  %s\n' "h$i" "$url" "$job" "$state" "$delay" "$sent" "$scraped" "$lint"
done
skew=$(jq -r '.start_skew_ms' "$work/fleet.json")
received=$(echo "$sink_json" | jq -r '.received.packets // .progress.packets_received')
drops=$(echo "$sink_json" | jq -r '.received.kernel_drops // .progress.kernel_drops // 0')
echo "fleet: exit $fleet_status, $jobs jobs, merged sent.packets $merged, start skew $skew ms"
echo "sink on h2: received $received of $PER_AGENT, kernel drops $drops"
echo "prometheus: sum(volley_packets_sent_total) = $prom_sum (fleet merged $merged)"
echo "took $((SECONDS - started)) s"

[ "$fleet_status" = 0 ] || fail "fleet run exited $fleet_status: $(cat "$work/fleet.log")"
[ "$jobs" = "$HOSTS" ] && [ "$merged" = $((HOSTS * PER_AGENT)) ] || fail "fleet: $jobs jobs, $merged sent; want $HOSTS and $((HOSTS * PER_AGENT))"
[ "$lint_failed" = 0 ] || fail "promtool check metrics: $(cat "$work"/lint-*.out)"
[ "$prom_sum" = "$merged" ] || fail "Prometheus counted $prom_sum, the fleet $merged"
[ $((received + drops)) = "$PER_AGENT" ] || fail "the sink accounted for $((received + drops)) of $PER_AGENT datagrams"
echo "rehearsal: ok"
