import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A response as the tests look at it.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: Data

    public func header(_ name: String) -> String? {
        headers.first { $0.key.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The body parsed as a JSON object (empty when it is not one).
    public var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any]) ?? [:] }

    /// `error.code` of an error body.
    public var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
    public var errorField: String? { (json["error"] as? [String: Any])?["field"] as? String }
    public var errorMessage: String? { (json["error"] as? [String: Any])?["message"] as? String }
}

/// A real HTTP client (URLSession) pointed at one agent.
public struct HTTPClient: Sendable {
    public let base: URL
    public let token: String?

    public init(port: UInt16, host: String = "127.0.0.1", token: String? = nil) {
        base = URL(string: "http://\(host):\(port)")!
        self.token = token
    }

    public func request(_ method: String, _ path: String, body: Data? = nil) async throws -> HTTPReply {
        var request = URLRequest(url: URL(string: path, relativeTo: base)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 10
        // Every POST says JSON, even an empty one (cancel): the agent refuses others (browser safety).
        if body != nil || method == "POST" { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http.allHeaderFields { headers["\(key)"] = "\(value)" }
        return HTTPReply(status: http.statusCode, headers: headers, body: data)
    }

    public func get(_ path: String) async throws -> HTTPReply { try await request("GET", path) }

    public func post(_ path: String, json: String) async throws -> HTTPReply {
        try await request("POST", path, body: Data(json.utf8))
    }

    /// Polls a job until it reaches a final state (or `timeout` passes) and returns its last JSON.
    public func waitForJob(_ id: String, timeout: Double = 30) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let job = try await get("/v1/jobs/\(id)").json
            let state = job["state"] as? String ?? ""
            if ["completed", "failed", "cancelled", "interrupted"].contains(state) || Date() > deadline { return job }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
    }
}
