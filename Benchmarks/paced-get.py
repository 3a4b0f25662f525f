#!/usr/bin/env python3
"""Benchmarks/paced-get.py - API latency at a fixed request rate (row h, paced).

    python3 Benchmarks/paced-get.py URL RATE SECONDS

GETs URL over one keep-alive connection RATE times a second for SECONDS, and never for more than
SECONDS + 10 s of wall time whatever the server does (open loop: a request that
comes back late does not shift the next one's due time, so a stall shows as the latency of every
request it held up) and prints one JSON object: requests, errors (a status other than 200, or a
dropped connection, which is reopened), and the p50, p99 and max of each request's time from its
due time to the end of its response, in ms. `wrk -c1` is a closed loop as fast as it goes: on a
2-CPU machine with a full-speed job on one CPU, wrk and the serving thread fill the other, so its
p99 measures a full machine; this measures the API as a dashboard or an orchestrator uses it.
"""
import http.client
import json
import sys
import time
import urllib.parse


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    url = urllib.parse.urlsplit(sys.argv[1])
    rate, seconds = float(sys.argv[2]), float(sys.argv[3])
    if url.scheme != "http" or not url.hostname or rate <= 0 or seconds <= 0:
        print("paced-get: want an http:// URL, a rate > 0 and seconds > 0", file=sys.stderr)
        return 2
    path = url.path + ("?" + url.query if url.query else "")
    connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=5)
    latencies, errors = [], 0
    start = time.monotonic()
    total = int(rate * seconds)
    give_up = start + seconds + 5  # with the 5 s timeout of a request in flight: SECONDS + 10 s at most
    for n in range(total):
        due = start + n / rate
        if time.monotonic() > give_up:
            errors += total - n  # the requests never made count as errors
            break
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=5)
            continue
        latencies.append(time.monotonic() - due)
    if not latencies:
        print(json.dumps({"requests": total, "errors": errors}))
        return 1
    latencies.sort()

    def ms(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000, 3)

    print(json.dumps({"requests": total, "errors": errors, "p50_ms": ms(0.50), "p99_ms": ms(0.99),
                      "max_ms": round(latencies[-1] * 1000, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
