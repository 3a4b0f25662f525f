import Glibc

/// Why the server could not start listening.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { message }

    init(_ message: String) { self.message = message }

    static func system(_ what: String, _ host: String, _ port: UInt16) -> HTTPServerError {
        HTTPServerError("\(what) \(host):\(port): \(String(cString: strerror(errno)))")
    }
}

/// A bound, listening TCP socket for libmicrohttpd to accept on; we create it ourselves so that
/// port 0 works and the real port can be read back.
enum ListenSocket {
    static func open(host: String, port: UInt16, backlog: Int32 = 128) throws(HTTPServerError) -> (fd: Int32, port: UInt16, ipv6: Bool) {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(bare, String(port), &hints, &info) == 0, let first = info else {
            throw HTTPServerError("'\(host)' is not an IP address to listen on")
        }
        defer { freeaddrinfo(info) }
        let family = first.pointee.ai_family
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .system("socket for", host, port) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if family == AF_INET6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let error = HTTPServerError.system("cannot listen on", host, port)
            close(fd)
            throw error
        }
        guard listen(fd, backlog) == 0 else {
            let error = HTTPServerError.system("listen on", host, port)
            close(fd)
            throw error
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let bound: UInt16 = withUnsafeBytes(of: &storage) { raw in
            family == AF_INET6 ? UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
                               : UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
        return (fd, bound, family == AF_INET6)
    }
}
