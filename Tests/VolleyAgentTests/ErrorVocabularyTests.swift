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
        // Every status the type gives is the one the document names beside the code.
        for code in APIErrorCode.allCases {
            #expect(text.contains("(\(code.status)") , "\(code.status) for \(code.rawValue)")
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
