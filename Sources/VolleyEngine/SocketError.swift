import Glibc

/// A failed system call: which function, and the errno it left.
public struct SocketError: Error, Equatable, Sendable, CustomStringConvertible {
    public var function: String
    public var errno: Int32

    public init(_ function: String, errno: Int32) {
        self.function = function
        self.errno = errno
    }

    public var description: String { "\(function): \(String(cString: strerror(errno)))" }
}

/// Runs a call that returns -1 on failure, retrying on EINTR and turning any other errno into a
/// `SocketError` named after the calling function. EBADF and EFAULT are our own bugs, so they trap.
@discardableResult
func syscall<T: BinaryInteger>(_ function: String = #function, _ body: () -> T) throws(SocketError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        precondition(code != EBADF && code != EFAULT, "\(function) failed with \(code): a programming error")
        throw SocketError(function, errno: code)
    }
}
