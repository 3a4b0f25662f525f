"""A STAMP Session-Sender built with scapy's codec (scapy.contrib.stamp), for Volley's reflector.

Usage: stamp_sender.py PORT --stateful|--stateless

Sends a fixed list of Session-Sender packets (RFC 8762 §4.2.1 with RFC 8972's SSID and TLVs) one at
a time from one plain UDP socket on loopback with IP_TTL 17, waits for each reply, dissects it with
scapy and checks it field by field against RFC 8762 §4.3.1 and RFC 8972 §4. scapy is used only to
build and read bytes: no raw sockets, no sniffing. Prints one JSON summary line; exits 1 when any
check failed (the summary lists them), 2 when a reply never came.
"""
import json
import socket
import sys
import time

from stamp_time import ntp, ntp_to_ns  # beside this script
from scapy.contrib.stamp import (ErrorEstimate, STAMPSessionReflectorTestUnauthenticated,
                                 STAMPSessionSenderTestUnauthenticated, STAMPTestTLV)

TTL = 17
TAI_MINUS_UTC = 37  # only for the PTP T1 the sender writes; the reflector copies it unread
EXTRA_PADDING = 1
UNKNOWN_TYPE = 0xEE
# RFC 8972 §4: the flags byte is |U|M|I|R|R|R|R|R| with U the most significant bit. scapy's
# FlagsField("UMIRRRRR") names bit 0 (the least significant) "U", so its flag names are not used:
# the tests read the byte's value.
FLAG_U, FLAG_M = 0x80, 0x40
REPLY_WAIT_S = 20



def ptp(unix_ns):
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    return (seconds + TAI_MINUS_UTC) << 32 | nanos


def tlvs(kind, length):
    """TLVs filling a packet of `length` bytes: none, Extra Padding, or Extra Padding + an unknown type."""
    if length == 44:
        return []
    # scapy's STAMPTestTLV does not compute `len` from the value: it is set here.
    if kind == "padding":
        return [STAMPTestTLV(flags=FLAG_U, type=EXTRA_PADDING, len=length - 48, value=b"\0" * (length - 48))]
    unknown = bytes(range(1, 9))
    pad = length - 44 - 12 - 4
    return [STAMPTestTLV(flags=0, type=UNKNOWN_TYPE, len=len(unknown), value=unknown),
            STAMPTestTLV(flags=FLAG_U, type=EXTRA_PADDING, len=pad, value=b"\0" * pad)]


# (sender sequence, SSID, S, Z, scale, multiplier, length, TLV kind)
CASES = [
    (0, 1, 0, 0, 0, 1, 44, None),
    (1, 1, 1, 0, 3, 200, 44, None),
    (0xFFFFFFFF, 0x1234, 0, 0, 63, 255, 60, "padding"),
    (0x7FFFFFFF, 0x1234, 1, 1, 10, 7, 44, None),               # PTP T1 (Z bit)
    (42, 0xFFFF, 0, 1, 0, 1, 128, "unknown"),                   # PTP, unknown TLV + Extra Padding
    (0xFFFFFFFE, 1, 0, 0, 1, 2, 1472, "padding"),
    (7, 0x1234, 1, 0, 20, 9, 76, "unknown"),
    (0, 0xFFFF, 0, 0, 0, 1, 44, None),
]


def build(case, now_ns):
    seq, ssid, s, z, scale, mult, length, kind = case
    packet = STAMPSessionSenderTestUnauthenticated(
        seq=seq, err_estimate=ErrorEstimate(S=s, Z=z, scale=scale, multiplier=mult), ssid=ssid,
        tlv_objects=tlvs(kind, length))
    # The timestamp's internal value is its 64 raw bits (NTP: 32.32 fixed point; PTP: seconds and
    # nanoseconds); setting it through the field would take seconds and lose the low bits.
    packet.fields["ts"] = ptp(now_ns) if z else ntp(now_ns)
    data = bytes(packet)
    assert len(data) == length, (len(data), length)
    return packet, data


