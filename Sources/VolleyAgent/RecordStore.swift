import VolleyModel

/// What the job manager needs from the data folder. `JobStore` is the real one; tests wrap it to
/// make writes fail on demand (a full disk) without filling a disk.
protocol RecordStore: Sendable {
    func write(_ job: Job, durable: Bool) throws(StoreError)
    /// Writes the result and returns the exact bytes stored.
    @discardableResult func write(_ result: JobResult) throws(StoreError) -> [UInt8]
    func resultBytes(_ id: JobID) throws(StoreError) -> [UInt8]?
    func delete(_ id: JobID) throws(StoreError)
    /// Readable jobs and results; files moved to `quarantine/` (all of them, sorted), and why the
    /// ones moved now could not be read, by their new name.
    func load() -> (jobs: [Job], results: [JobID: JobResult], quarantined: [String], reasons: [String: String])
}

extension JobStore: RecordStore {}
