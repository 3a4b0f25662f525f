import Foundation
import Testing
@testable import VolleyAgent

/// The error codes are one vocabulary: the type, openapi.yaml's `Error` schema and the README agree.
@Suite struct ErrorVocabularyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let codes = Set(APIErrorCode.allCases.map(\.rawValue))

    @Test func openAPIListsExactlyTheCodes() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        let schema = try #require(text.range(of: "\n    Error:\n"))
        let list = try #require(text[schema.upperBound...].range(of: "enum:\n"))
        var listed: Set<String> = []
        for line in text[list.upperBound...].split(separator: "\n") {
            let item = line.trimmingCharacters(in: .whitespaces)
            guard item.hasPrefix("- ") else { break }
            listed.insert(String(item.dropFirst(2)))
        }
        #expect(listed == Self.codes)
        // The schema's description groups codes before their status, "`a`, `b` (409)": the first
        // status after each code must be the type's.
        let reason = try #require(text[schema.upperBound...].range(of: "Machine-readable reason:"))
        let description = String(text[reason.upperBound..<list.lowerBound])
        for code in APIErrorCode.allCases {
            let at = try #require(description.range(of: "`\(code.rawValue)`"), "\(code.rawValue) not described")
            let status = description[at.upperBound...].firstMatch(of: /\((\d{3})\)/).map { Int($0.1) }
            #expect(status == code.status, "\(code.rawValue): the document says \(String(describing: status))")
        }
    }

    @Test func readmeListsExactlyTheCodes() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(text.range(of: "Errors are always"))
        let paragraph = text[start.lowerBound...].prefix { _ in true }.components(separatedBy: "\n\n")[0]
        let quoted = paragraph.components(separatedBy: "`").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        let listed = Set(quoted.filter { $0.range(of: #"^[a-z]+(_[a-z]+)*$"#, options: .regularExpression) != nil })
        #expect(listed == Self.codes)
    }

    @Test func everyCodeCarriesItsStatus() {
        let error = APIError(.budgetExhausted, "x", field: "batch")
        #expect(error.status == 429 && error.code == "budget_exhausted")
        #expect(Set(APIErrorCode.allCases.map(\.status)) == [400, 401, 403, 404, 405, 409, 413, 415, 421, 429, 500, 503])
    }
}
