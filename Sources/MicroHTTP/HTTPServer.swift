import CMicroHTTPD
import Glibc

/// A small Swift face over libmicrohttpd: a pool of internal epoll threads (`Limits.threads`) accepts and
/// serves connections and calls `handler` with each complete request, so one slow handler holds up only
/// the connections of its own thread. Bodies over `maxBodyBytes` are answered 413 by the
/// server itself. The server knows nothing of what the handler does.
public final class HTTPServer: @unchecked Sendable {  // daemon pointer is written once in init, read in stop
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let port: UInt16
    let maxBodyBytes: Int
    /// An over-limit body up to this size is read and dropped before the 413 (so the client reads the
    /// answer); a larger one is refused at once.
    let discardBodyBytes: Int
    let handler: Handler
    let tooLarge: HTTPResponse
    /// The answer to a request on a connection accepted beyond `Limits.connections`.
    let busy: HTTPResponse
    let connections: ConnectionTable
    /// Ends the connections whose request is past `Limits.requestSeconds`; nil without a deadline.
    private let reaper: Reaper?
    private var daemon: OpaquePointer?
    /// PEM strings handed to libmicrohttpd, which keeps pointing at them while it runs.
    private var tlsMemory: [UnsafeMutablePointer<CChar>] = []

    /// A certificate chain and its private key, PEM-encoded: serve HTTPS (libmicrohttpd with GnuTLS).
    public struct TLS: Sendable {
        public var certificatePEM: String
        public var keyPEM: String
        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    /// How many connections the server keeps, and for how long.
    public struct Limits: Sendable {
        /// Connections at once, from everyone. Past this a request is answered with the `busy` response
        /// and its connection closed; libmicrohttpd itself refuses at accept, with no answer at all, only
        /// a little above it (`hardConnections`).
        public var connections: UInt32 = 1024
        /// Connections at once from one client address: a few slow clients cannot hold every slot.
        public var connectionsPerClient: UInt32 = 64
        /// A connection that sends nothing for this many seconds is closed.
        public var idleSeconds: UInt32 = 10
        /// A request's header and body must arrive within this many seconds, however steadily the bytes
        /// trickle in (the idle timeout alone never ends a client sending a byte a second). 0: no deadline.
        public var requestSeconds: UInt32 = 30
        /// See `HTTPServer.discardBodyBytes`.
        public var discardBodyBytes = 1 << 20
        /// Threads that serve connections. Each connection stays on the thread that accepted it, and a
        /// handler runs on that thread: with one thread a handler that blocks (a slow disk, a lock)
        /// would stall every other client. libmicrohttpd splits `connections` among the threads.
        public var threads: UInt32 = 4
        public init() {}

        /// libmicrohttpd's own limit: room above `connections` so the connections past it are accepted
        /// and told `busy`. libmicrohttpd divides it among the threads, so each thread gets a few spare.
        var hardConnections: UInt32 { connections + max(connections / 8, 4 * max(threads, 1)) }
    }

