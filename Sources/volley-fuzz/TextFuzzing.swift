import Foundation
import VolleyModel

/// Short texts that specs and stored jobs carry. Each parser must refuse or accept without
/// trapping, and what it accepts must print as text that parses back to the same value (stored
/// jobs are written with `description` and read again at the next start).
enum TextFuzzing {
    static func run(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let time = Timestamp(rfc3339: text) {
            expect(Timestamp(rfc3339: time.description) == time, "time", text, time.description)
        }
        if let endpoint = try? Endpoint(parsing: text) {
            expect((try? Endpoint(parsing: endpoint.description)) == endpoint, "endpoint", text, endpoint.description)
        }
        if let block = CIDR(text) {
            expect(CIDR(block.description) == block, "CIDR", text, block.description)
        }
        if let id = JobID(text) {
            expect(JobID(id.description) == id, "job id", text, id.description)
        }
    }

    private static func expect(_ holds: Bool, _ what: String, _ input: String, _ printed: String) {
        guard holds else {
            fatalError("\(what) \(input.debugDescription) prints as \(printed.debugDescription), read differently")
        }
    }
}
