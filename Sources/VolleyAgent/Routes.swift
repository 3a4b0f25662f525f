import Foundation
import MicroHTTP
import VolleyEngine
import VolleyModel

/// The version 1 API, as a route table. Shapes are documented in openapi.yaml.
enum Routes {
    static func make(jobs: JobManager, hostname: String, capabilities: Capabilities) -> Router {
        var router = Router()
        router.add("GET", "/v1/health") { _, _ in .json(["status": "ok"]) }
        router.add("GET", "/v1/agent") { _, _ in
            .json(AgentInfo(hostname: hostname, time: Timestamp(), capabilities: capabilities))
        }
        router.add("POST", "/v1/jobs") { (request, _) throws(APIError) in
            guard !request.body.isEmpty else {
                throw APIError(status: 400, code: "bad_json", "request body is empty: send a JSON job spec")
            }
            let spec: JobSpec
            do throws(SpecError) {
                spec = try JobSpec.decode(json: Data(request.body))
            } catch {
                throw APIError(error)
            }
            let job = try jobs.submit(spec)
            return .json(job, status: 201, headers: [("Location", "/v1/jobs/\(job.id)")])
        }
        router.add("GET", "/v1/jobs/{id}") { (_, captures) throws(APIError) in
            let id = try jobID(captures[0])
            guard let job = jobs.job(id) else { throw .notFound("no job with id '\(id)'") }
            return .json(job)
        }
        router.add("GET", "/v1/jobs/{id}/result") { (_, captures) throws(APIError) in
            HTTPResponse(status: 200, contentType: "application/json", body: try jobs.resultBytes(try jobID(captures[0])))
        }
        return router
    }

    /// An id that could not have been generated is unknown, checked before anything touches the disk.
    private static func jobID(_ text: String) throws(APIError) -> JobID {
        guard let id = JobID(text) else { throw .notFound("no job with id '\(text)'") }
        return id
    }
}