    /// Starts serving on `host:port` (port 0 picks a free one; read it back from `port`).
    public init(host: String, port: UInt16, maxBodyBytes: Int, tls: TLS? = nil, limits: Limits = Limits(),
                tooLarge: HTTPResponse, busy: HTTPResponse = HTTPServer.plainBusy,
                handler: @escaping Handler) throws(HTTPServerError) {
        let connections = ConnectionTable(softLimit: Int(limits.connections), requestSeconds: limits.requestSeconds,
                                          idleSeconds: limits.idleSeconds)
        self.connections = connections
        reaper = limits.requestSeconds == 0 ? nil : try Reaper(every: .seconds(1)) { connections.cutOverdue() }
        let listener: (fd: Int32, port: UInt16, ipv6: Bool)
        do {
            listener = try ListenSocket.open(host: host, port: port)
        } catch {
            reaper?.stop()
            throw error
        }
        self.port = listener.port
        self.maxBodyBytes = maxBodyBytes
        discardBodyBytes = max(maxBodyBytes, limits.discardBodyBytes)
        self.tooLarge = tooLarge.prepared()  // answered by the server itself, maybe many times
        self.busy = busy.prepared()
        self.handler = handler
        // MHD_USE_EPOLL_INTERNAL_THREAD is MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, which is what
        // MHD_OPTION_THREAD_POOL_SIZE asks for.
        var flags = MHD_USE_EPOLL_INTERNAL_THREAD.rawValue | MHD_USE_ERROR_LOG.rawValue
        if listener.ipv6 { flags |= MHD_USE_IPv6.rawValue }
        var tlsOptions: [CVarArg] = []
        if let tls {
            guard MHD_is_feature_supported(.FEATURE_TLS) == .YES else {
                close(listener.fd)
                reaper?.stop()
                throw HTTPServerError("this libmicrohttpd was built without TLS support")
            }
            flags |= MHD_USE_TLS.rawValue
            let cert = strdup(tls.certificatePEM)!
            let key = strdup(tls.keyPEM)!
            tlsMemory = [cert, key]
            tlsOptions = [MHD_OPTION.HTTPS_MEM_CERT.rawValue, cert, MHD_OPTION.HTTPS_MEM_KEY.rawValue, key]
        }
        let cls = Unmanaged.passUnretained(self).toOpaque()
        // Keep the URL and query arguments exactly as sent: a decoded "%3F" or "%2F" in the path
        // would otherwise be indistinguishable from a real "?" or "/" when routing. Paths are
        // decoded per segment (by the router) and arguments one by one (HTTPRequest).
        let keepEscapes: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int = { _, _, s in
            s.map { strlen($0) } ?? 0
        }
        let completed: MHD_RequestCompletedCallback = { cls, connection, context, _ in
            if let cls, let connection {
                Unmanaged<HTTPServer>.fromOpaque(cls)._withUnsafeGuaranteedRef { server in
                    _ = ConnectionInfo.withState(of: connection) { server.connections.completed($0) }
                }
            }
            guard let context, let raw = context.pointee else { return }
            Unmanaged<RequestContext>.fromOpaque(raw).release()
            context.pointee = nil
        }
        let poolOptions: [CVarArg] = limits.threads > 1 ? [MHD_OPTION.THREAD_POOL_SIZE.rawValue, limits.threads] : []
        let options: [CVarArg] = [
            MHD_OPTION.LISTEN_SOCKET.rawValue, listener.fd,
            MHD_OPTION.CONNECTION_TIMEOUT.rawValue, limits.idleSeconds,
            MHD_OPTION.CONNECTION_LIMIT.rawValue, limits.hardConnections,
            MHD_OPTION.PER_IP_CONNECTION_LIMIT.rawValue, limits.connectionsPerClient,
            MHD_OPTION.NOTIFY_COMPLETED.rawValue, unsafeBitCast(completed, to: OpaquePointer.self), OpaquePointer(cls),
            MHD_OPTION.NOTIFY_CONNECTION.rawValue, unsafeBitCast(connectionNotified, to: OpaquePointer.self), OpaquePointer(cls),
            MHD_OPTION.UNESCAPE_CALLBACK.rawValue, unsafeBitCast(keepEscapes, to: OpaquePointer.self), Int(0),
        ] + poolOptions + tlsOptions + [MHD_OPTION.END.rawValue]
        daemon = withVaList(options) { args in
            MHD_start_daemon_va(UInt32(flags), 0, nil, nil, accessHandler, cls, args)
        }
        guard daemon != nil else {
            close(listener.fd)
            tlsMemory.forEach { free($0) }
            reaper?.stop()
            throw HTTPServerError(tls == nil ? "libmicrohttpd could not start on \(host):\(port)"
                                             : "libmicrohttpd could not start HTTPS on \(host):\(port): check the certificate and key")
        }
    }

    /// Stops accepting, finishes the connection work in flight, joins the server threads and the
    /// deadline thread.
    public func stop() {
        if let daemon {
            MHD_stop_daemon(daemon)
            self.daemon = nil
        }
        reaper?.stop()
        tlsMemory.forEach { free($0) }
        tlsMemory = []
    }

    deinit { stop() }

    /// The `busy` answer of a caller that gives none.
    public static let plainBusy = HTTPResponse(status: 503, contentType: "text/plain", body: Array("busy\n".utf8),
                                               headers: [("Retry-After", "1"), ("Connection", "close")])
}
