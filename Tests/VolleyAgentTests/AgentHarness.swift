import Foundation
import Logging
import VolleyAgent
import VolleyModel
import VolleyTestSupport

/// An in-process agent on a free port with its own data folder.
struct AgentHarness {
    let agent: Agent
    let client: HTTPClient
    let dataDirectory: URL

    init(dataDirectory: URL = AgentProcess.temporaryDirectory(), allow: [CIDR] = [],
         configure: (inout AgentConfig) -> Void = { _ in }) throws {
        self.dataDirectory = dataDirectory
        var logger = Logger(label: "volley-test")
        logger.logLevel = .warning
        var config = AgentConfig(host: "127.0.0.1", port: 0, dataDirectory: dataDirectory, allowlist: CIDR.loopback + allow)
        configure(&config)
        agent = try Agent(config: config, logger: logger)
        client = HTTPClient(port: agent.port, token: config.token)
    }

    /// Polls until the job is in `state` (or `timeout` passes); returns its JSON.
    func waitFor(_ id: String, state: String, timeout: Double = 10) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let job = try await client.get("/v1/jobs/\(id)").json
            if job["state"] as? String == state || Date() > deadline { return job }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    func resultFile(_ id: String) -> URL {
        dataDirectory.appendingPathComponent("results/\(id).json")
    }

    /// POSTs a spec and returns the reply (status checked by the caller).
    func submit(_ json: String) async throws -> HTTPReply {
        try await client.post("/v1/jobs", json: json)
    }

    /// POSTs a spec that must be accepted and returns its id.
    func start(_ json: String) async throws -> String {
        let reply = try await submit(json)
        guard reply.status == 201, let id = reply.json["id"] as? String else {
            throw HarnessError("job refused: \(reply.status) \(String(decoding: reply.body, as: UTF8.self))")
        }
        return id
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
