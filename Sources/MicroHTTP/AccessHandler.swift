import CMicroHTTPD

/// libmicrohttpd's access handler. It is called several times per request: first with no body
/// (we set up a context and, unless the declared body is too large, answer nothing yet), then once
/// per uploaded chunk, then once more with no data, when the whole request is passed to the handler.
/// Answering on a later call than the first keeps keep-alive connections open.
/// The server is borrowed for the call, not retained: its count is one cache line that every pool
/// thread would write twice per request.
let accessHandler: MHD_AccessHandlerCallback = { cls, connection, url, method, _, uploadData, uploadSize, context in
    guard let cls, let connection, let context, let uploadSize else { return .NO }
    return Unmanaged<HTTPServer>.fromOpaque(cls)._withUnsafeGuaranteedRef { server in
        access(server, connection, url, method, uploadData, uploadSize, context)
    }
}

private func access(_ server: HTTPServer, _ connection: OpaquePointer, _ url: UnsafePointer<CChar>?,
                    _ method: UnsafePointer<CChar>?, _ uploadData: UnsafePointer<CChar>?,
                    _ uploadSize: UnsafeMutablePointer<Int>, _ context: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {

    guard let raw = context.pointee else {
        let state = RequestContext()
        context.pointee = Unmanaged.passRetained(state).toOpaque()
        if let length = MHD_lookup_connection_value(connection, .HEADER_KIND, "Content-Length"),
           let declared = Int(String(cString: length)), declared > server.maxBodyBytes {
            // Up to a bound, read the body and drop it, answering 413 once it is in: a client still
            // sending when the connection closes sees "broken pipe", not the JSON error. Past the
            // bound, refuse at once (and close) rather than read megabytes for nothing.
            guard declared <= server.discardBodyBytes else {
                state.answered = true
                return queue(server.tooLarge, on: connection)
            }
            state.tooLarge = true
        }
        return .YES
    }
    let state = Unmanaged<RequestContext>.fromOpaque(raw).takeUnretainedValue()

    if uploadSize.pointee > 0 {
        let size = uploadSize.pointee
        uploadSize.pointee = 0
        if state.answered { return .YES }  // discard what follows a refusal
        state.discarded += size
        if state.tooLarge || state.body.count + size > server.maxBodyBytes {
            // Too large: drop it and keep reading (the 413 goes out when the body is in), unless the
            // client sends past the bound; then answer now and let the connection close.
            state.tooLarge = true
            state.body = []
            guard state.discarded > server.discardBodyBytes else { return .YES }
            state.answered = true
            return queue(server.tooLarge, on: connection)
        }
        guard let uploadData else { return .NO }
        uploadData.withMemoryRebound(to: UInt8.self, capacity: size) {
            state.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: size))
        }
        return .YES
    }
    if state.answered { return .YES }
    state.answered = true
    // The whole request is in: its deadline no longer runs while the handler works.
    let overLimit = ConnectionInfo.withState(of: connection) { server.connections.received($0) } ?? false
    if state.tooLarge { return queue(server.tooLarge, on: connection) }
    if overLimit { return queue(server.busy, on: connection) }

    // libmicrohttpd has already cut the query string off; the path is still percent-encoded.
    let path = url.map { String(cString: $0) } ?? "/"
    let values = RequestValues.collect(connection)
    let request = HTTPRequest(
        method: method.map { String(cString: $0) } ?? "GET",
        path: path.isEmpty ? "/" : path,
        query: values.query.isEmpty ? [:] : HTTPRequest.decodeQuery(values.query),
        fields: values.fields,
        body: state.body)
    return queue(server.handler(request), on: connection)
}

/// Queues a response on the connection: a prepared one as it is, any other copied into libmicrohttpd.
func queue(_ response: HTTPResponse, on connection: OpaquePointer) -> MHD_Result {
    if let ready = response.ready?.pointer { return MHD_queue_response(connection, UInt32(response.status), ready) }
    guard let made = PreparedResponse.build(response) else { return .NO }
    defer { MHD_destroy_response(made) }
    return MHD_queue_response(connection, UInt32(response.status), made)
}
