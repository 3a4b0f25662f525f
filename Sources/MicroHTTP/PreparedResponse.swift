import CMicroHTTPD

/// A response built into libmicrohttpd once and queued as it is for every request answered with it:
/// no copy of the body and no header added per request. libmicrohttpd counts the connections that
/// hold a response ("allocate a response for each response kind, use it every time", its manual,
/// §8), under a lock of its own, so it lives until the last of them has sent it, however early this
/// object goes, and the threads of the pool may queue it at once.
final class PreparedResponse: @unchecked Sendable {  // `pointer` is written once; libmicrohttpd locks its count
    /// Nil when libmicrohttpd could not build it (out of memory): `queue` then builds per request.
    let pointer: OpaquePointer?

    init(_ response: HTTPResponse) { pointer = Self.build(response) }

    deinit {
        if let pointer { MHD_destroy_response(pointer) }
    }

    /// `response` as a new libmicrohttpd response (the body copied in), or nil when it cannot be made.
    static func build(_ response: HTTPResponse) -> OpaquePointer? {
        let made = response.body.withUnsafeBytes { bytes in
            MHD_create_response_from_buffer(bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                                            .RESPMEM_MUST_COPY)
        }
        guard let made else { return nil }
        for header in response.headers {
            _ = MHD_add_response_header(made, header.name, header.value)
        }
        return made
    }
}
