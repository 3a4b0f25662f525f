import Foundation
import VolleyModel

/// Stored jobs and results: the agent reads them back at every start, and a fleet reads results
/// from other agents. Whatever decodes must encode and decode again to the same value.
enum StoredFuzzing {
    static func run(_ data: Data) {
        if let job = try? VolleyJSON.decode(Job.self, from: data) { roundTrip(job) }
        if let result = try? VolleyJSON.decode(JobResult.self, from: data) { roundTrip(result) }
    }

    private static func roundTrip<T: Codable & Equatable>(_ value: T) {
        let stored: Data
        do {
            stored = try VolleyJSON.encode(value)
        } catch {
            fatalError("a decoded \(T.self) does not encode: \(error)")
        }
        do {
            let again = try VolleyJSON.decode(T.self, from: stored)
            guard again == value else {
                fatalError("a \(T.self) changed on the way through storage:\n\(value)\n\(again)")
            }
        } catch {
            fatalError("a stored \(T.self) is refused: \(error)\n\(String(decoding: stored, as: UTF8.self))")
        }
    }
}
