#!/usr/bin/env python3
"""Benchmarks/hdr-p50.py - an echo result's RTT p50 in µs, finer than its whole-µs field (row e).

    python3 Benchmarks/hdr-p50.py RESULT.json

`latency_us.p50` is the whole-µs bucket the median falls in (12 stands for 12.0-12.99), while
sockperf prints its own p50 to the nanosecond; set beside it, the whole µs would flatter Volley by
up to a microsecond. This reads the result's HDR histogram (`latency_us.hdr`) and places the median
inside its bucket, taking the bucket's replies as evenly spread over it. Needs the `hdrhistogram`
package (the test venv has it); prints nothing and exits 1 without it or without a histogram.
"""
import json
import sys

try:
    from hdrh.histogram import HdrHistogram
except ImportError:
    sys.exit(1)

latency = json.load(open(sys.argv[1])).get("latency_us") or {}
if not latency.get("hdr"):
    sys.exit(1)
histogram = HdrHistogram.decode(latency["hdr"])
half = histogram.get_total_count() / 2
if half == 0:
    sys.exit(1)
below = 0
for bucket in histogram.get_recorded_iterator():
    value, count = bucket.value_iterated_to, bucket.count_at_value_iterated_to
    if below + count >= half:
        # The bucket holds [lowest, highest]; above 2,047 µs it is wider than 1 µs.
        low = histogram.get_lowest_equivalent_value(value)
        width = histogram.get_highest_equivalent_value(value) + 1 - low
        print(f"{low + width * (half - below) / count:.2f}")
        break
    below += count
