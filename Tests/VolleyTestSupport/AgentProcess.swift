import Foundation
import Glibc

/// The real `volley serve` binary, started on a free port with its own temporary data folder.
public final class AgentProcess: @unchecked Sendable {  // set up once in init, then only read
    public let process = Process()
    public let port: UInt16
    public let dataDirectory: URL
    private let errorPipe = Pipe()
    public let client: HTTPClient

    /// The built `volley` executable: `VOLLEY_BIN`, else beside the test bundle, else `.build/debug`.
    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["VOLLEY_BIN"] { return URL(fileURLWithPath: path) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("volley")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/volley")
    }

    /// A new, empty folder under this test process's own root (`TestFolders`), removed when the
    /// process exits.
    public static func temporaryDirectory() -> URL { TestFolders.make() }

    /// Starts the agent and waits for its "listening on" line. Extra `arguments` go after `serve`.
    public init(dataDirectory: URL = AgentProcess.temporaryDirectory(), arguments: [String] = [],
                host: String = "127.0.0.1", port: UInt16 = 0) throws {
        self.dataDirectory = dataDirectory
        process.executableURL = Self.binary
        let listen = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        process.arguments = ["serve", "--listen", listen, "--data-dir", dataDirectory.path] + arguments
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let handle = errorPipe.fileHandleForReading
        var log = ""
        var found: UInt16?
        let deadline = Date().addingTimeInterval(20)
        while found == nil && Date() < deadline {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
            if let range = log.range(of: #"listening on https?://[^ "]*:([0-9]+)"#, options: .regularExpression) {
                found = UInt16(log[range].split(separator: ":").last!)
            }
        }
        guard let found else {
            process.terminate()
            throw AgentStartFailure(log: log)
        }
        self.port = found
        let reachable = host == "0.0.0.0" ? "127.0.0.1" : host
        client = HTTPClient(port: found, host: reachable.contains(":") ? "[\(reachable)]" : reachable)
        // Keep draining stderr so the agent never blocks on a full pipe.
        handle.readabilityHandler = { h in _ = h.availableData }
    }

    /// SIGTERM, then wait for exit; returns the exit status.
    @discardableResult
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        errorPipe.fileHandleForReading.readabilityHandler = nil
        return process.terminationStatus
    }

    /// SIGKILL: the agent gets no chance to clean up.
    public func kill9() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        errorPipe.fileHandleForReading.readabilityHandler = nil
    }

    deinit { if process.isRunning { kill9() } }
}

public struct AgentStartFailure: Error, CustomStringConvertible {
    public var log: String
    public var description: String { "agent did not start:\n\(log)" }
}

/// Runs a command to completion and returns its exit status and combined output.
public func runCommand(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    let pipe = Pipe()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
