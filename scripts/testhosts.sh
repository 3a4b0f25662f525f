#!/usr/bin/env bash
# Test hosts on one machine: network namespaces joined by veth pairs to a bridge in a "router"
# namespace, with addresses from the RFC 2544 benchmarking range 198.18.0.0/15 and from fd00::/8.
# Nothing here touches the host's own namespace: every link is created inside the namespaces, so
# traffic cannot leave them, and deleting the namespaces removes every link with them.
#
#   scripts/testhosts.sh up ID [HOSTS]   create vr-ID (router) and vh1-ID … vhN-ID (default 3 hosts)
#   scripts/testhosts.sh down ID         delete every namespace of ID (idempotent)
#   scripts/testhosts.sh list            namespaces of any run still present (for leak checks)
#
# The layout for ID, host i (1-based):
#   vh<i>-ID: eth0 198.18.0.<10+i>/24, fd00:198:18::<10+i>/64, MTU 1500, on the bridge
#   vr-ID:    br0  198.18.0.1/24,      fd00:198:18::1/64 (dnsmasq and clients live here)
#   the last two hosts also share a direct jumbo link: jumbo0 198.19.0.<10+i>/24, MTU 9000
# Every namespace also gets /etc/netns/<ns>/ (which `ip netns exec` binds over /etc): a resolv.conf
# naming 198.18.0.1 (where a test may run dnsmasq), and with TESTHOSTS_CA=<pem> a copy of /etc/ssl
# whose CA bundle also trusts that CA, so HTTPS clients in the namespaces accept the test's agents.
# `up` cleans up after itself when any step fails; callers trap `down` on exit.
set -euo pipefail

cmd=${1:-}
id=${2:-}
hosts=${3:-3}
prefix=volley-th

router() { echo "$prefix-r-$1"; }
host() { echo "$prefix-h$2-$1"; }

require_root() {
    if [ "$(id -u)" != 0 ] || ! ip netns list >/dev/null 2>&1; then
        echo "SKIPPED: test hosts need root and iproute2 (network namespaces); uid $(id -u)" >&2
        exit 77
    fi
}

down() {
    local ns
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-(r|h[0-9]+)-$1\$" || true); do
        # Processes left in a namespace (an agent a test could not stop) keep it alive: kill them.
        ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
        ip netns delete "$ns" 2>/dev/null || true
        rm -rf "/etc/netns/$ns"
    done
}

# /etc/netns/<ns>: DNS from the router, and the test CA trusted next to the system's.
etc() {
    local ns=$1 dir="/etc/netns/$1"
    mkdir -p "$dir"
    printf 'nameserver 198.18.0.1\noptions timeout:1 attempts:2\n' >"$dir/resolv.conf"
    if [ -n "${TESTHOSTS_CA:-}" ]; then
        cp -a /etc/ssl "$dir/ssl"
        cat "$TESTHOSTS_CA" >>"$dir/ssl/certs/ca-certificates.crt"
    fi
}

up() {
    require_root
    [[ "$id" =~ ^[A-Za-z0-9]{1,24}$ ]] || { echo "testhosts: ID must be 1-24 letters or digits" >&2; exit 2; }
    [[ "$hosts" =~ ^[2-8]$ ]] || { echo "testhosts: HOSTS must be 2 to 8" >&2; exit 2; }
    trap 'down "$id"' ERR
    local r
    r=$(router "$id")
    ip netns add "$r"
    etc "$r"
    ip -n "$r" link set lo up
    ip -n "$r" link add br0 type bridge
    ip -n "$r" addr add 198.18.0.1/24 dev br0
    ip -n "$r" addr add fd00:198:18::1/64 dev br0 nodad
    ip -n "$r" link set br0 up
    local i h
    for i in $(seq 1 "$hosts"); do
        h=$(host "$id" "$i")
        ip netns add "$h"
        etc "$h"
        ip -n "$h" link set lo up
        # Both ends are made inside the router namespace; one end moves straight into the host.
        ip -n "$r" link add "p$i" type veth peer name eth0 netns "$h"
        ip -n "$r" link set "p$i" master br0 up
        ip -n "$h" addr add "198.18.0.$((10 + i))/24" dev eth0
        ip -n "$h" addr add "fd00:198:18::$((10 + i))/64" dev eth0 nodad
        ip -n "$h" link set eth0 up
    done
    # A direct jumbo-frame link between the last two hosts.
    local a b
    a=$(host "$id" $((hosts - 1)))
    b=$(host "$id" "$hosts")
    ip -n "$a" link add jumbo0 mtu 9000 type veth peer name jumbo0 netns "$b" mtu 9000
    ip -n "$a" addr add "198.19.0.$((10 + hosts - 1))/24" dev jumbo0
    ip -n "$b" addr add "198.19.0.$((10 + hosts))/24" dev jumbo0
    ip -n "$a" link set jumbo0 up
    ip -n "$b" link set jumbo0 up
    # Wait (bounded) until every host answers the router: the bridge ports need a moment.
    local deadline=$((SECONDS + 20))
    for i in $(seq 1 "$hosts"); do
        until ip netns exec "$r" ping -c1 -W1 "198.18.0.$((10 + i))" >/dev/null 2>&1; do
            if [ "$SECONDS" -ge "$deadline" ]; then echo "testhosts: host $i does not answer" >&2; false; fi
            sleep 0.1
        done
    done
    trap - ERR
    echo "up $id: router $(router "$id"), hosts $(for i in $(seq 1 "$hosts"); do printf '%s ' "$(host "$id" "$i")"; done)"
}

case "$cmd" in
    up) up ;;
    down) [ -n "$id" ] || { echo "usage: $0 down ID" >&2; exit 2; }; down "$id" ;;
    list) ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-" || true ;;
    *) echo "usage: $0 up ID [HOSTS] | down ID | list" >&2; exit 2 ;;
esac
