import CMicroHTTPD

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

/// Reads a connection's socket through `MHD_get_connection_info` (variadic, hence the C wrapper).
enum ConnectionInfo {
    /// The connection's socket, or -1 when libmicrohttpd does not say.
    static func fd(of connection: OpaquePointer) -> Int32 {
        cmhd_connection_fd(connection)
    }
}
