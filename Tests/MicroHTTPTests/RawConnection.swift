import Foundation
import Glibc

/// A plain blocking TCP connection to the server under test, for what URLSession hides: which
/// connection a request uses, bytes sent one at a time, and the moment the server closes.
final class RawConnection {
    let fd: Int32

    /// Connects to 127.0.0.1:`port`; every read gives up after `readTimeout` seconds.
    init(port: UInt16, readTimeout: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawConnectionError("socket: \(errno)") }
        var tv = timeval(tv_sec: readTimeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            close(fd)
            throw RawConnectionError("connect: \(errno)")
        }
    }

    deinit { close(fd) }

    /// Sends all of `text`; false once the server has closed or reset the connection.
    @discardableResult
    func send(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Reads one response whose body is delimited by `Content-Length` (the server always sends one),
    /// or whatever arrives until the server closes. Empty when it closed without answering.
    func readResponse() -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            if let end = Self.responseEnd(data) { return String(decoding: data[..<end], as: UTF8.self) }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return String(decoding: data, as: UTF8.self) }
            data += chunk[..<n]
        }
    }

    /// True when the server closes the connection (a read sees the end or a reset) within the read timeout.
    func waitForClose() -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = recv(fd, &byte, 1, 0)
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }  // EAGAIN: the timeout passed with the connection open
        }
    }

    /// Waits up to `milliseconds` for the server to close the connection (it never sends anything
    /// unasked here, so anything readable, or an error, means the end).
    func closes(within milliseconds: Int32) -> Bool {
        var polled = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&polled, 1, milliseconds) > 0
    }

    private static func responseEnd(_ data: [UInt8]) -> Int? {
        let text = String(decoding: data, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n") else { return nil }
        let headers = text[..<head.lowerBound].lowercased()
        guard let line = headers.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let headBytes = text[..<head.upperBound].utf8.count
        return data.count >= headBytes + length ? headBytes + length : nil
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
