import CMicroHTTPD

/// Per-request state kept between libmicrohttpd's calls to the access handler: the body read so far.
final class RequestContext {
    var body: [UInt8] = []
    var answered = false
    /// The body is over the cap: it is read and dropped, and the request answered 413.
    var tooLarge = false
    /// Bytes of body received so far, kept or not.
    var discarded = 0
}

/// Collects a connection's key/value pairs (headers or query arguments) through libmicrohttpd's iterator.
/// A header sent twice keeps both values, joined by ", " as RFC 9110 §5.3 combines field lines, so a
/// second `Authorization` or `Content-Type` cannot silently replace the first.
final class ValueCollector {
    var values: [String: String] = [:]
    let lowercaseKeys: Bool

    init(lowercaseKeys: Bool) { self.lowercaseKeys = lowercaseKeys }

    static func collect(_ connection: OpaquePointer, kind: MHD_ValueKind, lowercaseKeys: Bool) -> [String: String] {
        // Without an iterator libmicrohttpd only counts: most requests have no query arguments.
        guard MHD_get_connection_values(connection, kind, nil, nil) > 0 else { return [:] }
        let collector = ValueCollector(lowercaseKeys: lowercaseKeys)
        let cls = Unmanaged.passUnretained(collector).toOpaque()
        _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
            guard let cls, let key else { return .YES }
            let collector = Unmanaged<ValueCollector>.fromOpaque(cls).takeUnretainedValue()
            let name = String(cString: key)
            let field = collector.lowercaseKeys ? name.lowercased() : name
            let text = value.map { String(cString: $0) } ?? ""
            if collector.lowercaseKeys, let earlier = collector.values[field] {
                collector.values[field] = earlier + ", " + text
            } else {
                collector.values[field] = text
            }
            return .YES
        }, cls)
        return collector.values
    }
}
