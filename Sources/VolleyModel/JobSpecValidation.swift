extension JobSpec {
    /// Largest UDP payload over IPv4 (65535 − 20 IP − 8 UDP).
    public static let maxPayloadBytes = 65507
    public static let maxDurationSeconds = 3600.0
    public static let batchRange = 1...1024
    public static let threadRange = 1...64
    public static let maxRatePPS = 100_000_000
    public static let maxTags = 64
    public static let maxTagLength = 256

    /// Checks ranges and cross-field rules; the error names the field and the accepted range.
    public func validate() throws(SpecError) {
        switch mode {
        case .send where target == nil:
            throw SpecError(field: "target", "field 'target' is required for mode 'send' (host:port, e.g. 127.0.0.1:9000)")
        case .sink where listen == nil:
            throw SpecError(field: "listen", "field 'listen' is required for mode 'sink' (host:port, e.g. 127.0.0.1:9000)")
        default: break
        }
        guard durationSeconds.isFinite, durationSeconds > 0, durationSeconds <= Self.maxDurationSeconds else {
            throw SpecError(field: "duration_s", "field 'duration_s' must be more than 0 and at most 3600 seconds")
        }
        try check(ratePPS, in: 0...Self.maxRatePPS, "rate_pps", "(0 means as fast as possible)")
        try check(payloadBytes, in: 0...Self.maxPayloadBytes, "payload_bytes", "(the largest UDP payload)")
        try check(batch, in: Self.batchRange, "batch")
        try check(threads, in: Self.threadRange, "threads")
        try check(maxPackets, in: 0...Int.max, "max_packets", "(0 means no limit)")
        if ratePPS > 0 && ratePPS < threads {
            throw SpecError(field: "rate_pps", "field 'rate_pps' (\(ratePPS)) is below 'threads' (\(threads)): each thread needs at least 1 packet per second")
        }
        if tags.count > Self.maxTags {
            throw SpecError(field: "tags", "field 'tags' has \(tags.count) entries; at most \(Self.maxTags) are allowed")
        }
        if let (key, _) = tags.first(where: { $0.key.count > Self.maxTagLength || $0.value.count > Self.maxTagLength }) {
            throw SpecError(field: "tags.\(key)", "tag keys and values are at most \(Self.maxTagLength) characters")
        }
    }

    private func check(_ value: Int, in range: ClosedRange<Int>, _ field: String, _ note: String = "") throws(SpecError) {
        guard !range.contains(value) else { return }
        let upper = range.upperBound == Int.max ? "or more" : "to \(range.upperBound)"
        let suffix = note.isEmpty ? "" : " \(note)"
        throw SpecError(field: field, "field '\(field)' is \(value); it must be \(range.lowerBound) \(upper)\(suffix)")
    }
}
