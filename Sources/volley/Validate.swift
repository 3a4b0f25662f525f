import ArgumentParser
import Foundation
import VolleyModel

/// `volley validate SPEC.json`: the agent's own decoding and checks, offline.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a job spec the way an agent would.",
        discussion: """
            Exit status 0 when valid, 2 with the agent's field-naming message when not.
            Example:
              volley validate examples/imix.json && volley submit examples/imix.json
            """
    )

    @Argument(help: "The job spec (JSON file, or - for stdin).") var spec: String

    func run() throws {
        do {
            let parsed = try JobSpec.decode(json: try readSpec(spec))
            let address = parsed.endpoint.map { " \(parsed.mode.originates ? "to" : "on") \($0)" } ?? ""
            print("valid: \(parsed.mode.rawValue)\(address) for \(parsed.durationSeconds) s")
        } catch let error as SpecError {
            throw fail("invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)", code: 2)
        }
    }
}
