/// The stored outcome of a finished job: `<data-dir>/results/<id>.json`. Counts are exact.
public struct JobResult: Codable, Equatable, Sendable {
    /// Who ran the job.
    public struct Agent: Codable, Equatable, Sendable {
        public var hostname: String
        public var version: String
        public init(hostname: String, version: String) {
            self.hostname = hostname
            self.version = version
        }
    }

    /// Asked-for and achieved rates over the job's elapsed time.
    public struct Rate: Codable, Equatable, Sendable {
        /// `rate_pps` from the spec (0: as fast as possible).
        public var targetPPS: Int
        /// Datagrams per second, sent for `send` jobs and received for `sink` jobs.
        public var achievedPPS: Double
        /// Payload bits per second of those datagrams.
        public var achievedBPS: Double

        public init(targetPPS: Int, achievedPPS: Double, achievedBPS: Double) {
            self.targetPPS = targetPPS
            self.achievedPPS = achievedPPS
            self.achievedBPS = achievedBPS
        }

        enum CodingKeys: String, CodingKey {
            case targetPPS = "target_pps"
            case achievedPPS = "achieved_pps"
            case achievedBPS = "achieved_bps"
        }
    }

    /// What the job's worker threads used, summed over them, from each thread's start to its end
    /// (getrusage RUSAGE_THREAD): the CPU the traffic cost on this host, and how often the threads
    /// blocked (voluntary switches: sleeps between paced batches, blocking receives) or lost the CPU
    /// to another task (involuntary switches).
    public struct WorkerUsage: Codable, Equatable, Sendable {
        public var cpuSeconds: Double
        public var voluntarySwitches: UInt64
        public var involuntarySwitches: UInt64

        public init(cpuSeconds: Double, voluntarySwitches: UInt64, involuntarySwitches: UInt64) {
            self.cpuSeconds = cpuSeconds
            self.voluntarySwitches = voluntarySwitches
            self.involuntarySwitches = involuntarySwitches
        }

        enum CodingKeys: String, CodingKey {
            case cpuSeconds = "cpu_s"
            case voluntarySwitches = "voluntary_switches"
            case involuntarySwitches = "involuntary_switches"
        }
    }

    /// Which system calls moved the datagrams (`sendmmsg`/`recvmmsg`, or the `sendmsg`/`recvmsg` loop).
    public struct IOPath: Codable, Equatable, Sendable {
        public var send: String
        public var receive: String
        /// The socket buffer sizes the kernel granted, read back with getsockopt (it doubles what
        /// was asked for its own bookkeeping and caps it at `wmem_max`/`rmem_max` without
        /// CAP_NET_ADMIN); absent for a direction the job does not use.
        public var sendBufferBytes: Int?
        public var receiveBufferBytes: Int?
        /// The scheduler slice the job's workers asked for and the kernel granted, in µs (paced
        /// senders, echo and reflect ask for a short one; Linux ≥ 6.12); absent otherwise.
        public var schedulerSliceMicroseconds: Int?
        /// `cpu_latency_us`: the host's CPU latency limit (PM QoS) read back once the job's request
        /// was in place, in µs: the smallest request of anyone, so at most the job's. Absent when
        /// the job asked for none, or the kernel did not take it.
        public var cpuLatencyMicroseconds: Int?
        /// Echo jobs with `warm_up`: the loopback warm-ups done, one before each request (or batch)
        /// that followed a sleep; these datagrams go to a socket of the worker's own, never to the
        /// target, and are not in `sent`, `received` or the system call counts. Absent otherwise.
        public var warmUps: UInt64?
        /// Echo jobs with `warm_up`: why a worker could not warm up (the first failed call); its
        /// round trips were measured without. Absent when every worker could.
        public var warmUpError: String?
        /// The worker threads' CPU time and context switches (`WorkerUsage`); absent in results
        /// stored before it was reported, or when the kernel would not say.
        public var workers: WorkerUsage?

        public init(send: String, receive: String, sendBufferBytes: Int? = nil, receiveBufferBytes: Int? = nil,
                    schedulerSliceMicroseconds: Int? = nil, cpuLatencyMicroseconds: Int? = nil, warmUps: UInt64? = nil, warmUpError: String? = nil,
                    workers: WorkerUsage? = nil) {
            self.send = send
            self.receive = receive
            self.sendBufferBytes = sendBufferBytes
            self.receiveBufferBytes = receiveBufferBytes
            self.schedulerSliceMicroseconds = schedulerSliceMicroseconds
            self.cpuLatencyMicroseconds = cpuLatencyMicroseconds
            self.warmUps = warmUps
            self.warmUpError = warmUpError
            self.workers = workers
        }