def check(case, index, sent, request, data, received_ns, stateful, session_counts, failures):
    seq, ssid, s, z, scale, mult, length, kind = case
    reply = STAMPSessionReflectorTestUnauthenticated(data)

    def expect(ok, what):
        if not ok:
            failures.append(f"packet {index} (seq {seq:#x}): {what}")

    f = reply.getfieldval
    expect(len(data) == length, f"length {len(data)} != {length}")
    expect(bytes(reply) == data, "scapy does not re-encode the reply to the same bytes")
    want_seq = session_counts.get(ssid, 0) if stateful else seq
    expect(f("seq") == want_seq, f"reflector sequence {f('seq')} != {want_seq}")
    session_counts[ssid] = session_counts.get(ssid, 0) + 1
    expect(f("ssid") == ssid, f"SSID {f('ssid')} != {ssid}")
    expect(f("seq_sender") == seq, f"sender sequence {f('seq_sender')}")
    expect(f("ts_sender") == request.getfieldval("ts"), "sender timestamp not copied")
    expect(bytes(reply.err_estimate_sender) == bytes(request.err_estimate), "sender error estimate not copied")
    expect(f("mbz1") == 0 and f("mbz2") == 0, f"MBZ {f('mbz1')} {f('mbz2')}")
    expect(f("ttl_sender") == TTL, f"Ses-Sender TTL {f('ttl_sender')} != {TTL}")
    est = reply.err_estimate
    expect(est.Z == 0 and est.multiplier != 0, f"reflector error estimate Z={est.Z} multiplier={est.multiplier}")
    t2, t3 = ntp_to_ns(f("ts_rx")), ntp_to_ns(f("ts"))
    expect(sent - 1_000_000 <= t2 <= t3 <= received_ns + 1_000_000, f"T1 {sent} T2 {t2} T3 {t3} T4 {received_ns}")
    # RFC 8972 §4: TLVs come back in order, same type, length and value; U clear when understood.
    got, want = reply.tlv_objects, request.tlv_objects
    expect(len(got) == len(want), f"{len(got)} TLVs back, {len(want)} sent")
    for g, w in zip(got, want):
        flags = int(g.flags)
        expect((g.type, g.len, g.value) == (w.type, w.len, w.value), f"TLV type {g.type} changed")
        expect(flags & FLAG_M == 0, f"TLV type {g.type} marked malformed")
        if g.type == EXTRA_PADDING:
            expect(flags & FLAG_U == 0, f"Extra Padding TLV flags {flags:#x}: U not cleared")
        else:
            expect(flags & FLAG_U != 0, f"unknown TLV type {g.type} flags {flags:#x}: U not set")


def main():
    port, stateful = int(sys.argv[1]), sys.argv[2] == "--stateful"
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, TTL)
    sock.settimeout(REPLY_WAIT_S)
    sock.connect(("127.0.0.1", port))
    failures, session_counts, received = [], {}, 0
    for index, case in enumerate(CASES):
        sent = time.time_ns()
        request, data = build(case, sent)
        sock.send(data)
        try:
            reply = sock.recv(65535)
        except socket.timeout:
            print(json.dumps({"sent": index + 1, "received": received, "failures": [f"no reply to packet {index}"]}))
            return 2
        received += 1
        check(case, index, sent, request, reply, time.time_ns(), stateful, session_counts, failures)
    summary = {
        "sent": len(CASES), "received": received, "checked": len(CASES) - len({f.split(":")[0] for f in failures}),
        "ptp": sum(1 for c in CASES if c[3]), "unknown_tlvs": sum(1 for c in CASES if c[7] == "unknown"),
        "padding_tlvs": sum(1 for c in CASES if c[7]), "sessions": len(session_counts), "failures": failures,
    }
    print(json.dumps(summary))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
