import Glibc
import VolleyModel

/// The receive path fed from a fuzzer's bytes instead of a socket (`make fuzz`, target `stamp`).
///
/// The input is a sequence of datagrams, each framed as
///
///     1 byte   source: bit 7 picks IPv6 ::1 (else 127.0.0.1), bits 0–6 the port 40000 + n; n = 127
///              stands for a datagram read without its source (a sink that stopped asking, `SourceReading`)
///     2 bytes  length, big-endian
///     length   payload bytes (fewer if the input ends first: a truncated last datagram)
///
/// Each payload is copied into a heap buffer of exactly its length, so a sanitizer sees any read
/// past the end, and handed to the same parsers and state the sink, echo and reflect workers use: the
/// stamp parser, a sender table with a small flow budget, a small sequence window, the reflector's
/// peer filter and request check. Afterwards every datagram must be accounted for exactly once.
package enum ReceivePathFuzzing {
    package static func run(_ bytes: UnsafeRawBufferPointer) {
        var state = State()
        var offset = 0
        while offset + 3 <= bytes.count {
            let source = bytes[offset]
            let declared = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let length = min(declared, bytes.count - offset - 3)
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
            defer { payload.deallocate() }
            payload.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(offset + 3)..<(offset + 3 + length)]))
            var address = Self.address(source)
            // An empty datagram has no buffer; a pointer nothing may read through stands in for it.
            let base = UnsafeRawPointer(payload.baseAddress) ?? UnsafeRawPointer(bitPattern: 8)!
            if source & 0x7f == 0x7f {
                state.receive(base, length: length, from: nil)
            } else {
                state.receive(base, length: length, from: &address)
            }
            offset += 3 + length
        }
        state.check()
    }

    /// What one run keeps across its datagrams, bounded small so the fuzzer reaches the bounds.
    private struct State {
        var table = SenderTable(budget: FlowBudget(limit: 8))
        var window = SequenceWindow(bits: 128)
        let filter = PeerFilter(allowlist: [CIDR("127.0.0.0/8")!], listen: Endpoint(address: IPAddress("127.0.0.1")!, port: 40_005),
                                localAddresses: [])
        var datagrams: UInt64 = 0
        var marked: UInt64 = 0
        var stamped: UInt64 = 0

        /// One datagram, as the workers handle it after recvmmsg.
        mutating func receive(_ payload: UnsafeRawPointer, length: Int, from address: UnsafeMutablePointer<sockaddr_storage>?) {
            datagrams += 1
            // Arrivals a millisecond apart; the stamps' send times are whatever the input says.
            table.record(payload, length: length, from: address.map { UnsafePointer($0) }, arrivalNanos: datagrams &* 1_000_000)
            if let stamp = Stamp.read(payload, length: length) {
                stamped += 1
                _ = window.mark(stamp.sequence)
                marked += 1
                precondition(Stamp.kind(payload, length: length) != .unstamped, "a stamp the reflector would not see")
            } else {
                precondition(Stamp.kind(payload, length: length) == .unstamped, "a reflector request without a stamp")
            }
            if let address { _ = filter.judge(address) }
        }

        /// Every datagram lands in exactly one of the table's counts once the ones held without a source
        /// are settled; the window counted each stamp once.
        mutating func check() {
            table.settleSourceless()
            precondition(!table.holdsSourceless && table.stamped == stamped, "held datagrams left after settling")
            let counted = table.senders.reduce(table.unstamped &+ table.untracked) { $0 &+ $1.unique &+ $1.duplicates &+ $1.tooOld }
            precondition(counted == datagrams, "sender table counted \(counted) of \(datagrams) datagrams")
            precondition(table.senders.count <= 8, "sender table past its flow budget")
            for s in table.senders {
                guard let j = s.jitterUs else { continue }
                precondition(j.isFinite && j >= 0 && j <= 60_000_000, "jitter \(j) µs outside its clamp")
            }
            precondition(window.unique <= marked && datagrams - table.unstamped == stamped, "stamp counts disagree")
        }
    }

    /// A loopback source address chosen by one byte of the input.
    static func address(_ selector: UInt8) -> sockaddr_storage {
        var storage = sockaddr_storage()
        let port = UInt16(40_000 + Int(selector & 0x7f)).bigEndian
        withUnsafeMutableBytes(of: &storage) { raw in
            if selector & 0x80 != 0 {
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = port
                sin6.sin6_addr = in6addr_loopback
                raw.storeBytes(of: sin6, as: sockaddr_in6.self)
            } else {
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = port
                sin.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                raw.storeBytes(of: sin, as: sockaddr_in.self)
            }
        }
        return storage
    }
}
