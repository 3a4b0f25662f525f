import Foundation
import VolleyModel

/// Runs one job on many agents: preflight (health, capabilities, clock offsets), a coordinated
/// start, polling until every job ends, and the merged result. Safe to retry with the same fleet id:
/// each agent's job has a client id, so a repeated POST returns the job it already has.
public final class FleetRunner: Sendable {
    public struct Options: Sendable {
        public var lead: Double = 2
        public var skipMissing = false
        public var fleetID: String?
        public var token: String?
        public var log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        public init() {}
    }

    struct Agent: Sendable {
        var url: URL
        var client: AgentClient
        var outcome: FleetAgentOutcome
        var offsetMs = 0.0
        /// The job as last polled (for live progress).
        var live: Job?
    }

    public let plan: FleetPlan
    public let fleetID: String
    private let options: Options
    private let agents: Locked<[Agent]>

    public init(plan: FleetPlan, agents urls: [URL], options: Options) {
        self.plan = plan
        self.options = options
        fleetID = options.fleetID ?? "f" + String(UInt32.random(in: .min ... .max), radix: 16)
        agents = Locked(urls.map { Agent(url: $0, client: AgentClient(base: $0, token: options.token), outcome: FleetAgentOutcome(url: $0.absoluteString)) })
    }

    /// Checks every agent in parallel. Returns the agents that cannot take part, with why.
    public func preflight() async -> [FleetAgentOutcome] {
        let list = agents.withLock { $0 }
        let spec = plan.spec
        let checked = await withTaskGroup(of: (Int, Double?, String?).self) { group in
            for (index, agent) in list.enumerated() {
                group.addTask {
                    do {
                        try await agent.client.health()
                        let (offset, caps) = try await Self.clockOffset(agent.client)
                        return (index, offset, Self.missing(for: spec, caps))
                    } catch let error as AgentClientError {
                        return (index, nil, error.description)
                    } catch {
                        return (index, nil, "\(error)")
                    }
                }
            }
            var out: [(Int, Double?, String?)] = []
            for await item in group { out.append(item) }
            return out
        }
        var refused: [FleetAgentOutcome] = []
        agents.withLock { agents in
            for (index, offset, problem) in checked {
                agents[index].offsetMs = offset ?? 0
                agents[index].outcome.clockOffsetMs = offset.map { ($0 * 1000).rounded() / 1000 }
                if let problem { agents[index].outcome.error = problem }
                if let offset, abs(offset) > 10 {
                    options.log("warning: \(agents[index].url.absoluteString) clock is \(String(format: "%.1f", offset)) ms off ours (corrected in start_at)")
                }
            }
            refused = agents.filter { $0.outcome.error != nil }.map(\.outcome)
        }
        return refused
    }

    /// The agent's clock minus ours in ms: `GET /v1/agent` eight times, the round trip's midpoint of the
    /// fastest try (its `time` has millisecond resolution).
    static func clockOffset(_ client: AgentClient) async throws(AgentClientError) -> (Double, Capabilities) {
        var best: (rtt: Double, offset: Double)?
        var capabilities = Capabilities()
        for _ in 0..<8 {
            let before = Date()
            let info = try await client.decode(AgentInfo<Capabilities>.self, "GET", "/v1/agent")
            let after = Date()
            capabilities = info.capabilities
            let rtt = after.timeIntervalSince(before) * 1000
            let midpoint = (before.timeIntervalSince1970 + after.timeIntervalSince1970) / 2 * 1000
            let offset = Double(info.time.millisecondsSince1970) + 0.5 - midpoint  // +0.5: the clock was truncated to ms
            if best == nil || rtt < best!.rtt { best = (rtt, offset) }
        }
        return (best!.offset, capabilities)
    }

    struct Capabilities: Codable, Sendable {
        var udpGSO = false
        var udpGRO = false
        /// Absent from agents older than `cpu_latency_us`, which would refuse the field anyway.
        var cpuLatency: Bool?
        enum CodingKeys: String, CodingKey {
            case udpGSO = "udp_gso"
            case udpGRO = "udp_gro"
            case cpuLatency = "cpu_latency"
        }
    }

    /// Why an agent with these capabilities cannot run the spec, or nil when it can.
    static func missing(for spec: JobSpec, _ caps: Capabilities) -> String? {
        if spec.gso && !caps.udpGSO { return "the agent's kernel has no UDP GSO ('gso' is set)" }
        if spec.gro && !caps.udpGRO { return "the agent's kernel has no UDP GRO ('gro' is set)" }
        if spec.cpuLatencyMicroseconds != nil && caps.cpuLatency != true {
            return "the agent cannot hold a CPU latency request ('cpu_latency_us' is set; its GET /v1/agent says cpu_latency is \(caps.cpuLatency.map(String.init) ?? "absent"))"
        }
        return nil
    }

