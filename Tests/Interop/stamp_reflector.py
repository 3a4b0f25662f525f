"""A stateful STAMP Session-Reflector built with scapy's codec, for Volley's Session-Sender.

Usage: stamp_reflector.py PORT COUNT DEADLINE_S LOG READY

Binds 127.0.0.1:PORT with a plain UDP socket, touches READY, and answers Session-Sender packets
(RFC 8762 §4.3.1) until it has seen COUNT of them or DEADLINE_S seconds pass. T2 is this process's
clock read just after the receive, T3 just before the reply is built and sent (NTP format, S bit
set). It loses some packets on purpose, deterministically by arrival order:
  - every 7th request is dropped without being counted (forward loss: the reflector's sequence
    number does not advance);
  - of the counted ones, every 5th is counted but not answered (backward loss).
Writes LOG (JSON): one entry per request — its sender sequence and T1, T2, T3 in ns, the reflector
sequence number and what was done with it — and the figures computed from them: the
turnaround (T3 − T2) and forward (T2 − T1) delays in µs as Volley's histograms would hold them
(hdrhistogram: 1 µs to 60 s, 3 significant digits, ns truncated to µs), and the loss Volley should
attribute per direction. Exits 0 after COUNT requests, 3 at the deadline.
"""
import json
import math
import socket
import sys
import time
from pathlib import Path

from hdrh.histogram import HdrHistogram
from stamp_time import ntp, ntp_to_ns  # beside this script
from scapy.contrib.stamp import (ErrorEstimate, STAMPSessionReflectorTestUnauthenticated,
                                 STAMPSessionSenderTestUnauthenticated)

FORWARD_EVERY, BACKWARD_EVERY = 7, 5



def summary(values):
    """Count, exact min/max/mean and percentiles of µs values, as Volley's LatencySummary has them.

    Percentiles are HdrHistogram's reference definition (Java, and the Swift package Volley uses):
    the value of rank ceil(p% × count), reported as the highest value of its bucket, kept within the
    exact min and max recorded (the Swift package clamps so; its `max` is not clamped). The Python
    package's own get_value_at_percentile rounds the rank to the nearest instead, which picks the
    next lower value at some counts (p90 of 207 values: rank 186, not 187); both are kept.
    """
    h = HdrHistogram(1, 60_000_000, 3)
    for v in values:
        h.record_value(v)
    ordered = sorted(values)
    out = {"count": len(values), "min": ordered[0], "max": ordered[-1], "mean": sum(values) / len(values)}
    for name, p in [("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)]:
        rank = max(1, math.ceil(math.nextafter(p, 0) * len(values) / 100))
        out[name] = min(max(h.get_highest_equivalent_value(ordered[rank - 1]), ordered[0]), ordered[-1])
        out[name + "_hdrh"] = h.get_value_at_percentile(p)
    return out


def answer(request, sequence, t2, ttl):
    reply = STAMPSessionReflectorTestUnauthenticated(
        seq=sequence, err_estimate=ErrorEstimate(S=1, Z=0, scale=0, multiplier=1), ssid=request.ssid,
        seq_sender=request.seq, err_estimate_sender=request.err_estimate, ttl_sender=ttl,
        tlv_objects=request.tlv_objects)
    # Raw 64-bit timestamps (the fields' setters take seconds and would drop the low bits).
    reply.fields["ts_rx"] = ntp(t2)
    reply.fields["ts_sender"] = request.getfieldval("ts")
    t3 = time.time_ns()
    reply.fields["ts"] = ntp(t3)
    return bytes(reply), t3


def main():
    port, count, deadline_s, log_path, ready = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))
    # The received TTL, copied to Ses-Sender TTL as §4.3.1 asks (Linux's IP_RECVTTL is 12; Python
    # before 3.12 does not name it).
    sock.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVTTL", 12), 1)
    Path(ready).touch()
    deadline = time.monotonic() + deadline_s
    entries, counted = [], 0
    while len(entries) < count and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, ancillary, _, peer = sock.recvmsg(65535, socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        t2 = time.time_ns()
        ttl = next((int.from_bytes(d[:4], sys.byteorder) for level, kind, d in ancillary
                    if level == socket.IPPROTO_IP and kind == socket.IP_TTL), 0)
        request = STAMPSessionSenderTestUnauthenticated(data)
        entry = {"seq_sender": request.seq, "t1": ntp_to_ns(request.getfieldval("ts")), "t2": t2,
                 "z": int(request.err_estimate.Z), "length": len(data)}
        if (len(entries) + 1) % FORWARD_EVERY == 0:
            entry["action"] = "forward_drop"
        else:
            entry["seq"] = counted
            counted += 1
            if entry["seq"] % BACKWARD_EVERY == BACKWARD_EVERY - 1:
                entry["action"] = "backward_drop"
            else:
                reply, entry["t3"] = answer(request, entry["seq"], t2, ttl)
                sock.sendto(reply, peer)
                entry["action"] = "sent"
        entries.append(entry)
    sent = [e for e in entries if e["action"] == "sent"]
    # Volley splits loss up to the last answered datagram; what follows it could be either direction.
    last = max((e["seq_sender"] for e in sent), default=-1)
    before = [e for e in entries if e["seq_sender"] < last]
    result = {
        "received": len(entries), "sent": len(sent),
        "forward_drops": sum(e["action"] == "forward_drop" for e in entries),
        "backward_drops": sum(e["action"] == "backward_drop" for e in entries),
        "expected_loss": {
            "forward": sum(e["action"] == "forward_drop" for e in before),
            "backward": sum(e["action"] == "backward_drop" for e in before),
            "unknown": sum(e["seq_sender"] > last for e in entries),
        },
        "turnaround_us": summary([(e["t3"] - e["t2"]) // 1000 for e in sent]) if sent else None,
        "forward_us": summary([(e["t2"] - e["t1"]) // 1000 for e in sent]) if sent else None,
        "negative_forward": sum(e["t2"] < e["t1"] for e in sent),
        "entries": entries,
    }
    Path(log_path).write_text(json.dumps(result))
    return 0 if len(entries) == count else 3


if __name__ == "__main__":
    sys.exit(main())
