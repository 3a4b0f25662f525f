import VolleyModel

/// STAMP test packets in unauthenticated mode (RFC 8762 §4.2.1 and §4.3.1, with RFC 8972's SSID and
/// TLVs), read and written in place, big-endian, touching only the given bytes:
///
///     Session-Sender (44 bytes, then TLVs)      Session-Reflector (44 bytes, then the same TLVs)
///      0 sequence number                          0 sequence number (reflector's)
///      4 timestamp T1                             4 timestamp T3
///     12 error estimate   14 SSID                12 error estimate   14 SSID (copied)
///     16 MBZ (28 bytes)                          16 receive timestamp T2
///                                                24 sender's sequence number
///                                                28 sender's timestamp T1
///                                                36 sender's error estimate   38 MBZ
///                                                40 sender's TTL   41 MBZ (3 bytes)
///     44 TLVs: flags (U M I …), type, length (16 bits), value
///
/// Nothing is allocated; every length comes from the caller and is checked before it is used.
enum StampPacket {
    static let baseBytes = JobSpec.stampBaseBytes
    /// RFC 8972 §4: TLV flags, and the one TLV type Volley understands (Extra Padding, §4.1).
    static let flagUnrecognized: UInt8 = 0x80
    static let flagMalformed: UInt8 = 0x40
    static let extraPaddingType: UInt8 = 1

    // MARK: Session-Sender

    /// Prepares a sender slot of `bytes` once: zeroes the MBZ and, past 44 bytes, writes one Extra
    /// Padding TLV (U flag set, as a Session-Sender sends it) with a zero value.
    static func prepareSender(_ p: UnsafeMutableRawPointer, bytes: Int) {
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        writePadding(p, bytes: bytes)
    }

    /// The Extra Padding TLV's header for a packet of `bytes` (none at 44; callers keep `bytes` at 44
    /// or ≥ 48, which validation enforces).
    @inline(__always)
    static func writePadding(_ p: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= baseBytes + 4 else { return }
        p.storeBytes(of: flagUnrecognized, toByteOffset: baseBytes, as: UInt8.self)
        p.storeBytes(of: extraPaddingType, toByteOffset: baseBytes + 1, as: UInt8.self)
        p.storeBytes(of: UInt16(truncatingIfNeeded: bytes - baseBytes - 4).bigEndian, toByteOffset: baseBytes + 2, as: UInt16.self)
    }

    /// The per-datagram fields of a Session-Sender packet.
    @inline(__always)
    static func writeSender(_ p: UnsafeMutableRawPointer, sequence: UInt32, timestamp: UInt64, errorEstimate: UInt16, ssid: UInt16) {
        p.storeBytes(of: sequence.bigEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: timestamp.bigEndian, toByteOffset: 4, as: UInt64.self)
        p.storeBytes(of: errorEstimate.bigEndian, toByteOffset: 12, as: UInt16.self)
        p.storeBytes(of: ssid.bigEndian, toByteOffset: 14, as: UInt16.self)
    }

    // MARK: Session-Reflector replies, as the sender reads them

    struct Reply {
        var sequence: UInt32
        var t3: UInt64
        var errorEstimate: UInt16
        var ssid: UInt16
        var t2: UInt64
        var senderSequence: UInt32
        var t1: UInt64
        var senderErrorEstimate: UInt16
        var senderTTL: UInt8
    }

    /// The fields of a reply of `length` bytes, or nil when it is too short to be one.
    @inline(__always)
    static func readReply(_ p: UnsafeRawPointer, length: Int) -> Reply? {
        guard length >= baseBytes else { return nil }
        return Reply(sequence: u32(p, 0), t3: u64(p, 4), errorEstimate: u16(p, 12), ssid: u16(p, 14), t2: u64(p, 16),
                     senderSequence: u32(p, 24), t1: u64(p, 28), senderErrorEstimate: u16(p, 36),
                     senderTTL: p.load(fromByteOffset: 40, as: UInt8.self))
    }

    // MARK: Session-Reflector

    /// What a reflector makes of a datagram of `length` bytes.
    enum Kind { case tooShort, reflectorPacket, request }

