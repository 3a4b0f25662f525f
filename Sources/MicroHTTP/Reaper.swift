import Dispatch
import Glibc

/// A thread of the server's own that runs `tick` about once a `period` until `stop()`, which wakes it
/// at once and joins it (a server that starts a thread also ends it).
final class Reaper: @unchecked Sendable {  // `thread` is written in init, read once in stop
    private final class Job {
        let wake = DispatchSemaphore(value: 0)
        let period: DispatchTimeInterval
        let tick: @Sendable () -> Void
        init(period: DispatchTimeInterval, tick: @escaping @Sendable () -> Void) {
            self.period = period
            self.tick = tick
        }
    }

    private let job: Job
    private var thread = pthread_t()
    private var stopped = false

    init(every period: DispatchTimeInterval, _ tick: @escaping @Sendable () -> Void) throws(HTTPServerError) {
        job = Job(period: period, tick: tick)
        let retained = Unmanaged.passRetained(job).toOpaque()
        let started = pthread_create(&thread, nil, { raw in
            let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
            while job.wake.wait(timeout: .now() + job.period) == .timedOut { job.tick() }
            return nil
        }, retained)
        guard started == 0 else {
            Unmanaged<Job>.fromOpaque(retained).release()
            throw HTTPServerError("cannot start the request deadline thread: \(String(cString: strerror(started)))")
        }
    }

    /// Wakes the thread and waits for it to end; later calls do nothing.
    func stop() {
        guard !stopped else { return }
        stopped = true
        job.wake.signal()
        pthread_join(thread, nil)
    }
}
