import CMicroHTTPD

/// libmicrohttpd's per-connection notifications (MHD_OPTION_NOTIFY_CONNECTION): STARTED when a
/// connection is accepted, CLOSED just before libmicrohttpd closes its socket (MHD_cleanup_connections
/// in 0.9.75 calls the notification, then closes). Both run on the pool thread that owns the
/// connection. The connection's `ConnectionState` lives in its socket context in between, holding
/// one reference of its own, so every request finds it without the table's lock.
let connectionNotified: MHD_NotifyConnectionCallback = { cls, connection, socketContext, event in
    guard let cls, let connection else { return }
    Unmanaged<HTTPServer>.fromOpaque(cls)._withUnsafeGuaranteedRef { server in
        switch event {
        case .CONNECTION_NOTIFY_STARTED:
            let state = server.connections.opened(connection, fd: ConnectionInfo.fd(of: connection))
            socketContext?.pointee = Unmanaged.passRetained(state).toOpaque()
        case .CONNECTION_NOTIFY_CLOSED:
            server.connections.closed(connection)
            if let raw = socketContext?.pointee {
                Unmanaged<ConnectionState>.fromOpaque(raw).release()
                socketContext?.pointee = nil
            }
        }
    }
}

/// Reads a connection's socket and state through `MHD_get_connection_info` (variadic, hence the C
/// wrappers).
enum ConnectionInfo {
    /// The connection's socket, or -1 when libmicrohttpd does not say.
    static func fd(of connection: OpaquePointer) -> Int32 {
        cmhd_connection_fd(connection)
    }

    /// `body` applied to the connection's state, borrowed from the socket context (no reference
    /// taken: libmicrohttpd calls nothing for a connection after its CLOSED notification); nil when
    /// the connection has none.
    @inline(__always)
    static func withState<T>(of connection: OpaquePointer, _ body: (ConnectionState) -> T) -> T? {
        guard let raw = cmhd_connection_socket_context(connection) else { return nil }
        return Unmanaged<ConnectionState>.fromOpaque(raw)._withUnsafeGuaranteedRef(body)
    }
}
