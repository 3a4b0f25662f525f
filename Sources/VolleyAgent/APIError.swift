import Foundation
import MicroHTTP
import VolleyModel

/// An error the API answers with: an `APIErrorCode` (which carries its HTTP status) rendered as
/// `{"error":{"code","message","field"}}`.
/// Handlers throw it; `Router` renders it once.
public struct APIError: Error, Equatable, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?
    /// Extra response headers (e.g. `Allow` for 405).
    public var headers: [String: String] = [:]

    public init(_ code: APIErrorCode, _ message: String, field: String? = nil, headers: [String: String] = [:]) {
        status = code.status
        self.code = code.rawValue
        self.message = message
        self.field = field
        self.headers = headers
    }

    public init(_ error: SpecError) {
        self.init(error.kind == .badJSON ? .badJSON : .invalidSpec, error.message, field: error.field)
    }

    static func notFound(_ message: String) -> APIError { APIError(.notFound, message) }

    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var field: String?
        }
        var error: Detail
    }

    var response: HTTPResponse {
        let body: Data
        do {
            body = try VolleyJSON.encode(Body(error: .init(code: code, message: message, field: field)))
        } catch {
            // Strings only, so this cannot happen; were it to, the client still gets the documented
            // shape, with the original code and the reason in the message.
            let reason = "error '\(code)' could not be encoded: \(error)".unicodeScalars
                .filter { $0.isASCII && $0 != "\"" && $0 != "\\" && $0.value >= 0x20 }.map(String.init).joined()
            body = Data(#"{"error":{"code":"internal_error","message":"\#(reason)"}}"#.utf8)
        }
        return HTTPResponse(status: status, contentType: "application/json", body: Array(body) + [0x0a],
                            headers: headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }
}
