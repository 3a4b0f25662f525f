import Foundation
import Glibc
import Synchronization

/// A child process started with posix_spawn and reaped with waitpid by this object alone.
/// Foundation's `Process` reaps children from a SIGCHLD source; with many short children started
/// from test threads it was seen to leave one a zombie and `waitUntilExit` hanging for ever. Here
/// the child starts with an empty signal mask (test threads block some signals), its stdout and
/// stderr are read by two threads, and every wait has a deadline.
public final class Spawned: @unchecked Sendable {  // pid is immutable; status and buffers are locked
    public let pid: pid_t
    private let output = LogBuffer()
    private let errors = LogBuffer()
    private let readers = DispatchGroup()
    private let exit = Mutex<Int32?>(nil)

    public init(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var out: [Int32] = [0, 0]
        var err: [Int32] = [0, 0]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw TestHostsError(message: "pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so no other child keeps these pipes open (pipe2 is not in Glibc's Swift
        // overlay; the dup2'ed copies the child uses do not inherit the flag).
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let merged = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        close(out[1])
        close(err[1])
        guard rc == 0 else {
            close(out[0])
            close(err[0])
            throw TestHostsError(message: "posix_spawn \(path): \(String(cString: strerror(rc)))")
        }
        pid = child
        for (fd, buffer) in [(out[0], output), (err[0], errors)] {
            readers.enter()
            Thread.detachNewThread { [readers] in
                var chunk = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = read(fd, &chunk, chunk.count)
                    if n > 0 { buffer.append(Data(chunk[0..<n])); continue }
                    if n < 0 && errno == EINTR { continue }
                    break
                }
                close(fd)
                readers.leave()
            }
        }
    }

    deinit { kill9() }

    public var stdout: String { output.text }
    public var stderr: String { errors.text }

    /// Reaps the child if it has exited; true while it runs.
    public var isRunning: Bool {
        exit.withLock { status in
            guard status == nil else { return false }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid { status = Self.decode(raw) }
            return r == 0
        }
    }

    /// Waits up to `timeout` seconds; nil when the child still runs.
    @discardableResult
    public func wait(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while isRunning {
            if Date() >= deadline { return nil }
            Thread.sleep(forTimeInterval: 0.005)
        }
        _ = readers.wait(timeout: .now() + 5)  // the pipes close when the child (and its children) exit
        return exit.withLock { $0 }
    }

    /// SIGTERM, then up to `grace` seconds, then SIGKILL. Returns the exit status.
    @discardableResult
    public func terminate(grace: Double = 20) -> Int32? {
        if isRunning { Glibc.kill(pid, SIGTERM) }
        if let status = wait(timeout: grace) { return status }
        kill9()
        return exit.withLock { $0 }
    }

    public func kill9() {
        if isRunning { Glibc.kill(pid, SIGKILL) }
        _ = wait(timeout: 30)
    }

    /// The shell's convention: the exit code, or 128 + the signal that ended the child.
    private static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// Runs a command to its end (at most `timeout` seconds, then SIGKILL) with stdout and stderr apart.
public func capture(_ executable: URL, _ arguments: [String], timeout: Double = 120,
                    environment: [String: String] = [:]) throws -> (status: Int32, stdout: String, stderr: String) {
    let child = try Spawned(executable.path, arguments, environment: environment)
    if child.wait(timeout: timeout) == nil { child.kill9() }
    return (child.wait(timeout: 30) ?? -1, child.stdout, child.stderr)
}
