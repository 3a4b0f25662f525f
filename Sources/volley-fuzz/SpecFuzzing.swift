import Foundation
import VolleyModel

/// Request bodies. `JobSpec.decode(json:)` throws only `SpecError` (its typed throws say so); a
/// spec it accepts is what the agent stores, so writing it and reading it back must give it again.
enum SpecFuzzing {
    static func run(_ data: Data) {
        guard let spec = try? JobSpec.decode(json: data) else { return }
        let stored: Data
        do {
            stored = try VolleyJSON.encode(spec)
        } catch {
            fatalError("an accepted spec does not encode: \(error)\n\(String(decoding: data, as: UTF8.self))")
        }
        let again: JobSpec
        do {
            again = try JobSpec.decode(json: stored)
        } catch {
            fatalError("a stored spec is refused: \(error)\n\(String(decoding: stored, as: UTF8.self))")
        }
        guard again == spec else {
            fatalError("a spec changed on the way through storage:\n\(spec)\n\(again)")
        }
    }
}
