/// What a handler answers: a status, headers in order, and a body.
public struct HTTPResponse: Sendable {
    public var status: Int {
        didSet { ready = nil }
    }
    public var headers: [(name: String, value: String)] {
        didSet { ready = nil }
    }
    public var body: [UInt8] {
        didSet { ready = nil }
    }
    /// This very response already built into libmicrohttpd (`prepared()`); any change above drops it.
    var ready: PreparedResponse?

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a `Content-Type` header.
    public init(status: Int, contentType: String, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.init(status: status, headers: [("Content-Type", contentType)] + headers, body: body)
    }

    /// The same response, built into libmicrohttpd now, for one that is given many times (a health
    /// answer, a finished job): each request it answers then queues that one build instead of copying
    /// the body and adding every header again. Changing the copy afterwards drops the build.
    public func prepared() -> HTTPResponse {
        var copy = self
        copy.ready = PreparedResponse(self)
        return copy
    }

    /// Whether `prepared()` built it (for tests).
    public var isPrepared: Bool { ready?.pointer != nil }
}
