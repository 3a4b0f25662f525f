import Foundation
import Glibc
import VolleyModel

/// Why the result store could not do what was asked.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// Result files on disk, `<dataDir>/results/<id>.json`, each written atomically (temp file, fsync,
/// rename, fsync of the folder) so a crash leaves either the old state or the whole new file.
public struct ResultStore: Sendable {
    public let directory: URL

    /// Creates the folder if needed and checks that it is writable.
    public init(dataDirectory: URL) throws(StoreError) {
        directory = dataDirectory.appendingPathComponent("results", isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw StoreError(message: "cannot create \(directory.path): \(error.localizedDescription)")
        }
        guard access(directory.path, W_OK) == 0 else {
            throw StoreError(message: "cannot write to \(directory.path): \(String(cString: strerror(errno)))")
        }
    }

    public func url(for id: JobID) -> URL { directory.appendingPathComponent("\(id.rawValue).json") }

    /// Writes the result and returns the exact bytes stored.
    @discardableResult
    public func write(_ result: JobResult) throws(StoreError) -> [UInt8] {
        let bytes: [UInt8]
        do {
            bytes = Array(try VolleyJSON.encode(result, pretty: true)) + [0x0a]
        } catch {
            throw StoreError(message: "cannot encode result \(result.id): \(error)")
        }
        try AtomicFile.write(bytes, to: url(for: result.id))
        return bytes
    }

    /// The stored bytes of one result, or nil when there is none.
    public func bytes(for id: JobID) throws(StoreError) -> [UInt8]? {
        let path = url(for: id).path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(message: "cannot read \(path)")
        }
        return Array(data)
    }

    /// Every readable result; files that do not decode are reported, never deleted.
    public func loadAll() -> (results: [JobResult], unreadable: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var results: [JobResult] = []
        var unreadable: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            let path = directory.appendingPathComponent(name).path
            if let data = FileManager.default.contents(atPath: path),
               let result = try? VolleyJSON.decode(JobResult.self, from: data),
               "\(result.id.rawValue).json" == name {
                results.append(result)
            } else {
                unreadable.append(name)
            }
        }
        return (results, unreadable)
    }
}
