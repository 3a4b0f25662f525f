import VolleyModel

/// One worker thread's share of a job. Its sockets and live counters exist from set-up, so the API can
/// read progress at any time; the worker itself, with its buffers, is built by its own thread when the
/// job starts (never when the job is submitted) and read back once that thread has exited.
final class WorkerSlot: Sendable {
    enum Worker {
        case send(SendWorker)
        case sink(SinkWorker)
        case reflect(ReflectWorker)
        case stampReflect(StampReflectWorker)
    }

    let index: Int
    let sockets: [UDPSocket]
    let sent = DirectionCounters()
    let received = DirectionCounters()
    private let built = Locked<Worker?>(nil)
    /// The scheduler slice the kernel granted this worker's thread, in µs (`SchedulerSlice`); nil
    /// when none was asked for or the kernel did not take it.
    let grantedSlice = Locked<Int?>(nil)
    /// What the worker's thread used from its start to its end (`ThreadUsage`); set by that thread
    /// as it exits, nil before or when the kernel would not say.
    let usage = Locked<ThreadUsage?>(nil)

    init(index: Int, sockets: [UDPSocket]) {
        self.index = index
        self.sockets = sockets
    }

    /// Set once by the worker's thread.
    func hold(_ worker: Worker) { built.withLock { $0 = worker } }

    var worker: Worker? { built.withLock { $0 } }

    var send: SendWorker? { if case .send(let w)? = worker { w } else { nil } }
    var sink: SinkWorker? { if case .sink(let w)? = worker { w } else { nil } }
    var reflect: ReflectWorker? { if case .reflect(let w)? = worker { w } else { nil } }
    var stampReflect: StampReflectWorker? { if case .stampReflect(let w)? = worker { w } else { nil } }

    /// A reflect job's refusals, whichever protocol it speaks.
    var refused: ReflectTotals? {
        switch worker {
        case .reflect(let w)?: w.refused
        case .stampReflect(let w)?: w.refused
        default: nil
        }
    }

    var io: IOMethod? {
        switch worker {
        case .send(let w)?: w.io.method
        case .sink(let w)?: w.io.method
        case .reflect(let w)?: w.io.method
        case .stampReflect(let w)?: w.io.method
        case nil: nil
        }
    }

    var timeline: WorkerTimeline? {
        switch worker {
        case .send(let w)?: w.timeline
        case .sink(let w)?: w.timeline
        case .reflect(let w)?: w.timeline
        case .stampReflect(let w)?: w.timeline
        case nil: nil
        }
    }

    var allocatedBytes: Int {
        switch worker {
        case .send(let w)?: w.allocatedBytes
        case .sink(let w)?: w.allocatedBytes
        case .reflect(let w)?: w.allocatedBytes
        case .stampReflect(let w)?: w.allocatedBytes
        case nil: 0
        }
    }
}