    /// A Session-Sender packet has zeros where a reflector's packet has its receive timestamp T2
    /// (bytes 16–23 are MBZ for a sender). A datagram with anything there is taken for another
    /// reflector's reply and not answered, so two reflectors cannot bounce one between them.
    @inline(__always)
    static func kind(_ p: UnsafeRawPointer, length: Int) -> Kind {
        guard length >= baseBytes else { return .tooShort }
        return u64(p, 16) == 0 ? .request : .reflectorPacket
    }

    /// The sender's sequence number and SSID, for a stateful reflector's session key.
    @inline(__always)
    static func senderSequence(_ p: UnsafeRawPointer) -> UInt32 { u32(p, 0) }
    @inline(__always)
    static func ssid(_ p: UnsafeRawPointer) -> UInt16 { u16(p, 14) }

    /// Turns a Session-Sender packet into the reply in place (all but T3, which `writeT3` writes just
    /// before the send): copies the sender's sequence number, timestamp and error estimate to their
    /// reply positions, zeroes the MBZ, keeps the SSID, and writes the reflector's sequence number,
    /// error estimate, T2 and the received TTL. Then answers the TLVs (`reflectTLVs`).
    @inline(__always)
    static func buildReply(_ p: UnsafeMutableRawPointer, length: Int, sequence: UInt32, errorEstimate: UInt16, t2: UInt64,
                           ttl: UInt8) -> (unrecognized: Int, malformed: Int) {
        let senderSequence = u32(p, 0)
        let t1 = u64(p, 4)
        let senderError = u16(p, 12)
        p.storeBytes(of: sequence.bigEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: errorEstimate.bigEndian, toByteOffset: 12, as: UInt16.self)
        p.storeBytes(of: t2.bigEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: senderSequence.bigEndian, toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: t1.bigEndian, toByteOffset: 28, as: UInt64.self)
        p.storeBytes(of: senderError.bigEndian, toByteOffset: 36, as: UInt16.self)
        p.storeBytes(of: UInt16(0), toByteOffset: 38, as: UInt16.self)
        p.storeBytes(of: (UInt32(ttl) << 24).bigEndian, toByteOffset: 40, as: UInt32.self)  // TTL, then 3 MBZ
        return reflectTLVs(p, length: length)
    }

    @inline(__always)
    static func writeT3(_ p: UnsafeMutableRawPointer, _ t3: UInt64) {
        p.storeBytes(of: t3.bigEndian, toByteOffset: 4, as: UInt64.self)
    }

    /// RFC 8972 §4 on the bytes past 44: each TLV goes back with the U flag clear when Volley
    /// understands its type (Extra Padding) and set when not, its value as it came; a TLV whose
    /// length runs past the datagram gets the M flag and ends the walk, the rest copied as it came.
    /// A tail of zeros is plain RFC 8762 padding and goes back untouched.
    static func reflectTLVs(_ p: UnsafeMutableRawPointer, length: Int) -> (unrecognized: Int, malformed: Int) {
        guard length > baseBytes else { return (0, 0) }
        if isZero(p + baseBytes, length - baseBytes) { return (0, 0) }
        var unrecognized = 0
        var offset = baseBytes
        while length - offset >= 4 {
            let flags = p.load(fromByteOffset: offset, as: UInt8.self)
            let type = p.load(fromByteOffset: offset + 1, as: UInt8.self)
            let valueLength = Int(u16(p, offset + 2))
            guard valueLength <= length - offset - 4 else {
                p.storeBytes(of: flags | flagMalformed, toByteOffset: offset, as: UInt8.self)
                return (unrecognized, 1)
            }
            if type == extraPaddingType {
                p.storeBytes(of: flags & ~flagUnrecognized, toByteOffset: offset, as: UInt8.self)
            } else {
                p.storeBytes(of: flags | flagUnrecognized, toByteOffset: offset, as: UInt8.self)
                unrecognized += 1
            }
            offset += 4 + valueLength
        }
        return (unrecognized, 0)
    }

    @inline(__always)
    private static func isZero(_ p: UnsafeRawPointer, _ count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            if p.loadUnaligned(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < count {
            if p.load(fromByteOffset: i, as: UInt8.self) != 0 { return false }
            i += 1
        }
        return true
    }

    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ o: Int) -> UInt16 { UInt16(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
    @inline(__always)
    static func u32(_ p: UnsafeRawPointer, _ o: Int) -> UInt32 { UInt32(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
    @inline(__always)
    static func u64(_ p: UnsafeRawPointer, _ o: Int) -> UInt64 { UInt64(bigEndian: p.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
}
