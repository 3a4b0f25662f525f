import VolleyEngine
import VolleyModel

extension JobManager {
    /// `POST /v1/validate`: the checks of `submit` that need no socket, in the same order and with the
    /// same errors, and what the job would do. Creates no job, reserves nothing, writes nothing, and
    /// opens no socket but one for a `gso` job, connected (no traffic) and closed at once, to check
    /// the payload against the path MTU. So it cannot catch what only socket set-up finds (another
    /// process on the listen port, missing privileges; step 14 of a submission).
    func preview(_ spec: JobSpec, rateIsDefault: Bool) throws(APIError) -> JobPreview {
        let footprint = JobFootprint(spec: spec)
        func answer(_ admission: JobPreview.Admission, _ id: JobID? = nil) -> JobPreview {
            JobPreview(spec: spec, rateIsDefault: rateIsDefault, memoryBytes: footprint.memoryBytes,
                       sockets: footprint.sockets, admission: admission, jobID: id)
        }
        if let existing = try state.withLock({ (s) throws(APIError) in try resubmission(spec, s) }) {
            return answer(.exists, existing.id)
        }
        try admissible(spec)
        do throws(EngineError) {
            try JobRun.checkPath(spec)
        } catch {
            throw APIError(engine: error, field: "target")
        }
        try budget.checkJob(spec, footprint)
        // `admitting` only reads the state; it takes it inout because `submit` goes on to change it.
        let startsNow = try state.withLock { (s) throws(APIError) in try admitting(spec, footprint, &s) }
        return answer(spec.startAt != nil ? .scheduled : (startsNow ? .startsNow : .queued))
    }
}
