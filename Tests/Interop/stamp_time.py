"""NTP 64-bit timestamps (RFC 5905) as the interop scripts write and read them, in ns since 1970.

Written here from the RFC, not taken from Volley, so the tests compare two independent codecs.
"""

NTP_UNIX_OFFSET = 2_208_988_800


def ntp(unix_ns):
    seconds, nanos = divmod(unix_ns, 1_000_000_000)
    return (seconds + NTP_UNIX_OFFSET) << 32 | (nanos << 32) // 1_000_000_000


def ntp_to_ns(raw):
    return ((raw >> 32) - NTP_UNIX_OFFSET) * 1_000_000_000 + (((raw & 0xFFFFFFFF) * 1_000_000_000 + (1 << 31)) >> 32)
