import ArgumentParser
import Foundation
import VolleyEngine
import VolleyFleet
import VolleyModel

/// `volley validate SPEC.json [--agent URL]`: the agent's own decoding and checks, offline or by the
/// agent itself (`POST /v1/validate`), and what the spec will do.
struct Validate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job spec the way an agent would, and say what it will do.",
        discussion: """
            Offline (no --agent) the spec is decoded and checked as an agent does, but the agent's
            allowlist, limits and budget are not known; with --agent URL that agent checks the spec
            against them without running it, and says whether the job would start now or wait.
            A valid spec is summarised: rate (in pps and payload bit/s; a spec without rate_pps or
            rate_bps sends the default 1,000 pps), duration (default 10 s), datagrams, bytes, and the
            memory and sockets the agent holds for it.
            Exit status: 0 valid, 2 refused (the spec, or the agent's allowlist or limits), 3 token
            refused, 1 agent unreachable or busy (queue or budget full).
            Examples:
              volley validate examples/imix.json && volley submit examples/imix.json
              volley validate examples/send.json --agent http://agent-a:8080 --token-file token
            """
    )

    @Argument(help: "The job spec (JSON file, or - for stdin).") var spec: String
    @Option(help: "Ask this agent (http:// or https:// URL) to check the spec against its allowlist, limits and budget.")
    var agent: String?
    @Option(help: "File holding the agent's API token (default: $VOLLEY_TOKEN).") var tokenFile: String?

    func run() async throws {
        let data = try readSpec(spec)
        if agent != nil { return try await askAgent(data) }
        let parsed: JobSpec
        do throws(SpecError) {
            parsed = try JobSpec.decode(json: data)
        } catch {
            throw fail("invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)", .invalidInput)
        }
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let footprint = JobFootprint(spec: parsed)
        let preview = JobPreview(spec: parsed, rateIsDefault: !JobPreview.specGivesRate(object),
                                 memoryBytes: footprint.memoryBytes, sockets: footprint.sockets)
        print(Self.summary(preview, agent: nil))
    }

    /// `POST /v1/validate` on the agent; its refusal is printed as a submission's would be.
    private func askAgent(_ data: Data) async throws {
        var options = ClientOptions()
        options.agent = agent
        options.tokenFile = tokenFile
        let client = try options.client()
        let preview: JobPreview
        do {
            preview = try await client.decode(JobPreview.self, "POST", "/v1/validate", body: data)
        } catch {
            throw fail(error.description, ExitStatus.of(error))
        }
        print(Self.summary(preview, agent: client.base.absoluteString))
    }

    /// A few lines a person reads before running the spec.
    static func summary(_ p: JobPreview, agent: String?) -> String {
        let spec = p.spec
        let address = p.endpoint.map { " \(spec.mode.originates ? "to" : "on") \($0)" } ?? ""
        var lines = ["valid: \(spec.mode.rawValue)\(address)"]
        let seconds = number(p.durationSeconds)
        switch spec.mode {
        case .send, .echo:
            let bits = p.rateBPS.map { ", \(bitRate($0))" } ?? ""
            if let steps = spec.profile?.count {
                lines.append("  rate      profile of \(steps) steps, \(grouped(p.ratePPS ?? 0)) pps\(bits) on average")
            } else if let pps = p.ratePPS {
                lines.append("  rate      \(grouped(pps)) pps\(bits)"
                             + (p.rateIsDefault ? " (the default; set rate_pps, rate_bps, or \"max\")" : ""))
            } else {
                lines.append("  rate      as fast as possible (\"max\")")
            }
            lines.append("  duration  \(seconds) s\(spec.mode == .echo ? " of sending, then up to \(spec.echoTimeoutMilliseconds) ms for replies" : "")")
            if spec.echoProtocol == .stamp {
                lines.append("  protocol  STAMP (RFC 8762) Session-Sender, \(spec.timestampFormat.rawValue) timestamps, "
                             + (spec.stateful ? "stateful reflector: loss split by direction" : "reflector not said stateful: round-trip loss only"))
            }
            let size = spec.sizes != nil ? "\(String(format: "%.1f", spec.meanPayloadBytes)) bytes on average" : "\(grouped(spec.largestPayload)) bytes"
            let total = p.bytes.map { " (\(byteCount($0)) of payload)" } ?? ""
            lines.append("  datagrams \(p.datagrams.map { grouped($0) } ?? "as many as the host can send") of \(size)\(total)"
                         + (spec.maxPackets > 0 ? ", max_packets \(grouped(spec.maxPackets))" : ""))
        case .sink:
            lines.append("  duration  \(seconds) s\(spec.maxPackets > 0 ? ", or until \(grouped(spec.maxPackets)) datagrams arrive" : "")")
        case .reflect:
            lines.append("  duration  \(seconds) s\(spec.maxPackets > 0 ? ", or until \(grouped(spec.maxPackets)) datagrams arrive" : "")")
            let requests = spec.echoProtocol == .stamp
                ? "STAMP test packets (RFC 8762, \(spec.stateful ? "stateful" : "stateless"), \(spec.timestampFormat.rawValue) timestamps)"
                : "Volley requests"
            lines.append("  replies   \(requests) from allowlisted sources only, "
                         + (spec.ratePPS == JobSpec.unlimitedRate ? "no cap of its own (the agent's --max-rate-pps holds)" : "at most \(grouped(spec.ratePPS)) pps"))
        }
        lines.append("  memory    \(mebibytes(p.memoryBytes)) of buffers and windows, \(p.sockets) socket\(p.sockets == 1 ? "" : "s")")
        guard let agent else {
            lines.append("  agent     not asked: its allowlist, limits and budget are not checked (use --agent URL)")
            return lines.joined(separator: "\n")
        }
        let when: String = switch p.admission {
        case .startsNow: "it would start now"
        case .queued: "it would be queued (every job slot is busy)"
        case .scheduled: "it would be scheduled for \(spec.startAt.map { "\($0)" } ?? "its start_at")"
        case .exists: "job \(p.jobID.map { "\($0)" } ?? "?") already has this spec: submitting returns it"
        case nil: "nothing said about when it would start"
        }
        lines.append("  agent     \(agent) accepts it (allowlist, limits, budget): \(when)")
        return lines.joined(separator: "\n")
    }

    /// Whole numbers without a fraction: `5 s`, `0.3 s`.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (value < 0 ? "-" : "") + out
    }

    /// Bits per second with an SI prefix and three significant digits: `512 kbit/s`, `1.02 Gbit/s`.
    static func bitRate(_ bps: Int) -> String { si(Double(bps), unit: "bit/s") }

    /// Bytes with an SI prefix: `320 kB`, `1.5 MB`.
    static func byteCount(_ bytes: Int) -> String { si(Double(bytes), unit: "B") }

    static func si(_ value: Double, unit: String) -> String {
        let prefixes = ["", "k", "M", "G", "T", "P"]
        var scaled = value
        var index = 0
        while abs(scaled) >= 999.5 && index < prefixes.count - 1 {
            scaled /= 1000
            index += 1
        }
        let text = index == 0 || abs(scaled) >= 99.5 ? String(format: "%.0f", scaled)
            : String(format: abs(scaled) >= 9.995 ? "%.1f" : "%.2f", scaled)
        return "\(text) \(prefixes[index])\(unit)"
    }

    static func mebibytes(_ bytes: Int) -> String {
        // Below 1 MiB in KiB: a small job's "0.0 MiB" would read as nothing at all.
        if bytes < 1_048_576 { return "\(max(1, (bytes + 1023) / 1024)) KiB" }
        let value = Double(bytes) / 1_048_576
        return String(format: value < 10 ? "%.1f MiB" : "%.0f MiB", value)
    }
}
