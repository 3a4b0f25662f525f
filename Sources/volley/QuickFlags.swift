import ArgumentParser
import Foundation
import VolleyModel

/// The common runs without a JSON file: `volley run send --target H:P --rate 100k --size 64 --time 5s`.
///
/// One rule for rates: `--rate` is datagrams per second and `--bitrate` payload bits per second
/// (`rate_bps` in a spec), each a number with an optional SI suffix k, M or G (powers of 1000):
/// `--rate 100k` is 100,000 pps, `--bitrate 50M` is 50,000,000 bit/s. The flags become a spec that
/// goes through the agent's own decoding and checks, so errors name the flag.
/// `--protocol stamp` makes echo a STAMP Session-Sender and reflect a Session-Reflector.
struct QuickFlags: ParsableArguments {
    @Option(help: ArgumentHelp("Where send and echo jobs send to.", valueName: "HOST:PORT")) var target: String?
    @Option(help: ArgumentHelp("Where sink and reflect jobs listen.", valueName: "HOST:PORT")) var listen: String?
    @Option(help: ArgumentHelp("Datagrams per second: 5000, 100k, 2M, or max (default 1k).", valueName: "PPS"))
    var rate: String?
    @Option(help: ArgumentHelp("Payload bits per second instead of --rate: 50M, 1G.", valueName: "BIT/S"))
    var bitrate: String?
    @Option(help: ArgumentHelp("Payload bytes per datagram (default 64).", valueName: "BYTES")) var size: Int?
    @Option(help: ArgumentHelp("How long: 5s, 500ms, 2m (default 10s).", valueName: "DURATION")) var time: String?
    @Option(help: "Sending or receiving threads (default 1).") var threads: Int?
    @Option(help: ArgumentHelp("Fail (exit 4) when more than this share is lost: 0.001 is 0.1 %.", valueName: "RATIO"))
    var maxLoss: Double?
    @Option(help: ArgumentHelp("Fail (exit 4) when the RTT p99 is above this (echo).", valueName: "µs")) var maxRttP99: Int?
    @Option(name: .customLong("protocol"),
            help: ArgumentHelp("Echo and reflect: volley (default) or stamp (RFC 8762, port 862 when none is given).",
                               valueName: "PROTOCOL"))
    var echoProtocol: EchoProtocol?
    @Flag(help: "STAMP: the reflector keeps per-session sequence numbers (echo: split loss by direction; reflect: be one).")
    var stateful = false
    @Option(help: ArgumentHelp("Echo and reflect: poll this long before each blocking wait; paced send: spin the last this long of each wait (a CPU for steadier timing).",
                               valueName: "µs"))
    var busyPollUs: Int?
    @Option(help: ArgumentHelp("Hold a CPU latency request (PM QoS) while the job runs: 0 keeps idle CPUs polling instead of halting, for wake-ups across CPUs without the (v)CPU's sleep. Host-wide; needs root.",
                               valueName: "µs"))
    var cpuLatencyUs: Int?

    /// Spec fields and the flag each comes from, to name the flag in errors.
    static let flagOf = ["target": "--target", "listen": "--listen", "rate_pps": "--rate", "rate_bps": "--bitrate",
                         "payload_bytes": "--size", "duration_s": "--time", "threads": "--threads",
                         "thresholds.loss_ratio": "--max-loss", "thresholds.rtt_us.p99": "--max-rtt-p99",
                         "protocol": "--protocol", "stateful": "--stateful", "busy_poll_us": "--busy-poll-us",
                         "cpu_latency_us": "--cpu-latency-us"]

    /// The spec's JSON object for `mode` (checked only by `spec(mode:)`).
    func object(mode: JobSpec.Mode, thresholds withThresholds: Bool = true) throws -> [String: Any] {
        var o: [String: Any] = ["mode": mode.rawValue]
        if mode.originates {
            guard let target else { throw ValidationError("volley run \(mode.rawValue) needs --target HOST:PORT") }
            if listen != nil { throw ValidationError("--listen is for sink and reflect; \(mode.rawValue) uses --target") }
            o["target"] = target
        } else {
            guard let listen else { throw ValidationError("volley run \(mode.rawValue) needs --listen HOST:PORT") }
            if target != nil { throw ValidationError("--target is for send and echo; \(mode.rawValue) uses --listen") }
            o["listen"] = listen
        }
        if rate != nil && bitrate != nil { throw ValidationError("give --rate (datagrams/s) or --bitrate (bit/s), not both") }
        if let rate {
            if rate == "max" {
                o["rate_pps"] = "max"
            } else {
                guard let pps = HumanUnits.parseSI(rate) else {
                    throw ValidationError("--rate '\(rate)' is not a rate: give datagrams per second as 5000, 100k, 2.5M or 1G, or max")
                }
                o["rate_pps"] = pps
            }
        }
        if let bitrate {
            guard let bps = HumanUnits.parseSI(bitrate.hasSuffix("bps") ? String(bitrate.dropLast(3)) : bitrate) else {
                throw ValidationError("--bitrate '\(bitrate)' is not a bit rate: give bits per second as 800k, 50M or 1G")
            }
            o["rate_bps"] = bps
        }
        if let size { o["payload_bytes"] = size }
        if let time {
            guard let seconds = HumanUnits.parseDuration(time) else {
                throw ValidationError("--time '\(time)' is not a duration: give 5s, 500ms, 2m or a number of seconds")
            }
            o["duration_s"] = seconds
        }
        if let threads { o["threads"] = threads }
        if let echoProtocol {
            guard mode == .echo || mode == .reflect else { throw ValidationError("--protocol is for echo and reflect, not \(mode.rawValue)") }
            o["protocol"] = echoProtocol.rawValue
        }
        // The spec's own check names --stateful when STAMP is missing (see flagOf).
        if stateful { o["stateful"] = true }
        if let busyPollUs { o["busy_poll_us"] = busyPollUs }
        if let cpuLatencyUs { o["cpu_latency_us"] = cpuLatencyUs }
        var thresholds: [String: Any] = [:]
        if let maxLoss { thresholds["loss_ratio"] = ["max": maxLoss] }
        if let maxRttP99 { thresholds["rtt_us.p99"] = ["max": maxRttP99] }
        if withThresholds && !thresholds.isEmpty { o["thresholds"] = thresholds }
        return o
    }

    /// The validated spec; a refusal exits 2 naming the flag.
    func spec(mode: JobSpec.Mode, thresholds: Bool = true, extra: [String: Any] = [:]) throws -> JobSpec {
        try Self.decode(try object(mode: mode, thresholds: thresholds).merging(extra) { _, new in new })
    }

    /// Decodes a spec object the agent's way; a refusal exits 2 naming the flag.
    static func decode(_ o: [String: Any]) throws -> JobSpec {
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
        do throws(SpecError) {
            return try JobSpec.decode(json: data)
        } catch {
            let flag = error.field.map { flagOf[$0] ?? "'\($0)'" }
            throw fail("invalid \(flag ?? "flags"): \(error.message)", .invalidInput)
        }
    }

    /// True when any quick flag was given (they make no sense next to a spec file).
    var anyGiven: Bool {
        target != nil || listen != nil || rate != nil || bitrate != nil || size != nil || time != nil || threads != nil
            || maxLoss != nil || maxRttP99 != nil || echoProtocol != nil || stateful || busyPollUs != nil || cpuLatencyUs != nil
    }
}

extension EchoProtocol: ExpressibleByArgument {}
