import Foundation
import Glibc

/// Crash-safe file replacement: write a hidden temp file beside the target, fsync it, rename it over
/// the target, then fsync the folder so the rename itself is durable.
enum AtomicFile {
    /// - Parameter durable: fsync the file and folder (skip only for data a process crash must not
    ///   lose but a power loss may: the page cache outlives a killed process).
    static func write(_ bytes: [UInt8], to url: URL, durable: Bool = true) throws(StoreError) {
        let folder = url.deletingLastPathComponent().path
        let temp = folder + "/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0 ... .max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("create", temp) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let error = failure("write", temp)
                close(fd)
                unlink(temp)
                throw error
            }
            written += n
        }
        guard !durable || fsync(fd) == 0 else {
            let error = failure("fsync", temp)
            close(fd)
            unlink(temp)
            throw error
        }
        close(fd)
        guard rename(temp, url.path) == 0 else {
            let error = failure("rename", url.path)
            unlink(temp)
            throw error
        }
        let dir = durable ? open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }

    /// Reads a whole file of at most `limit` bytes without following a symbolic link (a link planted
    /// in the data folder must not make the agent serve another file); nil when it does not exist.
    static func read(_ url: URL, limit: Int = 64 << 20) throws(StoreError) -> [UInt8]? {
        let fd = open(url.path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw failure(errno == ELOOP ? "refuse to follow the link" : "open", url.path)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("stat", url.path) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw StoreError(message: "\(url.path) is not a regular file") }
        guard Int(info.st_size) <= limit else {
            throw StoreError(message: "\(url.path) is \(info.st_size) bytes, more than the \(limit) a record may have")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw failure("read", url.path) }
            done += n
        }
        return bytes
    }

    private static func failure(_ what: String, _ path: String) -> StoreError {
        StoreError(message: "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
