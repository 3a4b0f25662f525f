import MicroHTTP
import VolleyModel

/// Keeps web pages from driving the agent through the operator's browser. A page can make the browser
/// send a "simple" cross-origin request (a POST of text/plain or a form, no preflight), and with DNS
/// rebinding can even read the answers under a name of its own. So:
/// - `Host` must be an IP literal, `localhost`, or a name given with `--server-name` (421 otherwise):
///   rebinding needs an attacker's name, never a literal address;
/// - a request with an `Origin` other than its own host is refused (403) unless the agent has a token
///   or it asks for `/v1/health`
///   (a page cannot add `Authorization` cross-origin without a preflight, which the agent never grants);
/// - a POST body must say `Content-Type: application/json` (415, see `bodyRefusal`), which no simple
///   request can. A DELETE is never a simple request, so it needs no body type.
struct BrowserGuard: Sendable {
    let serverNames: Set<String>
    let hasToken: Bool
    /// `Host` values already allowed, exactly as sent: a keep-alive client sends the same one with
    /// every request, and judging it again (trim, lower-case, split off the port, parse an address)
    /// was a fifth of the agent's own work on a `GET /v1/jobs/{id}`. Bounded, so a client varying
    /// its `Host` cannot grow it; a refused value is never kept.
    private let allowedHosts = Locked<Set<String>>([])
    private static let allowedHostsLimit = 64

    init(serverNames: [String], hasToken: Bool) {
        self.serverNames = Set(serverNames.map { $0.lowercased() })
        self.hasToken = hasToken
    }

    /// The refusal for `request`, or nil when it may go on.
    func refusal(_ request: HTTPRequest) -> APIError? {
        if let host = request.header("host"), !allows(hostHeader: host) {
            return APIError(.hostNotAllowed, "this agent does not answer for host '\(Self.printable(host))'; use its address, localhost, or a name given with --server-name")
        }
        if let origin = request.header("origin"), !hasToken, request.path != "/v1/health",
           !Self.sameOrigin(origin, host: request.header("host")) {
            return APIError(.crossOrigin, "requests from web pages of another origin ('\(Self.printable(origin))') are refused; this agent has no token to tell them apart")
        }
        return nil
    }

    /// The refusal of a POST route's body that is not JSON (checked once the route is known, so that
    /// a POST to a GET-only path is still 405). An empty body needs no type: a page that sends one
    /// cross-origin carries an `Origin`, which `refusal` has already judged.
    static func bodyRefusal(_ request: HTTPRequest) -> APIError? {
        guard !request.body.isEmpty, !isJSON(request.header("content-type")) else { return nil }
        return APIError(.unsupportedMediaType, "POST bodies must be sent as 'Content-Type: application/json' (curl --json '{…}')",
                        headers: ["Accept-Post": "application/json"])
    }

    private func allows(hostHeader: String) -> Bool {
        if allowedHosts.withLock({ $0.contains(hostHeader) }) { return true }
        guard allows(host: Self.hostName(hostHeader)) else { return false }
        allowedHosts.withLock { if $0.count < Self.allowedHostsLimit { $0.insert(hostHeader) } }
        return true
    }

    private func allows(host: String) -> Bool {
        host == "localhost" || IPAddress(host) != nil || serverNames.contains(host)
    }

    /// `name`, `name:port`, `[v6]` or `[v6]:port`, lower-cased, without the port or brackets.
    static func hostName(_ header: String) -> String {
        // ASCII (every Host header a client sends) is read byte by byte: in ASCII a byte is a
        // character for everything looked at here, and the character-wise search below was a tenth
        // of the CPU of a `GET /v1/jobs/{id}`.
        guard header.utf8.allSatisfy({ $0 < 0x80 }) else { return characterHostName(header) }
        let text = trimmingSpaces(header).lowercased()
        let bytes = text.utf8
        if bytes.first == UInt8(ascii: "["), let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
            return String(Substring(bytes[bytes.index(after: bytes.startIndex)..<close]))
        }
        if let colon = bytes.lastIndex(of: UInt8(ascii: ":")), bytes.firstIndex(of: UInt8(ascii: ":")) == colon {
            return String(Substring(bytes[..<colon]))
        }
        return text
    }

    /// `hostName` for a header that is not ASCII, character by character.
    static func characterHostName(_ header: String) -> String {
        let text = header.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        if let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon { return String(text[..<colon]) }
        return text
    }

    /// `scheme://host[:port]` naming the same host and port as `Host`.
    static func sameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, let range = origin.range(of: "://") else { return false }
        let authority = origin[range.upperBound...].lowercased()
        return authority == trimmingSpaces(host.lowercased())
    }

    /// `text.trimmingCharacters(in: .whitespaces)`, without Foundation's NSString round trip when the
    /// text is ASCII (as every Host header is): that round trip was a tenth of the CPU of a
    /// `GET /v1/jobs/{id}`. In ASCII, `.whitespaces` is space and tab.
    static func trimmingSpaces(_ text: String) -> String {
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else { return text.trimmingCharacters(in: .whitespaces) }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = text.utf8.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = text.utf8.lastIndex(where: { !isSpace($0) })!
        if first == text.utf8.startIndex && last == text.utf8.index(before: text.utf8.endIndex) { return text }
        return String(Substring(text.utf8[first...last]))
    }

    /// `application/json`, with parameters (`; charset=utf-8`) allowed, nothing else.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return type == "application/json"
    }

    /// Header text as it can be shown in a message: control characters escaped, at most 200 characters.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars.prefix(200) {
            out += scalar.value < 0x20 || scalar.value == 0x7f ? "\\u{\(String(scalar.value, radix: 16))}" : String(scalar)
        }
        return out
    }
}
