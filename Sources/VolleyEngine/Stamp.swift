import VolleyModel

/// Volley's 32-byte stamp at the start of a payload, all fields big-endian:
///
///     0  magic "VLY1" (0x564C5931)    4  job tag (random per job)
///     8  flow number                 12  flags (bit 0: a reflector's reply; other bits 0)
///    16  sequence number (per flow, from 0)
///    24  send time, ns on the sender's CLOCK_MONOTONIC
///
/// Writing and reading touch only the given memory: nothing is allocated per packet. A reflector
/// answers only stamps without the reply flag and sets it on what it sends back, so two reflectors
/// (or one reflecting itself) cannot keep a datagram bouncing between them.
enum Stamp {
    static let size = JobSpec.stampBytes
    static let magic: UInt32 = 0x564C_5931
    static let replyFlag: UInt32 = 1

    struct Fields {
        var tag: UInt32
        var flow: UInt32
        var sequence: UInt64
        var sentNanos: UInt64
    }

    @inline(__always)
    static func write(_ p: UnsafeMutableRawPointer, tag: UInt32, flow: UInt32, sequence: UInt64, sentNanos: UInt64) {
        p.storeBytes(of: magic.bigEndian, toByteOffset: 0, as: UInt32.self)
        p.storeBytes(of: tag.bigEndian, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: flow.bigEndian, toByteOffset: 8, as: UInt32.self)
        p.storeBytes(of: UInt32(0), toByteOffset: 12, as: UInt32.self)
        p.storeBytes(of: sequence.bigEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: sentNanos.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// What a reflector makes of a datagram of `length` bytes.
    enum Kind { case unstamped, request, reply }

    @inline(__always)
    static func kind(_ p: UnsafeRawPointer, length: Int) -> Kind {
        guard length >= size, UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic else {
            return .unstamped
        }
        let flags = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        return flags & replyFlag != 0 ? .reply : .request
    }

    /// Sets the reply flag of a stamp that `kind` called a request.
    @inline(__always)
    static func markReply(_ p: UnsafeMutableRawPointer) {
        let flags = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 12, as: UInt32.self)) | replyFlag
        p.storeBytes(of: flags.bigEndian, toByteOffset: 12, as: UInt32.self)
    }

    /// The stamp of a datagram of `length` bytes, or nil when it carries none.
    @inline(__always)
    static func read(_ p: UnsafeRawPointer, length: Int) -> Fields? {
        guard length >= size, UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == magic else {
            return nil
        }
        return Fields(tag: UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
                      flow: UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt32.self)),
                      sequence: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                      sentNanos: UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
    }
}
