import CMicroHTTPD
import Glibc

/// libmicrohttpd's per-connection notifications (MHD_OPTION_NOTIFY_CONNECTION): STARTED when a
/// connection is accepted, CLOSED just before libmicrohttpd closes its socket (MHD_cleanup_connections
/// in 0.9.75 calls the notification, then closes). Both run on the pool thread that owns the connection.
let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, _, event in
    guard let cls, let connection else { return }
    let server = Unmanaged<HTTPServer>.fromOpaque(cls).takeUnretainedValue()
    switch event {
    case .CONNECTION_NOTIFY_STARTED: server.connections.opened(connection, fd: ConnectionInfo.fd(of: connection))
    case .CONNECTION_NOTIFY_CLOSED: server.connections.closed(connection)
    }
}

/// Reads a connection's socket through `MHD_get_connection_info`.
enum ConnectionInfo {
    /// `MHD_get_connection_info` is variadic, so Swift does not import it, and the C module is not ours
    /// to extend here. It is called through a fixed-argument pointer to the same symbol: on the Linux
    /// ABIs (x86-64 System V, AArch64) the named arguments travel the same way, and this call passes
    /// no variadic ones.
    private typealias Function = @convention(c) (OpaquePointer?, MHD_ConnectionInfoType) -> UnsafePointer<MHD_ConnectionInfo>?
    private static let function: Function? = dlsym(nil, "MHD_get_connection_info").map { unsafeBitCast($0, to: Function.self) }

    /// The connection's socket, or -1 when libmicrohttpd does not say.
    static func fd(of connection: OpaquePointer) -> Int32 {
        guard let info = function?(connection, .CONNECTION_INFO_CONNECTION_FD) else { return -1 }
        return info.pointee.connect_fd
    }
}
