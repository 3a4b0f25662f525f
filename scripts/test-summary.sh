#!/usr/bin/env bash
# The end of `make test`: repeats every SKIPPED line of the Swift tests (so a skipped suite is not
# lost in the scroll-back), and fails when test hosts (network namespaces) were left behind.
set -euo pipefail
logs=("${@:-.build/test-swift.log}")  # the Swift tests' log, and the rehearsal's
here=$(cd "$(dirname "$0")" && pwd)
echo "== make test summary"
skipped=$(for log in "${logs[@]}"; do [ ! -f "$log" ] || grep -h "SKIPPED:" "$log" || true; done | sort -u)
if [ -n "$skipped" ]; then
    while IFS= read -r line; do echo "   $line"; done <<<"$skipped"
else
    echo "   no suite skipped"
fi
left=$(bash "$here/testhosts.sh" list)
if [ -n "$left" ]; then
    echo "   test hosts left behind (network namespaces): $left" >&2
    exit 1
fi
echo "   no test hosts (network namespaces) left behind"
