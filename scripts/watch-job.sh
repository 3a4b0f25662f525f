#!/usr/bin/env bash
# Prints a job's progress once a second until it finishes, then its final state.
# Usage: VOLLEY_AGENT=http://127.0.0.1:8080 scripts/watch-job.sh JOB_ID
set -euo pipefail
source "$(dirname "$0")/lib.sh"
id=${1:?usage: watch-job.sh JOB_ID}
while :; do
    job=$(api GET "/v1/jobs/$id")
    state=$(jq -r .state <<<"$job")
    jq -r '"\(.state)  \(.progress.elapsed_s | floor) s  sent \(.progress.packets_sent)  received \(.progress.packets_received)"' <<<"$job"
    case $state in queued|scheduled|running) sleep 1 ;; *) break ;; esac
done
[ "$state" = completed ]
