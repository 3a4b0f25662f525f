import CMicroHTTPD

/// Per-request state kept between libmicrohttpd's calls to the access handler: the body read so far.
final class RequestContext {
    var body: [UInt8] = []
    var answered = false
}

/// Collects a connection's key/value pairs (headers or query arguments) through libmicrohttpd's iterator.
final class ValueCollector {
    var values: [String: String] = [:]
    let lowercaseKeys: Bool

    init(lowercaseKeys: Bool) { self.lowercaseKeys = lowercaseKeys }

    static func collect(_ connection: OpaquePointer, kind: MHD_ValueKind, lowercaseKeys: Bool) -> [String: String] {
        let collector = ValueCollector(lowercaseKeys: lowercaseKeys)
        let cls = Unmanaged.passUnretained(collector).toOpaque()
        _ = MHD_get_connection_values(connection, kind, { cls, _, key, value in
            guard let cls, let key else { return .YES }
            let collector = Unmanaged<ValueCollector>.fromOpaque(cls).takeUnretainedValue()
            let name = String(cString: key)
            collector.values[collector.lowercaseKeys ? name.lowercased() : name] = value.map { String(cString: $0) } ?? ""
            return .YES
        }, cls)
        return collector.values
    }
}
