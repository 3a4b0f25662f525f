import Foundation
import Logging
import Testing
import VolleyAgent
import VolleyModel
import VolleyTestSupport

/// The agent's per-request log line: written at `info` with its method, path, status and time; at
/// `warning` (what `make bench` and most services run) not written. That it is not timed then either
/// cannot be seen from outside, so only the missing line is tested.
@Suite struct RequestLogTests {
    @Test func infoLevelLogsEachRequestWithItsTime() async throws {
        let lines = try await requestLines(level: .info)
        let line = try #require(lines.first { $0.metadata["http.path"] == "/v1/health" })
        #expect(line.metadata["http.method"] == "GET")
        #expect(line.metadata["http.status"] == "200")
        let ms = try #require(line.metadata["http.ms"].flatMap(Double.init))
        #expect(ms >= 0 && ms < 60_000)
        let missing = try #require(lines.first { $0.metadata["http.path"] == "/v1/jobs/no-such-job" })
        #expect(missing.metadata["http.status"] == "404")
    }

    @Test func warningLevelWritesNoRequestLine() async throws {
        let lines = try await requestLines(level: .warning)
        #expect(lines.isEmpty)
    }

    /// The "request" lines an agent logging at `level` writes for a health check and a missing job.
    private func requestLines(level: Logger.Level) async throws -> [CapturedLine] {
        let sink = CapturedLines()
        var logger = Logger(label: "volley-test") { _ in CapturingHandler(sink: sink) }
        logger.logLevel = level
        let data = AgentProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: data) }
        let agent = try Agent(config: AgentConfig(host: "127.0.0.1", port: 0, dataDirectory: data, allowlist: CIDR.loopback),
                              logger: logger)
        defer { agent.shutdown() }
        let client = HTTPClient(port: agent.port, token: nil)
        #expect(try await client.get("/v1/health").status == 200)
        #expect(try await client.get("/v1/jobs/no-such-job").status == 404)
        // The line is written before the answer is queued, so both are in by now.
        return sink.lines.withLock { $0 }.filter { $0.message == "request" }
    }
}

private struct CapturedLine: Sendable {
    var message: String
    var metadata: [String: String]
}

private final class CapturedLines: Sendable {
    let lines = Locked<[CapturedLine]>([])
}

private struct CapturingHandler: LogHandler {
    let sink: CapturedLines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let fields = (metadata ?? [:]).mapValues { "\($0)" }
        sink.lines.withLock { $0.append(CapturedLine(message: "\(message)", metadata: fields)) }
    }
}
