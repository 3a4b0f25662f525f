import MicroHTTP

/// Bearer-token authentication: with a token set, every route but `/v1/health` needs
/// `Authorization: Bearer <token>`, compared in constant time.
struct AccessGate: Sendable {
    let token: [UInt8]?

    init(token: String?) { self.token = token.map { Array($0.utf8) } }

    func allows(_ request: HTTPRequest) -> Bool {
        guard let token, request.path != "/v1/health" else { return true }
        guard let header = request.header("Authorization"), header.hasPrefix("Bearer ") else { return false }
        return Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), token)
    }

    var refusal: HTTPResponse {
        APIError(status: 401, code: "unauthorized", "this agent needs 'Authorization: Bearer <token>'",
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
