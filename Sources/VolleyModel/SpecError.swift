/// Why a job spec was refused. `field` names the offending field (dotted for nested ones, e.g.
/// `tags.team`) when one is at fault; the message says what would be accepted.
public struct SpecError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The body is not JSON at all.
        case badJSON = "bad_json"
        /// JSON, but not a spec we accept: wrong type, missing, unknown or out-of-range field.
        case invalidSpec = "invalid_spec"
    }

    public var kind: Kind
    public var field: String?
    public var message: String

    public init(_ kind: Kind = .invalidSpec, field: String?, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { message }
}
