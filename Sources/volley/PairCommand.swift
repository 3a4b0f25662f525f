import ArgumentParser
import Foundation
import Glibc
import VolleyModel

/// `volley pair`: a receiver and a sender in this process as one test with one result — sink+send
/// (loss by the sender's count against the sink's, jitter) or reflect+echo (RTT) — on loopback unless
/// told otherwise. The receiver starts first and stops last: a sink once every datagram sent was
/// counted or `--grace` after the sender ended, a reflector when the echo job has its last reply.
struct Pair: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a receiver and a sender here as one test: loss, jitter, RTT.",
        discussion: """
            --mode send (the default) runs a sink and a sender: the result has the loss (datagrams
            sent that the sink did not count) and the sink's RFC 3550 jitter. --mode echo runs a
            reflector and an echo job: loss and round-trip times (with --protocol stamp, a STAMP
            reflector and sender: also turnaround, one-way delays and loss by direction with
            --stateful). The receiver listens on
            127.0.0.1 on a free port unless --listen says where.
            Examples:
              volley pair --rate 50k --size 64 --time 5s
              volley pair --mode echo --rate 10k --time 10s --max-rtt-p99 500
              volley pair --mode echo --protocol stamp --stateful --rate 100k --time 5s
              volley pair --bitrate 100M --size 1200 --time 5s --max-loss 0.001 --json > pair.json
            \(ExitStatus.table)
            """
    )

    enum Mode: String, ExpressibleByArgument, CaseIterable { case send, echo }

    @Option(help: "send (sink + send) or echo (reflect + echo).") var mode: Mode = .send
    @OptionGroup(title: "Quick flags") var flags: QuickFlags
    @OptionGroup(title: "Output") var output: OutputOptions
    @Option(help: ArgumentHelp("How long the sink may wait for stragglers after the sender ended.", valueName: "DURATION"))
    var grace = "1s"
    @Option(help: ArgumentHelp("Also allow this address block besides loopback (repeatable).", valueName: "CIDR"))
    var allow: [String] = []

    func run() throws {
        if flags.target != nil { throw ValidationError("volley pair sends to its own receiver: give --listen HOST:PORT, not --target") }
        guard let graceSeconds = HumanUnits.parseDuration(grace) else {
            throw ValidationError("--grace '\(grace)' is not a duration: give 1s, 500ms or 2m")
        }
        var address = flags.listen ?? "127.0.0.1:0"
        if address.hasSuffix(":0") {
            guard let port = unusedLoopbackUDPPort() else { throw fail("no free UDP port on 127.0.0.1") }
            address = String(address.dropLast(2)) + ":\(port)"
        }
        var senderFlags = flags
        senderFlags.target = address
        senderFlags.listen = nil
        let sender = try senderFlags.spec(mode: mode == .send ? .send : .echo, thresholds: mode == .echo)
        var receiverObject: [String: Any] = ["mode": mode == .send ? "sink" : "reflect", "listen": address,
                                             // Longer than the sender by far: the pair stops it, not its clock.
                                             "duration_s": (sender.totalSeconds + graceSeconds + 5).rounded(.up)]
        if let threads = flags.threads { receiverObject["threads"] = threads }
        // The reflector speaks what the echo job speaks; a sink has no protocol to choose.
        if mode == .echo, let p = flags.echoProtocol { receiverObject["protocol"] = p.rawValue }
        if mode == .echo, flags.stateful { receiverObject["stateful"] = true }
        let receiver = try QuickFlags.decode(receiverObject)
        let (results, interrupted) = try Run.runLocally(
            [receiver, sender], allowlist: try Run.allowlist(allow), progress: output.progressMode
        ) { received, sent, since in
            // A reflector has nothing left to do once the echo job ended (its replies are in or late).
            mode == .echo || received.packetsReceived >= sent.packetsSent || since >= graceSeconds
        }
        var receiverResult = results[0]
        // The pair stopped its receiver on purpose (all counted, or the grace ran out): that is how
        // a receiver of a pair completes, not a cancellation.
        if !interrupted && receiverResult.state == .cancelled { receiverResult.state = .completed }
        let pair = PairResult(sender: results[1], receiver: receiverResult, maxLoss: mode == .send ? flags.maxLoss : nil)
        output.printSummary(PairSummary.text(pair, interval: output.interval), stdoutTaken: output.jsonOnStdout)
        if output.jsonOnStdout { printJSON(try VolleyJSON.encode(pair, pretty: true)) }
        let status: ExitStatus
        if interrupted {
            status = .interrupted
        } else if pair.sender.state != .completed || pair.receiver.state != .completed {
            status = .failed
        } else {
            status = pair.verdict.passed ? .passed : .thresholdsFailed
        }
        if status != .passed { throw status.exitCode }
    }
}

/// A UDP port on 127.0.0.1 that nothing uses at the moment (bound to port 0, read back, released).
func unusedLoopbackUDPPort() -> UInt16? {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    return bound ? UInt16(bigEndian: address.sin_port) : nil
}
