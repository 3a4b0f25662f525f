extension JobSpec {
    /// Largest UDP payload over IPv4 (65535 − 20 IP − 8 UDP).
    public static let maxPayloadBytes = 65507
    public static let maxDurationSeconds = 3600.0
    public static let batchRange = 1...1024
    public static let threadRange = 1...64
    /// `cpu_latency_us`: up to 100 ms (the deepest idle states of common CPUs take well under 1 ms to leave).
    public static let cpuLatencyRange = 0...100_000
    public static let maxRatePPS = 100_000_000
    /// 1 Tbit/s: far above any single host, low enough that no conversion can overflow.
    public static let maxRateBPS = 1_000_000_000_000
    public static let maxTags = 64
    public static let maxTagLength = 256
    public static let maxSockets = 1024
    /// Size of Volley's stamp at the start of a payload; see `README.md` for its layout.
    public static let stampBytes = 32

    /// Checks ranges and cross-field rules; the error names the field and the accepted range.
    public func validate() throws(SpecError) {
        if mode.originates && target == nil {
            throw SpecError(field: "target", "field 'target' is required for mode '\(mode.rawValue)' (host:port, e.g. 127.0.0.1:9000)")
        }
        if !mode.originates && listen == nil {
            throw SpecError(field: "listen", "field 'listen' is required for mode '\(mode.rawValue)' (host:port, e.g. 127.0.0.1:9000)")
        }
        try validateProfile()
        guard profile != nil || (durationSeconds.isFinite && durationSeconds > 0 && durationSeconds <= Self.maxDurationSeconds) else {
            throw SpecError(field: "duration_s", "field 'duration_s' must be more than 0 and at most 3600 seconds")
        }
        guard (0...Self.maxRatePPS).contains(ratePPS) else {
            if let rateBPS {
                throw SpecError(field: "rate_bps", "field 'rate_bps' (\(rateBPS)) works out to \(ratePPS) datagrams per second at \(meanPayloadBytes) payload bytes; at most \(Self.maxRatePPS)")
            }
            throw SpecError(field: "rate_pps", "field 'rate_pps' is \(ratePPS); it must be 1 to \(Self.maxRatePPS) datagrams per second, or \"max\"")
        }
        try check(payloadBytes, in: 0...Self.maxPayloadBytes, "payload_bytes", "(the largest UDP payload)")
        try check(batch, in: Self.batchRange, "batch")
        try check(threads, in: Self.threadRange, "threads")
        try check(maxPackets, in: 0...Int.max, "max_packets", "(0 means no limit)")
        if profile == nil && ratePPS > 0 && ratePPS < threads {
            throw SpecError(field: rateBPS == nil ? "rate_pps" : "rate_bps", "field 'rate_pps' (\(ratePPS)) is below 'threads' (\(threads)): each thread needs at least 1 packet per second")
        }
        try check(flows, in: 1...64, "flows")
        if threads * flows + warmUpSockets > Self.maxSockets {
            let counted = warmUpSockets > 0 ? "threads × flows + threads (one warm-up socket each)" : "threads × flows"
            let hint = warmUpSockets > 0 ? " (\"warm_up\": false frees one per thread)" : ""
            throw SpecError(field: "flows", "\(counted) is \(threads * flows + warmUpSockets); at most \(Self.maxSockets) sockets per job\(hint)")
        }
        try check(echoTimeoutMilliseconds, in: 1...60_000, "echo_timeout_ms")
        try check(busyPollMicroseconds, in: 0...10_000, "busy_poll_us")
        if let cpuLatencyMicroseconds {
            try check(cpuLatencyMicroseconds, in: Self.cpuLatencyRange, "cpu_latency_us", "(0 keeps idle CPUs polling)")
        }
        if mode == .send && busyPollMicroseconds > 0 && profile == nil && ratePPS == Self.unlimitedRate {
            throw SpecError(field: "busy_poll_us", "'busy_poll_us' spins through a paced send's waits between batches; with rate_pps \"max\" a send never waits (give a rate, or leave 'busy_poll_us' out)")
        }
        try validatePayload()
        try validateStamp()
        if gso && sizes != nil {
            throw SpecError(field: "gso", "'gso' needs one payload size for every datagram; it cannot be used with 'sizes'")
        }
        if gso && largestPayload == 0 {
            throw SpecError(field: "gso", "'gso' cuts messages into payloads of 'payload_bytes'; it needs at least 1 byte")
        }
        try thresholds?.validate(for: self)
        if tags.count > Self.maxTags {
            throw SpecError(field: "tags", "field 'tags' has \(tags.count) entries; at most \(Self.maxTags) are allowed")
        }
        // Bytes, not characters: one letter with thousands of combining marks is one character.
        if let (key, _) = tags.first(where: { $0.key.utf8.count > Self.maxTagLength || $0.value.utf8.count > Self.maxTagLength }) {
            throw SpecError(field: "tags.\(key)", "tag keys and values are at most \(Self.maxTagLength) bytes of UTF-8")
        }
    }

    private func check(_ value: Int, in range: ClosedRange<Int>, _ field: String, _ note: String = "") throws(SpecError) {
        guard !range.contains(value) else { return }
        let upper = range.upperBound == Int.max ? "or more" : "to \(range.upperBound)"
        let suffix = note.isEmpty ? "" : " \(note)"
        throw SpecError(field: field, "field '\(field)' is \(value); it must be \(range.lowerBound) \(upper)\(suffix)")
    }

    private func validateProfile() throws(SpecError) {
        guard let profile else { return }
        guard (1...1000).contains(profile.count) else {
            throw SpecError(field: "profile", "'profile' needs 1 to 1000 steps, not \(profile.count)")
        }
        for (i, step) in profile.enumerated() {
            guard step.durationSeconds.isFinite, step.durationSeconds > 0 else {
                throw SpecError(field: "profile[\(i)].duration_s", "field 'profile[\(i)].duration_s' must be more than 0 seconds")
            }
            let (key, rate) = step.ratePPS.map { ("rate_pps", $0) } ?? ("ramp_to_pps", step.rampToPPS ?? 0)
            try check(rate, in: 0...Self.maxRatePPS, "profile[\(i)].\(key)", "(0 pauses sending)")
        }
        guard durationSeconds.isFinite && durationSeconds <= Self.maxDurationSeconds else {
            throw SpecError(field: "profile", "the steps of 'profile' add up to \(durationSeconds) s; at most 3600 s")
        }
    }

    private func validatePayload() throws(SpecError) {
        let needsStamp = mode == .echo
        if let payloadHex {
            let count = payloadHex.utf8.count
            guard count > 0, count % 2 == 0, payloadHex.utf8.allSatisfy({ $0.isHexDigit }) else {
                throw SpecError(field: "payload_hex", "field 'payload_hex' must be an even number of hex digits (e.g. \"00ff\")")
            }
            try check(count / 2, in: 1...Self.maxPayloadBytes, "payload_hex", "(bytes)")
        }
        if let sizes {
            guard (1...16).contains(sizes.count) else {
                throw SpecError(field: "sizes", "'sizes' needs 1 to 16 entries, not \(sizes.count)")
            }
            for (i, entry) in sizes.enumerated() {
                try check(entry.bytes, in: (needsStamp ? minimumEchoPayload : 0)...Self.maxPayloadBytes, "sizes[\(i)].bytes",
                          needsStamp ? "(echo payloads carry a \(minimumEchoPayload)-byte stamp)" : "")
                try check(entry.weight, in: 1...1_000_000, "sizes[\(i)].weight")
            }
        } else if needsStamp && payloadBytes < minimumEchoPayload {
            throw SpecError(field: "payload_bytes", "field 'payload_bytes' is \(payloadBytes); echo payloads carry a \(minimumEchoPayload)-byte stamp, so at least \(minimumEchoPayload)")
        }
    }
}

extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x41...0x46).contains(self) || (0x61...0x66).contains(self) }
}
