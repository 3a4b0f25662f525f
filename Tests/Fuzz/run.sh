#!/usr/bin/env bash
# Runs each libFuzzer target of volley-fuzz for a while: `run.sh BUILD_DIR SECONDS TARGET...`.
# Seeds come from Tests/Fuzz/corpus/<target>; what the fuzzer adds stays in BUILD_DIR/corpus/<target>,
# crashes land in BUILD_DIR/artifacts/<target>. Prints one line per target and exits non-zero if any
# target crashed (or did not run).
set -uo pipefail
cd "$(dirname "$0")/../.."
build=$1 seconds=$2
shift 2
binary=$build/release/volley-fuzz
[ -x "$binary" ] || { echo "run.sh: $binary is missing: run make fuzz-build" >&2; exit 1; }
failed=0
for target in "$@"; do
    corpus=$build/corpus/$target artifacts=$build/artifacts/$target log=$build/fuzz-$target.log
    mkdir -p "$corpus" "$artifacts"
    cp -n Tests/Fuzz/corpus/"$target"/* "$corpus"/
    # The Swift runtime's backtracer would catch the crash before libFuzzer and can hang; libFuzzer
    # reports it instead. -timeout turns a hang of one input into a failure.
    SWIFT_BACKTRACE=enable=no VOLLEY_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -timeout=10 \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "$corpus" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$log" | tail -1)
    [ -n "$runs" ] || runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1) runs"
    if [ "$status" -eq 0 ]; then
        echo "fuzz $target: ok, $runs, corpus $(ls "$corpus" | wc -l) inputs"
    else
        failed=1
        crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$log" | tail -1)
        echo "fuzz $target: FAILED (exit $status) after $runs; input ${crash:-none saved}; log $log"
        grep -m 3 -E 'Fatal error|ERROR: |SUMMARY: ' "$log" | sed 's/^/    /'
    fi
done
exit $failed