    /// Submits every agent's job with the same start (in each agent's clock). Agents that failed
    /// preflight are left out when `skipMissing`; otherwise the caller should not start.
    public func start() async -> Timestamp {
        let startAt = Timestamp(Date().addingTimeInterval(options.lead))
        let list = agents.withLock { $0 }
        let count = list.count
        await withTaskGroup(of: (Int, Submitted?, String?).self) { group in
            for (index, agent) in list.enumerated() where agent.outcome.error == nil {
                group.addTask { [plan, fleetID, options] in
                    let id = "\(fleetID)-\(index)"
                    let local = Timestamp(millisecondsSince1970: startAt.millisecondsSince1970 + Int64(agent.offsetMs.rounded()))
                    do {
                        let body = try plan.spec(for: index, of: count, id: id, startAt: local)
                        return (index, try await Self.submit(body, id: id, to: agent.client, log: options.log), nil)
                    } catch let error as FleetPlan.Failure {
                        return (index, nil, error.description)
                    } catch {
                        return (index, nil, "\(error)")
                    }
                }
            }
            for await (index, submitted, problem) in group {
                agents.withLock { a in
                    a[index].outcome.jobID = submitted?.job.id.rawValue
                    a[index].live = submitted?.job
                    if submitted?.adopted == true {
                        a[index].outcome.adopted = true
                        a[index].outcome.startedAt = submitted?.job.startedAt ?? submitted?.job.spec.startAt
                    }
                    if let problem { a[index].outcome.error = problem }
                }
            }
        }
        return startAt
    }

    /// One agent's job after submitting: new, or adopted from an earlier run with this fleet id.
    struct Submitted: Sendable {
        var job: Job
        var adopted: Bool
    }

    /// Submits one agent's spec. A lost answer is retried with the same body, which the client id
    /// makes harmless; a `200` (the same spec) or an `id_conflict` (another start time: a rerun of the
    /// command) means this fleet id already ran there, so that job is adopted rather than a second one
    /// started. A retry whose first answer was lost also gets `200`: its job is new, though reported as
    /// adopted, and its start time says which.
    static func submit(_ body: Data, id: String, to client: AgentClient, log: (String) -> Void) async throws(AgentClientError) -> Submitted {
        var attempt = 0
        while true {
            do {
                let (job, created) = try await client.submitting(json: body)
                return Submitted(job: job, adopted: !created)
            } catch .api(409, "id_conflict", _, _) {
                log("note: \(client.base.absoluteString) already has job \(id) from this fleet id; adopting it")
                return Submitted(job: try await client.job(id), adopted: true)
            } catch {
                attempt += 1
                let transient: Bool
                switch error {
                case .unreachable: transient = true
                case .api(let status, _, _, _), .unexpected(let status, _): transient = status >= 500
                }
                guard transient && attempt < 3 else { throw error }
                try? await Task.sleep(nanoseconds: 200_000_000)
            }
        }
    }

    /// Polls until every submitted job ends (or `deadline`), then fetches the results.
    public func collect(startAt: Timestamp, deadline: Date) async -> FleetResult {
        let list = agents.withLock { $0 }
        let results = await withTaskGroup(of: (Int, JobResult?, String?, String?).self) { group in
            for (index, agent) in list.enumerated() {
                guard let id = agent.outcome.jobID, agent.outcome.error == nil else { continue }
                group.addTask {
                    var lastProblem = "no answer before the deadline"
                    while Date() < deadline {
                        do {
                            let job = try await agent.client.job(id)
                            self.agents.withLock { $0[index].live = job }
                            if job.state.isFinished {
                                let data = try await agent.client.resultBytes(id)
                                let result = try? VolleyJSON.decode(JobResult.self, from: data)
                                return (index, result, job.state.rawValue, result == nil ? "unreadable result" : nil)
                            }
                        } catch let error as AgentClientError {
                            lastProblem = error.description
                        } catch {
                            lastProblem = "\(error)"
                        }
                        try? await Task.sleep(nanoseconds: 300_000_000)
                    }
                    return (index, nil, nil, lastProblem)
                }
            }
            var out: [(Int, JobResult?, String?, String?)] = []
            for await item in group { out.append(item) }
            return out
        }
        var finished: [(JobResult, Double)] = []
        agents.withLock { a in
            for (index, result, state, problem) in results {
                a[index].outcome.state = state
                a[index].outcome.startDelayMs = result?.startDelayMs
                a[index].outcome.timeline = result?.timeline
                a[index].outcome.sent = result?.sent.packets
                a[index].outcome.received = result.map { $0.echo?.received ?? $0.received.packets }
                if let started = result?.startedAt { a[index].outcome.startedAt = started }
                if let problem { a[index].outcome.error = problem }
                if let result, result.state != .completed {
                    a[index].outcome.error = result.error?.message ?? "the job ended \(result.state.rawValue)"
                }
                if let result { finished.append((result, a[index].offsetMs)) }
            }
        }
        let outcomes = agents.withLock { $0.map(\.outcome) }
        var fleet = FleetResult(fleetID: fleetID, spec: plan.spec, startAt: startAt, agents: outcomes)
        // True start of each agent = its reported start minus its clock offset.
        let starts = finished.map { Double($0.0.startedAt.millisecondsSince1970) - $0.1 }
        if let low = starts.min(), let high = starts.max() { fleet.startSkewMs = ((high - low) * 1000).rounded() / 1000 }
        if let id = JobID(fleetID) { fleet.merged = try? ResultMerger.merge(finished.map(\.0), fleetID: id, spec: plan.spec) }
        return fleet
    }

    /// Every agent as last seen: its outcome so far and its job as last polled, in the order given.
    public func snapshot() -> [(outcome: FleetAgentOutcome, job: Job?)] {
        agents.withLock { $0.map { ($0.outcome, $0.live) } }
    }

    /// Cancels every submitted job (Ctrl-C, SIGTERM).
    public func cancelAll() async {
        let list = agents.withLock { $0 }
        await withTaskGroup(of: Void.self) { group in
            for agent in list {
                guard let id = agent.outcome.jobID else { continue }
                group.addTask { _ = try? await agent.client.cancel(id) }
            }
        }
    }
}
