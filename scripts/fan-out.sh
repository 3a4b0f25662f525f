#!/usr/bin/env bash
# Submits the same job spec to several agents by hand and prints each agent's job id.
# (For coordinated starts and merged results, use `volley fleet run`.)
# Usage: scripts/fan-out.sh SPEC.json URL [URL...]     (VOLLEY_TOKEN is sent to every agent)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
spec=${1:?usage: fan-out.sh SPEC.json URL [URL...]}
shift
[ $# -gt 0 ] || { echo "usage: fan-out.sh SPEC.json URL [URL...]" >&2; exit 2; }
body=$(cat "$spec")
status=0
for url in "$@"; do
    if id=$(VOLLEY_AGENT=${url%/}; api POST /v1/jobs "$body" | jq -er .id); then
        echo "$url $id"
    else
        echo "$url FAILED" >&2
        status=1
    fi
done
exit $status
