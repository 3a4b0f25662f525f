import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import VolleyModel

/// Why a call to an agent failed, in one line a person can act on.
public enum AgentClientError: Error, CustomStringConvertible, Sendable {
    /// Nothing answered (refused, timed out, name not found, TLS failure).
    case unreachable(url: String, reason: String)
    /// The agent answered with an error body (`{"error":{...}}`).
    case api(status: Int, code: String, message: String, field: String?)
    /// The agent answered something that is not the expected JSON.
    case unexpected(status: Int, body: String)

    public var description: String {
        switch self {
        case .unreachable(let url, let reason): "cannot reach the agent at \(url): \(reason)"
        case .api(let status, let code, let message, let field):
            "agent refused (\(status) \(code)\(field.map { ", field '\($0)'" } ?? "")): \(message)"
        case .unexpected(let status, let body): "unexpected answer from the agent (\(status)): \(body.prefix(200))"
        }
    }

    public var status: Int? {
        switch self {
        case .unreachable: nil
        case .api(let status, _, _, _), .unexpected(let status, _): status
        }
    }
}

/// A client for one agent's HTTP API (URLSession, so HTTP and HTTPS), with its bearer token.
public struct AgentClient: Sendable {
    public let base: URL
    public let token: String?
    public var timeout: TimeInterval = 10

    public init(base: URL, token: String? = nil) {
        self.base = base
        self.token = token
    }

    /// The raw answer: status and body.
    public func send(_ method: String, _ path: String, body: Data? = nil) async throws(AgentClientError) -> (status: Int, body: Data) {
        let url = URL(string: base.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + path)!
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = timeout
        // Every POST says JSON, even an empty one (cancel): the agent refuses others (browser safety).
        if body != nil || method == "POST" { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw AgentClientError.unexpected(status: 0, body: "not an HTTP response")
            }
            return (http.statusCode, data)
        } catch let error as AgentClientError {
            throw error
        } catch {
            throw .unreachable(url: base.absoluteString, reason: error.localizedDescription)
        }
    }

    /// A successful answer's body; an error status becomes `AgentClientError.api`.
    public func call(_ method: String, _ path: String, body: Data? = nil) async throws(AgentClientError) -> Data {
        let (status, data) = try await send(method, path, body: body)
        guard (200..<300).contains(status) else { throw Self.error(status: status, body: data) }
        return data
    }

    public func decode<T: Decodable>(_ type: T.Type, _ method: String, _ path: String, body: Data? = nil) async throws(AgentClientError) -> T {
        let data = try await call(method, path, body: body)
        do {
            return try VolleyJSON.decode(type, from: data)
        } catch {
            throw .unexpected(status: 200, body: String(decoding: data, as: UTF8.self))
        }
    }

    // MARK: - The API

    public func health() async throws(AgentClientError) { _ = try await call("GET", "/v1/health") }

    /// Submits a spec (raw JSON, so the agent judges exactly what the user wrote).
    public func submit(json: Data) async throws(AgentClientError) -> Job {
        try await decode(Job.self, "POST", "/v1/jobs", body: json)
    }

    /// Submits a spec and says whether the agent made a new job (201) or answered with the one it
    /// already had for the spec's id (200, an idempotent resubmission).
    public func submitting(json: Data) async throws(AgentClientError) -> (job: Job, created: Bool) {
        let (status, data) = try await send("POST", "/v1/jobs", body: json)
        guard (200..<300).contains(status) else { throw Self.error(status: status, body: data) }
        do {
            return (try VolleyJSON.decode(Job.self, from: data), status == 201)
        } catch {
            throw .unexpected(status: status, body: String(decoding: data, as: UTF8.self))
        }
    }

    public func job(_ id: String) async throws(AgentClientError) -> Job { try await decode(Job.self, "GET", "/v1/jobs/\(id)") }

    /// The stored result, as the exact bytes the agent keeps.
    public func resultBytes(_ id: String) async throws(AgentClientError) -> Data { try await call("GET", "/v1/jobs/\(id)/result") }

    public func cancel(_ id: String) async throws(AgentClientError) -> Job {
        try await decode(Job.self, "POST", "/v1/jobs/\(id)/cancel", body: Data())
    }

    public struct JobPage: Decodable, Sendable {
        public var jobs: [Job]
        public var next: JobID?
    }

    public func jobs(state: String? = nil, limit: Int = 50, after: String? = nil) async throws(AgentClientError) -> JobPage {
        var query = "?limit=\(limit)"
        if let state { query += "&state=\(state)" }
        if let after { query += "&after=\(after)" }
        return try await decode(JobPage.self, "GET", "/v1/jobs\(query)")
    }

    static func error(status: Int, body: Data) -> AgentClientError {
        struct Envelope: Decodable {
            struct Detail: Decodable {
                var code: String
                var message: String
                var field: String?
            }
            var error: Detail
        }
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: body) else {
            return .unexpected(status: status, body: String(decoding: body, as: UTF8.self))
        }
        return .api(status: status, code: envelope.error.code, message: envelope.error.message, field: envelope.error.field)
    }
}
