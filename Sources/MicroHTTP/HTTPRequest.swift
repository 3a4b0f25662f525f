/// One HTTP request as the handler sees it: fully read (body capped), decoded into plain values.
import Foundation

public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string, still percent-encoded as sent (e.g. `/v1/jobs/a%2Fb`);
    /// `pathSegments` decodes it piece by piece.
    public var path: String
    /// Query arguments (`?state=running`), already percent-decoded.
    public var query: [String: String]
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The path split at "/" and then percent-decoded, so an encoded "/" or "?" stays inside its
    /// segment; nil when an escape is malformed.
    public var pathSegments: [String]? {
        var out: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = String(raw).removingPercentEncoding else { return nil }
            out.append(decoded)
        }
        return out
    }

    /// Decodes query keys and values (`+` is a space, then percent escapes); malformed ones are kept raw.
    static func decodeQuery(_ raw: [String: String]) -> [String: String] {
        var out: [String: String] = [:]
        for (key, value) in raw {
            let decode = { (s: String) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? s }
            out[decode(key)] = decode(value)
        }
        return out
    }
}
