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

/// A request's header fields (names lower-cased, in order) and query arguments (still percent-encoded), read in
/// one pass of libmicrohttpd's iterator. A header sent twice keeps both values, joined by ", " as
/// RFC 9110 §5.3 combines field lines, so a second `Authorization` or `Content-Type` cannot silently
/// replace the first; a query argument sent twice keeps the last.
struct RequestValues {
    var fields: [(name: String, value: String)] = []
    var query: [String: String] = [:]
    /// Positions in `fields` by name, built once a request has more than `scanLimit` fields: a
    /// client may send thousands of tiny ones (up to libmicrohttpd's 32 KiB of header), and a scan
    /// per field would then cost their square.
    private var positions: [String: Int]?
    static let scanLimit = 16

    /// Adds a field, joining it to an earlier one of the same name.
    mutating func add(_ name: String, _ value: String) {
        if let earlier = position(of: name) {
            fields[earlier].value += ", " + value
            return
        }
        fields.append((name, value))
        if positions != nil {
            positions![name] = fields.count - 1
        } else if fields.count > Self.scanLimit {
            positions = Dictionary(fields.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
        }
    }

    private func position(of name: String) -> Int? {
        if let positions { return positions[name] }
        return fields.firstIndex { $0.name == name }
    }

    static func collect(_ connection: OpaquePointer) -> RequestValues {
        var values = RequestValues()
        withUnsafeMutablePointer(to: &values) { pointer in
            _ = cmhd_headers_and_arguments(connection, { cls, kind, key, value in
                guard let cls, let key else { return .YES }
                let values = cls.assumingMemoryBound(to: RequestValues.self)
                let text = value.map { String(cString: $0) } ?? ""
                guard kind == .HEADER_KIND else {
                    values.pointee.query[String(cString: key)] = text
                    return .YES
                }
                values.pointee.add(RequestValues.lowercased(key), text)
                return .YES
            }, pointer)
        }
        return values
    }

    /// A header name lower-cased; read as it is when it has no capital (HTTP/2 clients and most
    /// scripts send them so), without building a second string.
    fileprivate static func lowercased(_ name: UnsafePointer<CChar>) -> String {
        var index = 0
        while name[index] != 0 {
            if name[index] >= 0x41 && name[index] <= 0x5a { return String(cString: name).lowercased() }
            index += 1
        }
        return String(cString: name)
    }
}
