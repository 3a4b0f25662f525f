import ArgumentParser
import Foundation
import VolleyFleet

/// Where the agent is and how to authenticate: shared by submit, status, result, cancel and jobs.
struct ClientOptions: ParsableArguments {
    @Option(help: "The agent's URL (default: $VOLLEY_AGENT, else http://127.0.0.1:8080).")
    var agent: String?

    @Option(help: "File holding the API token (default: $VOLLEY_TOKEN).")
    var tokenFile: String?

    func client() throws -> AgentClient {
        let text = agent ?? ProcessInfo.processInfo.environment["VOLLEY_AGENT"] ?? "http://127.0.0.1:8080"
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw ValidationError("--agent '\(text)' is not an http:// or https:// URL")
        }
        return AgentClient(base: url, token: try loadToken(file: tokenFile))
    }
}

/// The API token: the first line of `file`, else $VOLLEY_TOKEN; nil when neither gives one.
func loadToken(file: String?) throws -> String? {
    var token = ProcessInfo.processInfo.environment["VOLLEY_TOKEN"]
    if let file {
        guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("--token-file \(file) cannot be read")
        }
        token = contents.split(separator: "\n").first.map { $0.trimmingCharacters(in: .whitespaces) }
    }
    return token?.isEmpty == false ? token : nil
}

/// Prints one line to stderr and exits with `code`: how every command reports failure (no traces).
func fail(_ message: String, code: Int32 = 1) -> ExitCode {
    FileHandle.standardError.write(Data("volley: \(message)\n".utf8))
    return ExitCode(code)
}

/// Reads a spec file (or `-` for stdin) as bytes.
func readSpec(_ path: String) throws -> Data {
    if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw fail("cannot read \(path)")
    }
    return data
}

/// Writes JSON bytes to stdout, ending with a newline.
func printJSON(_ data: Data) {
    var bytes = data
    if bytes.last != 0x0a { bytes.append(0x0a) }
    FileHandle.standardOutput.write(bytes)
}
