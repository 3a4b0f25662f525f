/// A UDP endpoint written `host:port` or `[v6]:port`. The host is an IP literal or `localhost`
/// (which means 127.0.0.1); names are not resolved so that the target allowlist checks what is sent to.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let port: UInt16

    public init(address: IPAddress, port: UInt16) {
        self.address = address
        self.port = port
    }

    /// Why a `host:port` string was refused, in words a person can act on.
    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case missingPort(String)
        case badPort(String)
        case badHost(String)

        public var description: String {
            switch self {
            case .missingPort(let s): "'\(s)' has no port: write host:port, e.g. 127.0.0.1:9000 or [::1]:9000"
            case .badPort(let s): "'\(s)' has no valid port: use a number from 1 to 65535"
            case .badHost(let s): "'\(s)' is not an IP address: use an IPv4/IPv6 literal or localhost"
            }
        }
    }

    /// Parses `host:port`; with a `defaultPort`, a bare host (`192.0.2.1`, `[::1]`, `::1`) takes it.
    public init(parsing text: String, defaultPort: UInt16? = nil) throws(ParseError) {
        if let defaultPort {
            let bare = text.hasPrefix("[") && text.hasSuffix("]") ? String(text.dropFirst().dropLast()) : text
            let literal = bare == "localhost" ? "127.0.0.1" : bare
            if let address = IPAddress(literal), !bare.isEmpty {
                self.init(address: address, port: defaultPort)
                return
            }
        }
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .badHost(text) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .missingPort(text) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .missingPort(text) }
            host = text[..<colon]
            if host.contains(":") { throw .badHost(text) }  // bare IPv6 needs brackets
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText), port > 0 else { throw .badPort(text) }
        let literal = host == "localhost" ? "127.0.0.1" : String(host)
        guard let address = IPAddress(literal) else { throw .badHost(text) }
        self.init(address: address, port: port)
    }

    public var description: String {
        address.isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

extension Endpoint: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
