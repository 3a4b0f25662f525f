import Glibc
import VolleyModel

/// The STAMP (RFC 8762/8972) parsers fed from a fuzzer's bytes (`make fuzz`, target `stamp-rfc`).
///
/// The first byte sets the run: bit 0 the one-way rule (shared clock or not), bits 1–7 how many
/// datagrams the simulated sender has sent (2^n, so sequence extension meets the 32-bit wrap). The
/// rest is datagrams framed as `ReceivePathFuzzing` frames them (source byte, 16-bit length,
/// payload), each copied to a heap buffer of exactly its length so a sanitizer sees any overread.
/// Every datagram goes through both sides' parsers:
/// - the sender's: `readReply`, the timestamp and Error Estimate decoders, and the reply
///   bookkeeping of an echo job's receiver (`StampEchoState`), whose loss split must add up at the
///   end to exactly what was sent and not answered;
/// - the reflector's: `kind`, a small stateful session table, and `buildReply` with
///   `reflectTLVs`, whose reply must carry the sender's fields where RFC 8762 §4.3.1 puts them,
///   change no TLV but its flags, never look like a request again, and reflect to itself.
package enum StampFuzzing {
    package static func run(_ bytes: UnsafeRawBufferPointer) {
        guard let options = bytes.first else { return }
        var sender = Sender(sharedClock: options & 1 != 0, sent: 1 << UInt64(min(40, options >> 1)))
        var sessions = StampSessions(limit: 4)
        var offset = 1
        while offset + 3 <= bytes.count {
            let source = bytes[offset]
            let declared = Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            let length = min(declared, bytes.count - offset - 3)
            let payload = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, length), alignment: 8)
            defer { payload.deallocate() }
            payload.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(offset + 3)..<(offset + 3 + length)]))
            sender.receive(payload.baseAddress!, length: length)
            var address = ReceivePathFuzzing.address(source)
            reflect(payload.baseAddress!, length: length, from: &address, sessions: &sessions, ttl: source)
            offset += 3 + length
        }
        precondition(sessions.count <= 4, "session table past its limit")
        sender.check()
    }

    /// An echo job's receive side for one flow, as `EchoReceiver.processStamp` runs it.
    private struct Sender {
        var window = SequenceWindow(bits: 128)
        let sent: UInt64
        /// T4 for every reply: 2033 on the wall clock. Sending times are the replies' T1 as they
        /// decode, not moved onto this process's monotonic clock, so an input runs the same in every
        /// process (the real receiver's `clock.monotonic` depends on when the host booted).
        let now: UInt64 = 2_000_000_000 * 1_000_000_000
        var answered: UInt64 = 0

        init(sharedClock: Bool, sent: UInt64) {
            var spec = JobSpec(mode: .echo, target: Endpoint(address: IPAddress("127.0.0.1")!, port: 862))
            spec.echoProtocol = .stamp
            spec.stateful = true
            spec.ssid = Int(Self.ssid)
            self.spec = spec
            self.sharedClock = sharedClock
            self.sent = sent
        }

        static let ssid: UInt16 = 0x5354
        let spec: JobSpec
        let sharedClock: Bool
        /// Made at the first reply of this job's session: its histograms cost more than most inputs.
        var state: StampEchoState?

        mutating func receive(_ p: UnsafeRawPointer, length: Int) {
            let reply = StampPacket.readReply(p, length: length)
            precondition((reply == nil) == (length < StampPacket.baseBytes), "readReply and the length disagree")
            guard let reply else { return }
            for raw in [reply.t1, reply.t2, reply.t3] {
                for ptp in [false, true] { _ = StampClock.decode(raw, ptp: ptp, taiSeconds: 37) }
            }
            for estimate in [reply.errorEstimate, reply.senderErrorEstimate] {
                let nanos = StampClock.errorNanos(estimate)
                precondition(nanos.isFinite && nanos >= 0, "error estimate \(estimate) gives \(nanos) ns")
            }
            guard reply.ssid == Self.ssid, let sequence = StampEchoState.extend(reply.senderSequence, sentSoFar: sent) else { return }
            precondition(sequence < sent && UInt32(truncatingIfNeeded: sequence) == reply.senderSequence, "extended \(sequence)")
            if state == nil {
                state = StampEchoState(setup: StampEchoSetup(spec: spec, workers: 1, sharedClock: sharedClock), flows: 1)
            }
            _ = state!.setup.clock.monotonic(reply.t1)
            let t1 = StampClock.decode(reply.t1, ptp: false, taiSeconds: 37)
            guard t1 >= 0, UInt64(t1) <= now else { return }
            let sentNanos = UInt64(t1)
            switch window.mark(sequence) {
            case .duplicate, .tooOld: return
            case .first, .reordered: break
            }
            answered += 1
            state!.answered(reply, sequence: sequence, flow: 0)
            let rtt = state!.measure(reply, sentNanos: sentNanos, now: now, second: 0)
            precondition(rtt <= now - sentNanos, "round trip \(rtt) past T4 − T1")
        }

        /// When the loss is split, the parts add up to what was sent and not answered.
        mutating func check() {
            guard var state else { return }
            state.finish(lastSecond: 0, sentPerFlow: [sent])
            let report = state.setup.report([state])
            precondition(report.turnaroundUs?.count ?? 0 == answered, "turnaround count")
            if report.loss.attributed {
                let parts = (report.loss.forward ?? 0) &+ (report.loss.backward ?? 0) &+ (report.loss.unknown ?? 0)
                precondition(parts == sent - answered, "loss split \(parts) of \(sent - answered) unanswered")
            }
        }
    }

    /// A reflector's handling of one datagram, and what RFC 8762 §4.3.1 says its reply must hold.
    private static func reflect(_ p: UnsafeMutableRawPointer, length: Int, from address: inout sockaddr_storage,
                                sessions: inout StampSessions, ttl: UInt8) {
        let kind = StampPacket.kind(p, length: length)
        precondition((kind == .tooShort) == (length < StampPacket.baseBytes), "kind and the length disagree")
        guard kind == .request else { return }
        let original = Array(UnsafeRawBufferPointer(start: p, count: length))
        let sequence = withUnsafePointer(to: &address) { sessions.next(from: $0, ssid: StampPacket.ssid(p), now: 1) } ?? 0
        let t2: UInt64 = 0xE000_0000_0000_0001  // never zero, as a real receive time is not
        let counts = StampPacket.buildReply(p, length: length, sequence: sequence, errorEstimate: 0x0001, t2: t2, ttl: ttl)
        let reply = StampPacket.readReply(p, length: length)!
        func u32(_ o: Int) -> UInt32 { original[o..<o + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        func u64(_ o: Int) -> UInt64 { original[o..<o + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        precondition(reply.sequence == sequence && reply.t2 == t2 && reply.senderTTL == ttl, "reflector fields")
        precondition(reply.senderSequence == u32(0) && reply.t1 == u64(4), "sender sequence or T1 not copied")
        precondition(reply.senderErrorEstimate == UInt16(original[12]) << 8 | UInt16(original[13]), "error estimate")
        precondition(reply.ssid == UInt16(original[14]) << 8 | UInt16(original[15]), "SSID not copied")
        precondition(StampPacket.u16(p, 38) == 0 && StampPacket.u32(p, 40) & 0x00FF_FFFF == 0, "MBZ not zero")
        // A reply is never taken for a request, so two reflectors cannot bounce it between them.
        precondition(StampPacket.kind(p, length: length) == .reflectorPacket, "a reply reads as a request")
        precondition(counts.malformed <= 1 && counts.unrecognized <= (length - StampPacket.baseBytes) / 4, "TLV counts")
        // The TLV walk changes flags bytes only, and only their U and M bits.
        var offset = StampPacket.baseBytes
        var flagBytes = Set<Int>()
        while length - offset >= 4 {
            flagBytes.insert(offset)
            offset += 4 + Int(StampPacket.u16(p, offset + 2))
        }
        for i in StampPacket.baseBytes..<length {
            let now = p.load(fromByteOffset: i, as: UInt8.self)
            let changed = now ^ original[i]
            precondition(changed == 0 || (flagBytes.contains(i) && changed & 0x3F == 0), "TLV byte \(i) changed")
        }
        // Answering the same TLVs again changes nothing more.
        let once = Array(UnsafeRawBufferPointer(start: p + StampPacket.baseBytes, count: length - StampPacket.baseBytes))
        let again = StampPacket.reflectTLVs(p, length: length)
        precondition(again == counts || once.allSatisfy({ $0 == 0 }), "TLV counts changed on a second pass")
        precondition(once.elementsEqual(UnsafeRawBufferPointer(start: p + StampPacket.baseBytes, count: length - StampPacket.baseBytes)),
                     "reflecting TLVs twice changed them")
    }
}
