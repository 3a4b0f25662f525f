import Foundation
import MicroHTTP
import Testing
@testable import VolleyAgent

/// The `Host` check reads ASCII headers byte by byte and remembers values it allowed (both for the
/// speed of `GET /v1/jobs/{id}`); it must judge every header as the character-wise reading did.
@Suite struct HostHeaderTests {
    @Test func asciiHeadersReadAsTheCharacterWiseReadingDid() {
        let headers = ["127.0.0.1:8080", " LocalHost ", "[::1]:80", "[::1]", "::1", "Example.COM:443", "\tlocalhost\t",
                       "a:b:c", "", "  ", "[fe80::1", "host:", ":80", "[]", "192.0.2.1 :1", "LOCALHOST:8080"]
        for header in headers {
            #expect(BrowserGuard.hostName(header) == BrowserGuard.characterHostName(header), "\(header)")
            #expect(BrowserGuard.trimmingSpaces(header) == header.trimmingCharacters(in: .whitespaces), "\(header)")
        }
        #expect(BrowserGuard.hostName(" [::1]:8080 ") == "::1")
        #expect(BrowserGuard.hostName("Volley.Example:80") == "volley.example")
        #expect(BrowserGuard.trimmingSpaces("\u{00A0}é\u{3000}") == "é")  // not ASCII: Foundation's reading
    }

    @Test func aRememberedHostNeverLetsAnotherOneIn() {
        let browsers = BrowserGuard(serverNames: ["volley.example"], hasToken: false)
        let request = { (host: String) in HTTPRequest(method: "GET", path: "/v1/jobs", headers: ["host": host]) }
        for _ in 0..<3 {
            #expect(browsers.refusal(request("127.0.0.1:8080")) == nil)
            #expect(browsers.refusal(request("volley.example")) == nil)
            #expect(browsers.refusal(request("evil.example"))?.code == "host_not_allowed")
            #expect(browsers.refusal(request("127.0.0.1.evil.example"))?.code == "host_not_allowed")
        }
        // Past the memo's bound, allowed values are still allowed and refused ones still refused.
        for port in 1...200 { #expect(browsers.refusal(request("127.0.0.1:\(port)")) == nil) }
        #expect(browsers.refusal(request("evil.example:80"))?.code == "host_not_allowed")
        #expect(browsers.refusal(request("[::1]:9")) == nil)
    }
}
