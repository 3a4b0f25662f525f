import ArgumentParser
import Foundation
import VolleyEngine
import VolleyModel

/// `volley validate SPEC.json`: the agent's own decoding and checks, offline, and what the spec will do.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job spec the way an agent would, and say what it will do.",
        discussion: """
            Exit status 0 when valid, 2 with the agent's field-naming message when not. A valid spec
            is summarised: rate (and whether it is the default or "max"), duration, datagrams, and
            the memory and sockets the agent will hold for it (its budget counts these). The agent's
            own allowlist and limits are not known here; the agent checks them when you submit.
            Example:
              volley validate examples/imix.json && volley submit examples/imix.json
            """
    )

    @Argument(help: "The job spec (JSON file, or - for stdin).") var spec: String

    func run() throws {
        let data = try readSpec(spec)
        let parsed: JobSpec
        do throws(SpecError) {
            parsed = try JobSpec.decode(json: data)
        } catch {
            throw fail("invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)", .invalidInput)
        }
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        print(Self.summary(parsed, rateGiven: object?["rate_pps"] != nil))
    }

    /// A few lines a person reads before running the spec.
    static func summary(_ spec: JobSpec, rateGiven: Bool) -> String {
        let address = spec.endpoint.map { " \(spec.mode.originates ? "to" : "on") \($0)" } ?? ""
        var lines = ["valid: \(spec.mode.rawValue)\(address)"]
        let seconds = spec.durationSeconds
        switch spec.mode {
        case .send, .echo:
            if spec.profile != nil {
                lines.append("  rate      profile of \(spec.profile!.count) steps, \(grouped(spec.plannedAveragePPS)) pps on average")
            } else if spec.ratePPS == JobSpec.unlimitedRate {
                lines.append("  rate      as fast as possible (\"max\")")
            } else {
                lines.append("  rate      \(grouped(spec.ratePPS)) pps\(rateGiven ? "" : " (the default; set rate_pps, or \"max\")")")
            }
            lines.append("  duration  \(seconds) s\(spec.mode == .echo ? " of sending, then up to \(spec.echoTimeoutMilliseconds) ms for replies" : "")")
            let planned = spec.ratePPS == JobSpec.unlimitedRate && spec.profile == nil
                ? nil : Int((Double(spec.plannedAveragePPS) * seconds).rounded())
            let capped = spec.maxPackets > 0 ? min(spec.maxPackets, planned ?? .max) : planned
            lines.append("  datagrams \(capped.map { grouped($0) } ?? "as many as the host can send") of \(spec.largestPayload) bytes\(spec.maxPackets > 0 ? " (max_packets \(grouped(spec.maxPackets)))" : "")")
        case .sink:
            lines.append("  duration  \(seconds) s\(spec.maxPackets > 0 ? ", or until \(grouped(spec.maxPackets)) datagrams arrive" : "")")
        case .reflect:
            lines.append("  duration  \(seconds) s\(spec.maxPackets > 0 ? ", or until \(grouped(spec.maxPackets)) datagrams arrive" : "")")
            lines.append("  replies   Volley requests from allowlisted sources only, "
                         + (spec.ratePPS == JobSpec.unlimitedRate ? "no cap of its own (the agent's --max-rate-pps holds)" : "at most \(grouped(spec.ratePPS)) pps"))
        }
        let footprint = JobFootprint(spec: spec)
        lines.append("  memory    \(mebibytes(footprint.memoryBytes)) of buffers and windows, \(footprint.sockets) socket\(footprint.sockets == 1 ? "" : "s")")
        return lines.joined(separator: "\n")
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

    static func mebibytes(_ bytes: Int) -> String {
        let value = Double(bytes) / 1_048_576
        return String(format: value < 10 ? "%.1f MiB" : "%.0f MiB", value)
    }
}
