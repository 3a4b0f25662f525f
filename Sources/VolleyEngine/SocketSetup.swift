import CBatchIO
import Glibc
import VolleyModel

/// Opens and configures a job's sockets, mapping failures to `EngineError` for the API.
enum SocketSetup {
    /// A connected socket toward `target` with its own ephemeral source port.
    static func sender(to target: Endpoint, spec: JobSpec, options: EngineOptions) throws(EngineError) -> UDPSocket {
        do {
            let socket = try UDPSocket(family: target.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            if let bytes = options.sendBufferBytes {
                try socket.setOption(SOL_SOCKET, SO_SNDBUF, bytes)
            } else {
                socket.requestBuffer(receive: false, bytes: options.socketBufferBytes)
            }
            if spec.mode == .echo { socket.requestBuffer(receive: true, bytes: options.socketBufferBytes) }
            try socket.connect(target)
            return socket
        } catch {
            throw EngineError(binding: target, error)
        }
    }

    /// A socket bound to `listen`; shared with the job's other threads through SO_REUSEPORT.
    static func receiver(at listen: Endpoint, spec: JobSpec, options: EngineOptions) throws(EngineError) -> UDPSocket {
        let socket: UDPSocket
        do {
            socket = try UDPSocket(family: listen.family)
            try socket.setTimeouts(milliseconds: options.socketTimeoutMilliseconds)
            socket.requestBuffer(receive: true, bytes: options.socketBufferBytes)
            if spec.mode == .reflect { socket.requestBuffer(receive: false, bytes: options.socketBufferBytes) }
            if spec.threads > 1 { try socket.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
            if listen.address.isIPv6 { try socket.setOption(Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
            if spec.gro { try socket.setOption(CBatchIO_SOL_UDP, CBatchIO_UDP_GRO, 1) }
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
