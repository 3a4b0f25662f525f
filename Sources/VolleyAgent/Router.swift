import Foundation
import MicroHTTP
import VolleyModel
import VolleyReport

/// A table of routes. A pattern segment `{id}` matches any segment; the handler gets the captures.
/// A path that matches with another method is 405 with `Allow`; no match at all is 404. Every GET
/// route answers HEAD too.
struct Router: Sendable {
    typealias Handler = @Sendable (HTTPRequest, [String]) throws(APIError) -> HTTPResponse

    struct Route: Sendable {
        var method: String
        /// The pattern's segments; nil for a `{capture}`. Strings, so that matching compares native
        /// strings (Substring comparisons were a tenth of the router's time).
        var pattern: [String?]
        /// Where the pattern as written (e.g. `/v1/jobs/{id}`) is in `names`.
        var nameIndex: Int
        var handler: Handler
    }

    private var routes: [Route] = []
    /// Every route name once, in the order added, then `unmatched` (a path no route has).
    private(set) var names = ["unmatched"]

    mutating func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        // "/" is one empty segment, as `pathSegments` splits it.
        let segments: [String?] = pattern == "/" ? [""] : pattern.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
        if !names.contains(pattern) { names.insert(pattern, at: names.count - 1) }
        routes.append(Route(method: method, pattern: segments, nameIndex: names.firstIndex(of: pattern)!, handler: handler))
    }

    /// The response, and where the route's pattern is in `names` (for metrics; `unmatched` for a
    /// path no route has).
    func respond(to request: HTTPRequest) -> (response: HTTPResponse, route: Int) {
        let unmatched = names.count - 1
        guard let segments = request.pathSegments else {
            return (APIError.notFound("the path \(request.path) has a malformed %-escape").response, unmatched)
        }
        var allowed: [String] = []
        // HEAD is GET without the body (libmicrohttpd sends only the headers), as load balancers expect.
        let method = request.method == "HEAD" ? "GET" : request.method
        for route in routes {
            guard let captures = match(route.pattern, segments) else { continue }
            guard route.method == method else {
                allowed.append(route.method)
                if route.method == "GET" { allowed.append("HEAD") }
                continue
            }
            if route.method == "POST", let refusal = BrowserGuard.bodyRefusal(request) { return (refusal.response, route.nameIndex) }
            do {
                return (try route.handler(request, captures), route.nameIndex)
            } catch {
                return (error.response, route.nameIndex)
            }
        }
        if !allowed.isEmpty {
            let list = Set(allowed).sorted().joined(separator: ", ")
            return (APIError(.methodNotAllowed, "\(BrowserGuard.printable(request.method)) is not allowed on \(BrowserGuard.printable(request.path)); use \(list)",
                             headers: ["Allow": list]).response, unmatched)
        }
        return (APIError.notFound("no route for \(request.path); see openapi.yaml for the API").response, unmatched)
    }

    private func match(_ pattern: [String?], _ segments: [String]) -> [String]? {
        guard pattern.count == segments.count else { return nil }
        var captures: [String] = []
        for (p, s) in zip(pattern, segments) {
            if let p {
                guard p == s else { return nil }
            } else {
                captures.append(s)
            }
        }
        return captures
    }
}

extension HTTPResponse {
    /// A page of ours: the reports' Content-Security-Policy as a header as well (where `frame-ancestors`
    /// works, so no other site can frame it), and no MIME sniffing.
    static func html(_ text: String) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(text.utf8),
                     headers: [("Content-Security-Policy", Report.contentSecurityPolicy + "; frame-ancestors 'none'"),
                               ("X-Content-Type-Options", "nosniff")])
    }

    /// 200 (or `status`) with a JSON body in the project's style.
    /// A value JSON cannot hold (a non-finite number) is a 500 `internal_error` naming it, never an
    /// empty 200.
    static func json<T: Encodable>(_ value: T, status: Int = 200, headers: [(name: String, value: String)] = []) -> HTTPResponse {
        do {
            let body = try VolleyJSON.encode(value)
            return HTTPResponse(status: status, contentType: "application/json", body: Array(body) + [0x0a], headers: headers)
        } catch {
            return APIError(.internalError, "the answer could not be encoded as JSON: \(error)").response
        }
    }
}
