import VolleyModel

/// What a STAMP echo job's workers share: its clock, SSID and histograms, and whether the target
/// reads this host's clock. Built once per job.
final class StampEchoSetup: Sendable {
    let clock: StampClock
    let ssid: UInt16
    /// The target is this host: T1/T4 and T2/T3 come from one clock, so one-way delays are valid.
    let sharedClock: Bool
    /// The spec says the reflector is stateful, so its sequence numbers split loss by direction.
    let stateful: Bool
    let turnaround: LatencyCollector
    let forward: LatencyCollector
    let backward: LatencyCollector

    init(spec: JobSpec, workers: Int, sharedClock: Bool) {
        clock = StampClock(format: spec.timestampFormat)
        ssid = UInt16(truncatingIfNeeded: spec.ssid ?? Int.random(in: 1...65535))
        self.sharedClock = sharedClock
        stateful = spec.stateful
        turnaround = LatencyCollector(workers: workers)
        forward = LatencyCollector(workers: workers)
        backward = LatencyCollector(workers: workers)
    }

    /// Whether one-way delays can be trusted with this reply's Error Estimate.
    @inline(__always)
    func oneWayValid(reflectorEstimate: UInt16) -> Bool {
        sharedClock || (clock.synchronized && StampClock.isSynchronized(reflectorEstimate))
    }

    /// The result's `stamp` section from every worker's state.
    func report(_ states: [StampEchoState]) -> StampEchoReport {
        var merged = StampEchoState.Totals()
        for s in states { merged.merge(s.totals) }
        let oneWay = merged.replies > 0 && merged.oneWayInvalid == 0
        let note: String
        if merged.replies == 0 {
            note = "no replies: nothing to judge the clocks by"
        } else if sharedClock {
            note = "the reflector is on this host: both directions are timed by one clock"
        } else if oneWay {
            note = "both clocks said they were synchronized to an external source (S bit)"
        } else if !clock.synchronized {
            note = "this host's clock is not synchronized to an external source (adjtimex), so one-way delays would be clock offset"
        } else {
            note = "\(merged.oneWayInvalid) replies came from a reflector whose clock is not synchronized (S bit clear)"
        }
        let format: String? = switch (merged.sawNTP, merged.sawPTP) {
        case (true, true): "mixed"
        case (true, false): "ntp"
        case (false, true): "ptp"
        case (false, false): nil
        }
        return StampEchoReport(
            ssid: Int(ssid), timestampFormat: clock.format, reflectorTimestampFormat: format,
            senderClockSynchronized: clock.synchronized,
            reflectorClockSynchronized: merged.replies > 0 ? merged.reflectorUnsynchronized == 0 : nil,
            sharedClock: sharedClock, oneWayValid: oneWay, oneWayNote: note,
            turnaroundUs: merged.replies > 0 ? turnaround.summary : nil,
            forwardUs: oneWay ? forward.summary : nil, backwardUs: oneWay ? backward.summary : nil,
            negativeOneWay: merged.negativeOneWay, turnaroundOverRTT: merged.turnaroundOverRTT,
            loss: loss(states))
    }

    /// Per flow: what never reached the reflector (`forward`: the sender's highest answered number
    /// less the reflector's), what it sent that never came back (`backward`), and what was sent
    /// after the last answered datagram (`unknown`).
    private func loss(_ states: [StampEchoState]) -> StampLoss {
        guard stateful else {
            return StampLoss(attributed: false, note: "only round-trip loss is known: the spec does not say the reflector is stateful (\"stateful\": true)")
        }
        var forward: UInt64 = 0, backward: UInt64 = 0, unknown: UInt64 = 0, misfits: UInt64 = 0
        for state in states {
            for flow in state.flows.indices {
                let f = state.flows[flow]
                misfits &+= f.misfits
                guard let highest = f.highestSent else {
                    unknown &+= state.sentPerFlow(flow)
                    continue
                }
                unknown &+= state.sentPerFlow(flow) &- min(state.sentPerFlow(flow), highest &+ 1)
                guard f.highestReflected <= highest, f.answered <= f.highestReflected &+ 1 else {
                    misfits &+= 1
                    continue
                }
                forward &+= highest - f.highestReflected
                backward &+= f.highestReflected &+ 1 - f.answered
            }
        }
        if misfits > 0 {
            return StampLoss(attributed: false, note: "\(misfits) replies carried reflector sequence numbers that a stateful reflector of this session would not send (ahead of the sender's, or fewer than the replies received): loss is not split")
        }
        return StampLoss(attributed: true, forward: forward, backward: backward, unknown: unknown)
    }
}

/// One echo worker's STAMP bookkeeping: preallocated histograms and per-flow sequence tracking.
/// `record` allocates nothing; every value it reads from a reply is checked or saturated first.
struct StampEchoState {
    struct Flow {
        /// The highest sender sequence number answered (received or late), and the highest of the
        /// reflector's own numbers (both extended to 64 bits). The reflector received
        /// `highestReflected + 1` of the first `highestSent + 1` datagrams (reordering aside).
        var highestSent: UInt64?
        var highestReflected: UInt64 = 0
        var answered: UInt64 = 0
        /// Replies whose reflector number cannot come from a stateful reflector of this session.
        var misfits: UInt64 = 0
    }

