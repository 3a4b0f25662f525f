import ArgumentParser
import Foundation
import VolleyModel
import VolleyReport

/// `volley report RESULT.json`: an HTML report of a job result or a fleet result.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a job or fleet result as one self-contained HTML page with charts.",
        discussion: """
            Examples:
              volley result j01a2f3c4d5e6-0badcafe > result.json && volley report result.json -o report.html
              volley fleet run spec.json --agents-file agents.txt --out fleet.json; volley report fleet.json
            """
    )

    @Argument(help: "A result file (from `volley result`, `volley run` or `volley fleet run --out`), or - for stdin.")
    var result: String

    @Option(name: .shortAndLong, help: "Write the HTML here (default: stdout).")
    var output: String?

    func run() throws {
        let data = try readSpec(result)
        let html: String
        if let fleet = try? VolleyJSON.decode(FleetResult.self, from: data) {
            html = Report.html(for: fleet)
        } else if let job = try? VolleyJSON.decode(JobResult.self, from: data) {
            html = Report.html(for: job)
        } else {
            throw fail("\(result) is neither a job result nor a fleet result", .invalidInput)
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(html.utf8)) else { throw fail("cannot write \(output)") }
        } else {
            print(html)
        }
    }
}
