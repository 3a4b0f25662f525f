import Foundation
@testable import VolleyModel

/// The spec a JSON text decodes to, as the API decodes request bodies (shared by the spec suites).
func decode(_ json: String) throws(SpecError) -> JobSpec {
    try JobSpec.decode(json: Data(json.utf8))
}

/// The error a spec produces, or nil when it decodes.
func failure(_ json: String) -> SpecError? {
    do {
        _ = try decode(json)
        return nil
    } catch {
        return error
    }
}
