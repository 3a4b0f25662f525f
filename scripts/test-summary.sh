#!/usr/bin/env bash
# The end of `make test`: repeats every SKIPPED line of the Swift tests (so a skipped suite is not
# lost in the scroll-back), and fails when test hosts (network namespaces) were left behind.
set -euo pipefail
log=${1:-.build/test-swift.log}
here=$(cd "$(dirname "$0")" && pwd)
echo "== make test summary"
if [ -f "$log" ] && grep -q "SKIPPED:" "$log"; then
    grep -h "SKIPPED:" "$log" | sort -u | sed 's/^/   /'
else
    echo "   no suite skipped"
fi
left=$(bash "$here/testhosts.sh" list)
if [ -n "$left" ]; then
    echo "   test hosts left behind (network namespaces): $left" >&2
    exit 1
fi
echo "   no test hosts (network namespaces) left behind"