        enum CodingKeys: String, CodingKey {
            case send, receive
            case sendBufferBytes = "send_buffer_bytes"
            case receiveBufferBytes = "receive_buffer_bytes"
            case schedulerSliceMicroseconds = "scheduler_slice_us"
            case cpuLatencyMicroseconds = "cpu_latency_us"
            case warmUps = "warm_ups"
            case warmUpError = "warm_up_error"
            case workers
        }
    }

    public var id: JobID
    public var state: JobState
    public var spec: JobSpec
    public var agent: Agent
    public var startedAt: Timestamp
    public var finishedAt: Timestamp
    public var elapsedSeconds: Double
    public var sent: DirectionTotals
    public var received: DirectionTotals
    public var rate: Rate
    public var io: IOPath
    /// Echo jobs: reply accounting and round-trip times.
    public var echo: EchoTotals?
    public var latency: LatencySummary?
    /// Echo and sink jobs with `"timestamps": "kernel"`: per datagram, the time from the kernel's
    /// receive timestamp to the moment the job read the datagram — the part of the latency spent
    /// above the kernel (wake-up, scheduling, batching), in µs.
    public var appOverhead: LatencySummary?
    /// Sinks: one-way sequence statistics of stamped senders.
    public var sequence: SequenceReport?
    /// Reflect jobs: what was not answered, and why.
    public var reflect: ReflectTotals?
    /// STAMP echo jobs: turnaround, one-way delays and loss by direction.
    public var stamp: StampEchoReport?
    /// One entry per second of the job.
    public var timeline: [TimelineEntry]
    /// The tag in this job's stamps (what a sink's `sequence.senders[].job_tag` shows).
    public var jobTag: UInt32?
    /// How late the traffic started after `start_at` (or after submission), in ms.
    public var startDelayMs: Double?
    public var error: JobError?
    /// Whether the job passed its thresholds, with default warnings; absent for jobs that never ran.
    public var verdict: Verdict?

    public init(id: JobID, state: JobState, spec: JobSpec, agent: Agent, startedAt: Timestamp, finishedAt: Timestamp,
                elapsedSeconds: Double, sent: DirectionTotals, received: DirectionTotals, rate: Rate, io: IOPath,
                echo: EchoTotals? = nil, latency: LatencySummary? = nil, sequence: SequenceReport? = nil,
                timeline: [TimelineEntry] = [], error: JobError? = nil) {
        self.id = id
        self.state = state
        self.spec = spec
        self.agent = agent
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.elapsedSeconds = elapsedSeconds
        self.sent = sent
        self.received = received
        self.rate = rate
        self.io = io
        self.echo = echo
        self.latency = latency
        self.sequence = sequence
        self.timeline = timeline
        self.error = error
    }

    enum CodingKeys: String, CodingKey {
        case id, state, spec, agent, sent, received, rate, io, error, echo, sequence, reflect, timeline, verdict, stamp
        case latency = "latency_us"
        case appOverhead = "app_overhead_us"
        case jobTag = "job_tag"
        case startDelayMs = "start_delay_ms"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case elapsedSeconds = "elapsed_s"
    }

    /// Reads results of every version: fields added later (`timeline`, …) default when absent.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(JobID.self, forKey: .id)
        state = try c.decode(JobState.self, forKey: .state)
        spec = try c.decode(JobSpec.self, forKey: .spec)
        agent = try c.decode(Agent.self, forKey: .agent)
        startedAt = try c.decode(Timestamp.self, forKey: .startedAt)
        finishedAt = try c.decode(Timestamp.self, forKey: .finishedAt)
        elapsedSeconds = try c.decode(Double.self, forKey: .elapsedSeconds)
        sent = try c.decode(DirectionTotals.self, forKey: .sent)
        received = try c.decode(DirectionTotals.self, forKey: .received)
        rate = try c.decode(Rate.self, forKey: .rate)
        io = try c.decode(IOPath.self, forKey: .io)
        echo = try c.decodeIfPresent(EchoTotals.self, forKey: .echo)
        latency = try c.decodeIfPresent(LatencySummary.self, forKey: .latency)
        appOverhead = try c.decodeIfPresent(LatencySummary.self, forKey: .appOverhead)
        sequence = try c.decodeIfPresent(SequenceReport.self, forKey: .sequence)
        reflect = try c.decodeIfPresent(ReflectTotals.self, forKey: .reflect)
        stamp = try c.decodeIfPresent(StampEchoReport.self, forKey: .stamp)
        timeline = try c.decodeIfPresent([TimelineEntry].self, forKey: .timeline) ?? []
        jobTag = try c.decodeIfPresent(UInt32.self, forKey: .jobTag)
        startDelayMs = try c.decodeIfPresent(Double.self, forKey: .startDelayMs)
        error = try c.decodeIfPresent(JobError.self, forKey: .error)
        verdict = try c.decodeIfPresent(Verdict.self, forKey: .verdict)
    }
}