    struct Totals {
        var replies: UInt64 = 0
        var oneWayInvalid: UInt64 = 0
        var reflectorUnsynchronized: UInt64 = 0
        var negativeOneWay: UInt64 = 0
        var turnaroundOverRTT: UInt64 = 0
        var sawNTP = false
        var sawPTP = false

        mutating func merge(_ o: Totals) {
            replies &+= o.replies
            oneWayInvalid &+= o.oneWayInvalid
            reflectorUnsynchronized &+= o.reflectorUnsynchronized
            negativeOneWay &+= o.negativeOneWay
            turnaroundOverRTT &+= o.turnaroundOverRTT
            sawNTP = sawNTP || o.sawNTP
            sawPTP = sawPTP || o.sawPTP
        }
    }

    let setup: StampEchoSetup
    private(set) var flows: [Flow]
    private(set) var totals = Totals()
    private var turnaround: LatencyRecorder
    private var forward: LatencyRecorder
    private var backward: LatencyRecorder
    /// The sending side's counts per flow, copied in at the end for the loss split.
    private var sent: [UInt64]

    init(setup: StampEchoSetup, flows count: Int) {
        self.setup = setup
        flows = Array(repeating: Flow(), count: count)
        sent = Array(repeating: 0, count: count)
        turnaround = LatencyRecorder(collector: setup.turnaround)
        forward = LatencyRecorder(collector: setup.forward)
        backward = LatencyRecorder(collector: setup.backward)
    }

    func sentPerFlow(_ flow: Int) -> UInt64 { sent[flow] }

    /// A reply's sender sequence number, extended to the 64-bit one this flow sent (the newest
    /// below `sentSoFar` with those low 32 bits); nil when no datagram sent had it.
    @inline(__always)
    static func extend(_ low: UInt32, sentSoFar: UInt64) -> UInt64? {
        guard sentSoFar > 0 else { return nil }
        let last = sentSoFar - 1
        let candidate = (last & ~0xFFFF_FFFF) | UInt64(low)
        if candidate <= last { return candidate }
        return candidate >= 1 << 32 ? candidate - (1 << 32) : nil
    }

    /// A first copy of a reply (received in time, or late) on `flow`: sequence bookkeeping.
    @inline(__always)
    mutating func answered(_ reply: StampPacket.Reply, sequence: UInt64, flow: Int) {
        flows[flow].answered &+= 1
        // A stateful reflector numbers the replies of this session from 0; it cannot be ahead.
        let behind = UInt64(reply.senderSequence &- reply.sequence)
        guard behind <= sequence else {
            flows[flow].misfits &+= 1
            return
        }
        flows[flow].highestSent = max(flows[flow].highestSent ?? 0, sequence)
        flows[flow].highestReflected = max(flows[flow].highestReflected, sequence - behind)
    }

    /// A reply received in time: the turnaround and one-way delays. `sentNanos` and `now` are this
    /// side's monotonic readings of T1 and T4. Returns the round trip less the turnaround, in ns.
    @inline(__always)
    mutating func measure(_ reply: StampPacket.Reply, sentNanos: UInt64, now: UInt64, second: Int) -> UInt64 {
        totals.replies &+= 1
        let clock = setup.clock
        let ptp = StampClock.isPTP(reply.errorEstimate)
        if ptp { totals.sawPTP = true } else { totals.sawNTP = true }
        if !StampClock.isSynchronized(reply.errorEstimate) { totals.reflectorUnsynchronized &+= 1 }
        let t2 = StampClock.decode(reply.t2, ptp: ptp, taiSeconds: clock.taiSeconds)
        let t3 = StampClock.decode(reply.t3, ptp: ptp, taiSeconds: clock.taiSeconds)
        let total = now - sentNanos
        let held = t3 &- t2
        let turn: UInt64
        if held < 0 || UInt64(held) > total {
            totals.turnaroundOverRTT &+= 1
            turn = held < 0 ? 0 : total
        } else {
            turn = UInt64(held)
        }
        turnaround.record(micros: turn / 1000, second: second)
        if setup.oneWayValid(reflectorEstimate: reply.errorEstimate) {
            let t1 = Int64(truncatingIfNeeded: sentNanos) &+ clock.realtimeOffsetNanos
            let t4 = Int64(truncatingIfNeeded: now) &+ clock.realtimeOffsetNanos
            forward.record(micros: nonNegativeMicros(t2 &- t1), second: second)
            backward.record(micros: nonNegativeMicros(t4 &- t3), second: second)
        } else {
            totals.oneWayInvalid &+= 1
        }
        return total - turn
    }

    @inline(__always)
    private mutating func nonNegativeMicros(_ nanos: Int64) -> UInt64 {
        guard nanos >= 0 else {
            totals.negativeOneWay &+= 1
            return 0
        }
        return UInt64(nanos) / 1000
    }

    /// At the end: hands the histograms over and notes what each flow sent.
    mutating func finish(lastSecond: Int, sentPerFlow: [UInt64]) {
        sent = sentPerFlow
        turnaround.finish(lastSecond: lastSecond)
        forward.finish(lastSecond: lastSecond)
        backward.finish(lastSecond: lastSecond)
    }
}
