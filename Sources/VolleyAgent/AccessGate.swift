import MicroHTTP

/// Bearer-token authentication: with a token set, every route but `/v1/health` needs
/// `Authorization: Bearer <token>`, compared in constant time. Parsed as RFC 9110 §11 says: the
/// scheme is case-insensitive and followed by one or more spaces; the token is token68 characters only
/// (no controls, no NUL, no spaces), and a second Authorization header (joined with ", ") fails.
struct AccessGate: Sendable {
    let token: [UInt8]?

    init(token: String?) { self.token = token.map { Array($0.utf8) } }

    func allows(_ request: HTTPRequest) -> Bool {
        guard let token, request.path != "/v1/health" else { return true }
        guard let header = request.header("authorization"), let presented = Self.bearerToken(header) else { return false }
        return Self.constantTimeEqual(presented, token)
    }

    /// The credentials of `Bearer <token68>`, or nil when the header is anything else.
    static func bearerToken(_ header: String) -> [UInt8]? {
        let bytes = Array(header.utf8)
        guard bytes.count > 7, String(decoding: bytes.prefix(6), as: UTF8.self).lowercased() == "bearer",
              bytes[6] == 0x20 else { return nil }
        let credentials = bytes.dropFirst(6).drop { $0 == 0x20 }
        guard !credentials.isEmpty, credentials.allSatisfy(isToken68) else { return nil }
        return Array(credentials)
    }

    /// token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
    private static func isToken68(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"),
             UInt8(ascii: "="):
            true
        default:
            false
        }
    }

    var refusal: HTTPResponse {
        APIError(.unauthorized, "this agent needs 'Authorization: Bearer <token>'",
                 headers: ["WWW-Authenticate": "Bearer realm=\"volley\""]).response
    }

    /// Compares without an early exit, so timing reveals nothing about how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}
