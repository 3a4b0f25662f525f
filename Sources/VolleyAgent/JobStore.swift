import Foundation
import Glibc
import VolleyModel

/// Why the store could not do what was asked.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }
}

/// The data folder, the agent's embedded database of JSON files:
///
///     jobs/<id>.json        the job record (state, history, last checkpoint of its counters)
///     results/<id>.json     the result of a finished job, never rewritten
///     quarantine/           files found unreadable at start-up, moved aside with a time prefix
///
/// Every write is atomic (temp file, fsync, rename, fsync of the folder), so a crash leaves either
/// the old file or the whole new one.
public struct JobStore: Sendable {
    public let root: URL
    var jobs: URL { root.appendingPathComponent("jobs", isDirectory: true) }
    var results: URL { root.appendingPathComponent("results", isDirectory: true) }
    var quarantine: URL { root.appendingPathComponent("quarantine", isDirectory: true) }

    /// Creates the folders if needed and checks that they are writable, with a message that says
    /// what is wrong (an empty path, a file where the folder should be, no permission).
    public init(dataDirectory: URL) throws(StoreError) {
        root = dataDirectory
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw StoreError(message: "\(dataDirectory.path) is a file, not a folder: give --data-dir a folder (it is created if missing)")
        }
        for folder in [jobs, results, quarantine] {
            var inside: ObjCBool = false
            if FileManager.default.fileExists(atPath: folder.path, isDirectory: &inside), !inside.boolValue {
                throw StoreError(message: "\(folder.path) is a file, not a folder: move it away or choose another --data-dir")
            }
            try Self.makeFolder(folder.path)
            let probe = folder.appendingPathComponent(".write-test")
            guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
                throw StoreError(message: "cannot write to \(folder.path): \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(at: probe)
        }
    }

    /// `mkdir -p`, with the system's reason when a step fails.
    private static func makeFolder(_ path: String) throws(StoreError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw StoreError(message: "cannot create \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    public func resultURL(_ id: JobID) -> URL { results.appendingPathComponent("\(id.rawValue).json") }
    public func jobURL(_ id: JobID) -> URL { jobs.appendingPathComponent("\(id.rawValue).json") }

    public func write(_ job: Job, durable: Bool = true) throws(StoreError) {
        try AtomicFile.write(try Self.encode(job, pretty: false), to: jobURL(job.id), durable: durable)
    }

    /// Writes the result and returns the exact bytes stored.
    @discardableResult
    public func write(_ result: JobResult) throws(StoreError) -> [UInt8] {
        let bytes = try Self.bytes(of: result)
        try AtomicFile.write(bytes, to: resultURL(result.id))
        return bytes
    }

    /// The stored bytes of one result, or nil when there is none.
    public func resultBytes(_ id: JobID) throws(StoreError) -> [UInt8]? {
        try AtomicFile.read(resultURL(id))
    }

    public func result(_ id: JobID) -> JobResult? {
        (try? resultBytes(id)).flatMap { $0 }.flatMap { try? VolleyJSON.decode(JobResult.self, from: Data($0)) }
    }

    /// Removes a job's record and result.
    public func delete(_ id: JobID) throws(StoreError) {
        for url in [resultURL(id), jobURL(id)] where FileManager.default.fileExists(atPath: url.path) {
            guard unlink(url.path) == 0 else {
                throw StoreError(message: "cannot remove \(url.path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// What start-up finds: every readable job (from its record, or from its result alone), and the
    /// files that could not be read, already moved to `quarantine/` (with why, for the log).
    public func load() -> (jobs: [Job], results: [JobID: JobResult], quarantined: [String], reasons: [String: String]) {
        var reasons: [String: String] = [:]
        var results: [JobID: JobResult] = [:]
        for (name, read) in files(in: self.results) {
            switch read.flatMap({ Self.decode(JobResult.self, $0, named: name, id: \.id) }) {
            case .success(let result): results[result.id] = result
            case .failure(let error): reasons[moveAside("results", name)] = error.message
            }
        }
        var jobs: [Job] = []
        var seen = Set<JobID>()
        for (name, read) in files(in: self.jobs) {
            switch read.flatMap({ Self.decode(Job.self, $0, named: name, id: \.id) }) {
            case .success(let job):
                jobs.append(job)
                seen.insert(job.id)
            case .failure(let error): reasons[moveAside("jobs", name)] = error.message
            }
        }
        for (id, result) in results where !seen.contains(id) { jobs.append(Job(restoredFrom: result)) }
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: quarantine.path)) ?? []
        return (jobs, results, (existing.filter { !$0.hasPrefix(".") } ).sorted(), reasons)
    }

    /// A stored file's value, checked to be the one its name says.
    private static func decode<T: Decodable>(_ type: T.Type, _ data: Data, named name: String,
                                             id: (T) -> JobID) -> Result<T, StoreError> {
        do {
            let value = try VolleyJSON.decode(type, from: data)
            guard "\(id(value).rawValue).json" == name else {
                return .failure(StoreError(message: "\(name) holds job \(id(value))"))
            }
            return .success(value)
        } catch {
            return .failure(StoreError(message: "\(name) is not a readable \(T.self): \(error)"))
        }
    }

    /// Each file's bytes, or why they could not be read (capped, and never through a link).
    private func files(in folder: URL) -> [(String, Result<Data, StoreError>)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var out: [(String, Result<Data, StoreError>)] = []
        for name in names.sorted() where !name.hasPrefix(".") {
            do throws(StoreError) {
                let bytes = try AtomicFile.read(folder.appendingPathComponent(name))
                out.append((name, .success(Data(bytes ?? []))))
            } catch {
                out.append((name, .failure(error)))
            }
        }
        // Leftover temp files of an interrupted write are garbage: the rename never happened.
        for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
            unlink(folder.appendingPathComponent(name).path)
        }
        return out
    }

    private func moveAside(_ folder: String, _ name: String) -> String {
        let stamp = Int(Date().timeIntervalSince1970)
        let target = "\(stamp)-\(folder)-\(name)"
        rename(root.appendingPathComponent("\(folder)/\(name)").path, quarantine.appendingPathComponent(target).path)
        return target
    }

    /// A result as it is stored (and served): pretty JSON and a newline.
    static func bytes(of result: JobResult) throws(StoreError) -> [UInt8] {
        try encode(result, pretty: true)
    }

    private static func encode<T: Encodable>(_ value: T, pretty: Bool) throws(StoreError) -> [UInt8] {
        do {
            return Array(try VolleyJSON.encode(value, pretty: pretty)) + [0x0a]
        } catch {
            throw StoreError(message: "cannot encode: \(error)")
        }
    }
}
