import Foundation
import Testing
@testable import VolleyFleet
@testable import VolleyModel

/// `--split-rate` never turns a small rate into "as fast as possible" on some agents.
@Suite struct FleetPlanTests {
    private func plan(_ json: String) throws -> FleetPlan {
        var plan = try FleetPlan(specJSON: Data(json.utf8))
        plan.splitRate = true
        return plan
    }

    private func rates(_ plan: FleetPlan, agents: Int) throws -> [JSONValue?] {
        try (0..<agents).map { index in
            let data = try plan.spec(for: index, of: agents, id: "f-\(index)", startAt: Timestamp(Date().addingTimeInterval(5)))
            guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: data) else { return nil }
            return object["rate_pps"]
        }
    }

    @Test func aRateBelowTheAgentCountIsRefusedNamingIt() throws {
        let twoOverThree = try plan(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":2}"#)
        #expect(throws: FleetPlan.Failure.self) { _ = try twoOverThree.spec(for: 2, of: 3, id: "f-2", startAt: Timestamp()) }
        do {
            _ = try twoOverThree.spec(for: 0, of: 3, id: "f-0", startAt: Timestamp())
        } catch {
            #expect(error.description.contains("'rate_pps' 2") && error.description.contains("3 agents"))
        }
    }

    @Test func sharesAddUpAndNoneIsZero() throws {
        let shares = try rates(try plan(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":5}"#), agents: 3)
        #expect(shares == [.number(2), .number(2), .number(1)])
        let exact = try rates(try plan(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":3}"#), agents: 3)
        #expect(exact == [.number(1), .number(1), .number(1)])
    }

    @Test func maxStaysMaxAndAnAbsentRateMustBeSaid() throws {
        let max = try rates(try plan(#"{"mode":"send","target":"127.0.0.1:9","rate_pps":"max"}"#), agents: 2)
        #expect(max == [.string("max"), .string("max")])
        let absent = try plan(#"{"mode":"send","target":"127.0.0.1:9"}"#)
        #expect(throws: FleetPlan.Failure.self) { _ = try absent.spec(for: 0, of: 2, id: "f-0", startAt: Timestamp()) }
    }
}
