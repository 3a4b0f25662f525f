import Foundation
import Glibc

/// Where a fleet's agents are: a list of URLs, a file of them, or every A/AAAA record of a DNS name
/// (a Kubernetes headless Service gives one per agent pod).
public enum AgentDirectory {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// URLs from a comma-separated list.
    public static func parse(list: String) throws(Failure) -> [URL] {
        var urls: [URL] = []
        for item in list.split(separator: ",") { urls.append(try url(item.trimmingCharacters(in: .whitespaces))) }
        return urls
    }

    /// URLs from a file, one a line (`#` comments and blank lines skipped).
    public static func parse(file path: String) throws(Failure) -> [URL] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw Failure(description: "cannot read --agents-file \(path)")
        }
        var urls: [URL] = []
        for line in text.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !line.isEmpty && !line.hasPrefix("#") {
            urls.append(try url(line))
        }
        return urls
    }

    /// One URL per address that `NAME:PORT` resolves to, IPv4 first, duplicates removed.
    public static func resolve(_ nameAndPort: String, scheme: String = "http") throws(Failure) -> [URL] {
        guard let colon = nameAndPort.lastIndex(of: ":"), let port = UInt16(nameAndPort[nameAndPort.index(after: colon)...]) else {
            throw Failure(description: "--dns '\(nameAndPort)' must be NAME:PORT")
        }
        let name = String(nameAndPort[..<colon])
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(name, String(port), &hints, &list)
        guard rc == 0 else {
            throw Failure(description: "--dns \(name): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var v4: [String] = []
        var v6: [String] = []
        var node = list
        while let entry = node {
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(entry.pointee.ai_addr, entry.pointee.ai_addrlen, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 {
                let text = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if entry.pointee.ai_family == AF_INET6 {
                    if !v6.contains(text) { v6.append(text) }
                } else if !v4.contains(text) {
                    v4.append(text)
                }
            }
            node = entry.pointee.ai_next
        }
        let hosts = v4 + v6.map { "[\($0)]" }
        guard !hosts.isEmpty else { throw Failure(description: "--dns \(name) has no A or AAAA records") }
        var urls: [URL] = []
        for host in hosts { urls.append(try url("\(scheme)://\(host):\(port)")) }
        return urls
    }

    static func url(_ text: String) throws(Failure) -> URL {
        guard let url = URL(string: text), url.scheme == "http" || url.scheme == "https", url.host != nil else {
            throw Failure(description: "'\(text)' is not an http:// or https:// agent URL")
        }
        return url
    }
}
