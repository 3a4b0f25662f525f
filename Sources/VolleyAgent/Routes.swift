import Foundation
import MicroHTTP
import VolleyEngine
import VolleyModel
import VolleyReport

/// The version 1 API, as a route table. Shapes are documented in openapi.yaml.
enum Routes {
    struct JobPage: Encodable {
        var jobs: [Job]
        var next: JobID?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(jobs, forKey: .jobs)
            try c.encode(next, forKey: .next)
        }

        enum CodingKeys: String, CodingKey { case jobs, next }
    }

    static func make(jobs: JobManager, hostname: String, capabilities: Capabilities, metrics: AgentMetrics) -> Router {
        var router = Router()
        let healthy = HTTPResponse.json(["status": "ok"]).prepared()
        router.add("GET", "/v1/health") { _, _ in healthy }
        router.add("GET", "/") { (_, _) throws(APIError) in
            let page = try jobs.list(state: nil, limit: homePageJobs, after: nil)
            let total = jobs.countsByState().values.reduce(0, +)
            let agent = HomePage.AgentSummary(
                hostname: hostname, version: Volley.version,
                capabilities: [("sendmmsg", capabilities.sendmmsg), ("recvmmsg", capabilities.recvmmsg),
                               ("udp_gso", capabilities.udpGSO), ("udp_gro", capabilities.udpGRO)],
                budget: jobs.budgetInfo(), store: jobs.storeInfo())
            return .html(HomePage.html(jobs: page.jobs, total: max(total, page.jobs.count), agent: agent))
        }
        router.add("GET", "/v1/agent") { _, _ in
            .json(AgentInfo(hostname: hostname, time: Timestamp(), capabilities: capabilities,
                            store: jobs.storeInfo(), budget: jobs.budgetInfo()))
        }
        router.add("GET", "/metrics") { _, _ in
            metrics.setJobs(jobs.countsByState())
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: metrics.exposition())
        }
        router.add("POST", "/v1/jobs") { (request, _) throws(APIError) in
            let (job, created) = try jobs.submit(try spec(request))
            return .json(job, status: created ? 201 : 200, headers: [("Location", "/v1/jobs/\(job.id)")])
        }
        // A route of its own rather than `POST /v1/jobs?dry_run=true`: an agent that predates it answers
        // 404 here, where it would ignore the unknown query argument and really start the job.
        router.add("POST", "/v1/validate") { (request, _) throws(APIError) in
            let spec = try spec(request)
            // The body has just decoded as a spec, so it is a JSON object: this second read only asks
            // which rate fields were written (a spec stores the default and a written 1000 alike).
            let object = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
            return .json(try jobs.preview(spec, rateIsDefault: !JobPreview.specGivesRate(object)))
        }
        router.add("GET", "/v1/jobs") { (request, _) throws(APIError) in
            let query = try ListQuery(request.query)
            let page = try jobs.list(state: query.state, limit: query.limit, after: query.after)
            return .json(JobPage(jobs: page.jobs, next: page.next))
        }
        router.add("GET", "/v1/jobs/{id}") { (_, captures) throws(APIError) in
            let id = try jobID(captures[0])
            guard let response = try jobs.jobResponse(id) else { throw .notFound("no job with id '\(id)'") }
            return response
        }
        router.add("DELETE", "/v1/jobs/{id}") { (_, captures) throws(APIError) in
            try jobs.delete(try jobID(captures[0]))
            return HTTPResponse(status: 204)
        }
        router.add("POST", "/v1/jobs/{id}/cancel") { (_, captures) throws(APIError) in
            .json(try jobs.cancel(try jobID(captures[0])), status: 202)
        }
        router.add("GET", "/v1/jobs/{id}/result") { (_, captures) throws(APIError) in
            HTTPResponse(status: 200, contentType: "application/json", body: try jobs.resultBytes(try jobID(captures[0])))
        }
        router.add("GET", "/v1/jobs/{id}/report") { (_, captures) throws(APIError) in
            let bytes = try jobs.resultBytes(try jobID(captures[0]))
            guard let result = try? VolleyJSON.decode(JobResult.self, from: Data(bytes)) else {
                throw APIError(.storageError, "the stored result cannot be read")
            }
            return .html(Report.html(for: result))
        }
        return router
    }

    /// The request's job spec, decoded and checked as every route that takes one does.
    private static func spec(_ request: HTTPRequest) throws(APIError) -> JobSpec {
        guard !request.body.isEmpty else {
            throw APIError(.badJSON, "request body is empty: send a JSON job spec")
        }
        do throws(SpecError) {
            return try JobSpec.decode(json: Data(request.body))
        } catch {
            throw APIError(error)
        }
    }

    /// How many jobs the home page lists (newest first); it says so when there are more.
    static let homePageJobs = 100

    /// An id that could not have been generated or chosen is unknown, checked before anything touches the disk.
    private static func jobID(_ text: String) throws(APIError) -> JobID {
        guard let id = JobID(text) else { throw .notFound("no job with id '\(text)'") }
        return id
    }
}

/// `GET /v1/jobs` query arguments: `state`, `limit` (1–1000, default 50), `after` (a job id).
struct ListQuery {
    var state: JobState?
    var limit = 50
    var after: JobID?

    init(_ query: [String: String]) throws(APIError) {
        if let unknown = query.keys.sorted().first(where: { !["state", "limit", "after"].contains($0) }) {
            throw APIError(.invalidQuery, "unknown query argument '\(unknown)': use state, limit, after", field: unknown)
        }
        if let text = query["state"] {
            guard let s = JobState(rawValue: text) else {
                let all = JobState.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError(.invalidQuery, "state '\(text)' is not one of \(all)", field: "state")
            }
            state = s
        }
        if let text = query["limit"] {
            guard let n = Int(text), (1...1000).contains(n) else {
                throw APIError(.invalidQuery, "limit must be a whole number from 1 to 1000", field: "limit")
            }
            limit = n
        }
        if let text = query["after"] {
            guard let id = JobID(text) else {
                throw APIError(.invalidQuery, "'after' must be a job id", field: "after")
            }
            after = id
        }
    }
}
