import CBatchIO
import Glibc
import VolleyModel

/// Opens and configures a job's sockets, mapping failures to `EngineError` for the API.
enum SocketSetup {
    /// A connected socket toward `target` with its own ephemeral source port.
    static func sender(to target: Endpoint, spec: JobSpec, options: EngineOptions) throws(EngineError) -> UDPSocket {
        let socket: UDPSocket
        do {
            socket = try UDPSocket(family: target.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            if let bytes = options.sendBufferBytes {
                try socket.setOption(SOL_SOCKET, SO_SNDBUF, bytes)
            } else {
                socket.requestBuffer(receive: false, bytes: options.socketBufferBytes)
            }
            if spec.mode == .echo {
                socket.requestBuffer(receive: true, bytes: options.socketBufferBytes)
                try socket.setOption(SOL_SOCKET, CBatchIO_SO_RXQ_OVFL, 1)
                if spec.timestamps == .kernel { try socket.enableReceiveTimestamps() }
            }
            try socket.connect(target)
        } catch {
            throw EngineError(binding: target, error)
        }
        if spec.gso { try checkSegmentFitsPath(socket, target: target, spec: spec) }
        return socket
    }

    /// For `POST /v1/validate`: a GSO job's segment against the path MTU, with a socket that is only
    /// connected (no buffers, no traffic) and closed at once. Other jobs need nothing here.
    static func checkPath(_ spec: JobSpec) throws(EngineError) {
        guard spec.gso, spec.mode.originates, let target = spec.target else { return }
        let socket: UDPSocket
        do {
            socket = try UDPSocket(family: target.family)
            try socket.connect(target)
        } catch {
            throw EngineError(binding: target, error)
        }
        try checkSegmentFitsPath(socket, target: target, spec: spec)
    }

    /// A GSO segment is one datagram on the wire, and the kernel refuses (EINVAL, every call) a
    /// segment larger than the path MTU allows; so such a job is refused before it starts, naming
    /// `payload_bytes` and the largest payload that fits.
    private static func checkSegmentFitsPath(_ socket: UDPSocket, target: Endpoint, spec: JobSpec) throws(EngineError) {
        let mtu = Int(CBatchIO_path_mtu(socket.fd, target.family))
        guard mtu > 0 else { return }  // unknown: the send loop's skip policy counts any refusal
        let headers = target.address.isIPv6 ? 48 : 28
        let largest = mtu - headers
        if spec.payloadBytes > largest {
            throw .segmentExceedsPath(payloadBytes: spec.payloadBytes, largest: largest, mtu: mtu)
        }
    }

    /// `count` sockets bound to `listen` for one job's receiving threads. One socket binds plainly;
    /// several share the port through SO_REUSEPORT, which would also let them join another process's
    /// group on that port and take its traffic. So the port is first bound without SO_REUSEPORT (any
    /// holder makes that fail), and after binding, `/proc/net/udp` must list no socket but ours.
    static func receivers(at listen: Endpoint, count: Int, spec: JobSpec,
                          options: EngineOptions) throws(EngineError) -> [UDPSocket] {
        guard count > 1 else { return [try receiver(at: listen, spec: spec, options: options, shared: false)] }
        _ = try receiver(at: listen, spec: spec, options: options, shared: false)  // probe, closed at once
        var sockets: [UDPSocket] = []
        for _ in 0..<count { sockets.append(try receiver(at: listen, spec: spec, options: options, shared: true)) }
        let ours = Set(sockets.compactMap(PortOwners.inode(of:)))
        let holders: Set<UInt64>
        do {
            holders = try PortOwners.inodes(holding: listen)
        } catch {
            throw .socket(error)  // a 500 naming the table: threads 1 needs no check
        }
        guard holders.isSubset(of: ours) else { throw .addressInUse(listen) }
        return sockets
    }

    /// Checks, without keeping anything, that a job's address works now: binds its listen address
    /// (nobody else holds it) or connects toward its target. For jobs that start later.
    static func probe(_ spec: JobSpec, options: EngineOptions) throws(EngineError) {
        if let target = spec.target, spec.mode.originates {
            _ = try sender(to: target, spec: spec, options: options)
        } else if let listen = spec.listen {
            _ = try receiver(at: listen, spec: spec, options: options, shared: false)
        }
    }

    /// A socket bound to `listen`, with SO_REUSEPORT when `shared`.
    private static func receiver(at listen: Endpoint, spec: JobSpec, options: EngineOptions,
                                 shared: Bool) throws(EngineError) -> UDPSocket {
        let socket: UDPSocket
        do {
            socket = try UDPSocket(family: listen.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            socket.requestBuffer(receive: true, bytes: options.socketBufferBytes)
            if spec.mode == .reflect { socket.requestBuffer(receive: false, bytes: options.socketBufferBytes) }
            if shared { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
            if listen.address.isIPv6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            if spec.gro { try socket.setOption(CBatchIO_SOL_UDP, CBatchIO_UDP_GRO, 1) }
            // Every datagram read then says how many the kernel dropped at this socket's queue.
            try socket.setOption(SOL_SOCKET, CBatchIO_SO_RXQ_OVFL, 1)
            if spec.timestamps == .kernel { try socket.enableReceiveTimestamps() }
            // A STAMP reflector stamps T2 with the kernel's receive time and copies the sender's TTL.
            if spec.mode == .reflect && spec.echoProtocol == .stamp {
                try socket.enableReceiveTimestamps()
                try socket.enableReceiveTTL()
            }
        } catch {
            throw EngineError(binding: listen, error)
        }
        do {
            try socket.bind(listen)
        } catch {
            throw EngineError(binding: listen, error)
        }
        return socket
    }
}
