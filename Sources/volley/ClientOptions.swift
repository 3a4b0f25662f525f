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
    if let file {
        guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("--token-file \(file) cannot be read")
        }
        return try checkedToken(contents, from: "--token-file \(file)")
    }
    guard let text = ProcessInfo.processInfo.environment["VOLLEY_TOKEN"], !text.isEmpty else { return nil }
    return try checkedToken(text, from: "VOLLEY_TOKEN")
}

/// The first line of `text` without surrounding blanks or a trailing CR (a file written on Windows),
/// checked to be a token a client can send: RFC 9110's token68 characters only.
func checkedToken(_ text: String, from source: String) throws -> String {
    let line = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).first
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
    guard !line.isEmpty else { throw ValidationError("\(source) is empty: put the token on its first line") }
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/=".unicodeScalars)
    guard line.unicodeScalars.allSatisfy(allowed.contains) else {
        throw ValidationError("\(source): a token may hold only letters, digits and - . _ ~ + / = (RFC 9110 token68)")
    }
    return line
}

/// Prints one line to stderr and exits with `status`: how every command reports failure (no traces).
func fail(_ message: String, _ status: ExitStatus = .failed) -> ExitCode {
    FileHandle.standardError.write(Data("volley: \(message)\n".utf8))
    return status.exitCode
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
