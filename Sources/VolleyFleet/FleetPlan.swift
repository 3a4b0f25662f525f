import Foundation
import VolleyModel

/// How one spec becomes each agent's spec: the fleet's client id and common start time, an even
/// share of the rate (`--split-rate`), and per-agent values (`--vary KEY=V1,V2,…`).
public struct FleetPlan: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The spec as the user wrote it, as a JSON object (so the agents judge exactly that).
    let object: [String: JSONValue]
    public let spec: JobSpec
    public var splitRate = false
    /// Field → one value per agent.
    public var vary: [(key: String, values: [String])] = []

    public init(specJSON: Data) throws(Failure) {
        do {
            spec = try JobSpec.decode(json: specJSON)
        } catch {
            throw Failure(description: "invalid spec\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)")
        }
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: specJSON) else {
            throw Failure(description: "the spec must be a JSON object")
        }
        guard object["start_at"] == nil, object["id"] == nil else {
            throw Failure(description: "a fleet sets 'id' and 'start_at' itself: remove them from the spec")
        }
        self.object = object
    }

    /// Parses `KEY=V1,V2,…`.
    public static func parseVary(_ text: String) throws(Failure) -> (key: String, values: [String]) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw Failure(description: "--vary '\(text)' must be KEY=VALUE,VALUE,…")
        }
        return (String(text[..<eq]), text[text.index(after: eq)...].split(separator: ",").map(String.init))
    }

    /// Agent `index` of `count`'s spec, with its client id and its clock's `start_at`.
    public func spec(for index: Int, of count: Int, id: String, startAt: Timestamp) throws(Failure) -> Data {
        var object = self.object
        object["id"] = .string(id)
        object["start_at"] = .string(startAt.description)
        if splitRate {
            switch object["rate_pps"] {
            case .number(let rate)?:
                // Every agent must get at least 1 pps: a share of 0 would not mean "idle" to an agent.
                guard rate >= Double(count) else {
                    throw Failure(description: "--split-rate: 'rate_pps' \(Int(rate)) cannot be split over \(count) agents (each needs at least 1 pps); ask for at least \(count), or \"max\" for every agent at full speed")
                }
                object["rate_pps"] = .number(Double(Self.share(Int(rate), index, count)))
            case .string?:
                break  // "max": every agent as fast as it can, said explicitly
            default:
                if object["profile"] == nil {
                    throw Failure(description: "--split-rate needs 'rate_pps' (or a 'profile') in the spec: the default rate of \(JobSpec.defaultRatePPS) pps is per agent")
                }
            }
            if case .array(let steps)? = object["profile"] {
                object["profile"] = .array(steps.map { step in
                    guard case .object(var fields) = step else { return step }
                    for key in ["rate_pps", "ramp_to_pps"] {
                        if case .number(let rate)? = fields[key] { fields[key] = .number(Double(Self.share(Int(rate), index, count))) }
                    }
                    return .object(fields)
                })
            }
        }
        for (key, values) in vary {
            guard values.count == count else {
                throw Failure(description: "--vary \(key) has \(values.count) values for \(count) agents")
            }
            let text = values[index]
            object[key] = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
        }
        let data = (try? JSONEncoder().encode(JSONValue.object(object))) ?? Data()
        do {
            _ = try JobSpec.decode(json: data)
        } catch {
            throw Failure(description: "agent \(index + 1)'s spec is invalid\(error.field.map { " (field '\($0)')" } ?? ""): \(error.message)")
        }
        return data
    }

    /// An even share of `total`; the first `total % count` agents get one more.
    static func share(_ total: Int, _ index: Int, _ count: Int) -> Int { total / count + (index < total % count ? 1 : 0) }
}

/// Any JSON value, to edit a spec without losing what the user wrote.
public enum JSONValue: Codable, Equatable, Sendable {
    case null, bool(Bool), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let n = try? c.decode(Double.self) { self = .number(n) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let n):
            if n.rounded() == n && abs(n) < 9e15 { try c.encode(Int64(n)) } else { try c.encode(n) }
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}
