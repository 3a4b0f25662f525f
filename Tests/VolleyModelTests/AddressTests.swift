import Testing
@testable import VolleyModel

@Suite struct AddressTests {
    @Test func ipv4AndIPv6LiteralsParseAndPrint() {
        #expect(IPAddress("10.1.2.3")?.bytes == [10, 1, 2, 3])
        #expect(IPAddress("::1")?.description == "::1")
        #expect(IPAddress("999.1.1.1") == nil)
        #expect(IPAddress("host") == nil)
    }

    @Test func mappedIPv4FoldsToIPv4SoTheAllowlistSeesIt() {
        #expect(IPAddress("::ffff:10.0.0.1") == IPAddress("10.0.0.1"))
        #expect(!CIDR.loopback.contains { $0.contains(IPAddress("::ffff:10.0.0.1")!) })
        #expect(CIDR.loopback.contains { $0.contains(IPAddress("::ffff:127.0.0.1")!) })
    }

    @Test func cidrContainment() throws {
        let block = try #require(CIDR("10.20.0.0/14"))
        #expect(block.contains(IPAddress("10.23.255.255")!))
        #expect(!block.contains(IPAddress("10.24.0.0")!))
        #expect(!block.contains(IPAddress("::1")!))
        #expect(CIDR("0.0.0.0/0")!.contains(IPAddress("8.8.8.8")!))
        #expect(CIDR("fd00::/8")!.contains(IPAddress("fd12::1")!))
        #expect(CIDR("10.0.0.1")!.prefixLength == 32)
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("10.0.0.0/x") == nil)
    }

    @Test func addressesWithANulAreRefused() {  // inet_pton stopped at the NUL and accepted the prefix
        #expect(IPAddress("127.0.0.1\u{0}.example") == nil)
        let endpoint = "127.0.0.1\u{0}x:9000"
        #expect(throws: Endpoint.ParseError.badHost(endpoint)) { try Endpoint(parsing: endpoint) }
        #expect(CIDR("::1\u{0}/128") == nil)
    }

    @Test func defaultAllowlistIsLoopbackOnly() {
        let allowed = { (text: String) in CIDR.loopback.contains { $0.contains(IPAddress(text)!) } }
        #expect(allowed("127.0.0.1") && allowed("127.255.0.9") && allowed("::1"))
        #expect(!allowed("0.0.0.0") && !allowed("192.0.2.1") && !allowed("::2"))
    }

    @Test func jobIDsAreSafeFileNames() {
        let id = JobID.generate()
        #expect(JobID.isValid(id.rawValue))
        #expect(JobID("a.b_c-D9") != nil)
        for bad in ["", ".hidden", "..", "a/b", "a b", "é", String(repeating: "a", count: 65), "a%2Fb"] {
            #expect(JobID(bad) == nil, "\(bad)")
        }
    }

    @Test func generatedIDsSortByCreationTime() {
        let early = JobID.generate(now: .init(timeIntervalSince1970: 1_000))
        let late = JobID.generate(now: .init(timeIntervalSince1970: 2_000))
        #expect(early < late)
    }

    @Test func timestampsAreRFC3339WithMilliseconds() {
        let t = Timestamp(.init(timeIntervalSince1970: 1_700_000_000.123))
        #expect(t.description == "2023-11-14T22:13:20.123Z")
        #expect(Timestamp(rfc3339: t.description) == t)
        #expect(Timestamp(rfc3339: "2023-11-14T22:13:20Z") != nil)
        #expect(Timestamp(rfc3339: "yesterday") == nil)
    }
}

@Suite struct RFC3339Tests {
    @Test func validTimesParseExactly() throws {
        let cases: [(String, String)] = [
            ("2026-11-26T18:16:08.123Z", "2026-11-26T18:16:08.123Z"),
            ("2026-11-26t18:16:08z", "2026-11-26T18:16:08.000Z"),
            ("2026-11-26T18:16:08.1234567890Z", "2026-11-26T18:16:08.123Z"),
            ("2541-11-17T08:26:36+23:05", "2541-11-16T09:21:36.000Z"),
            ("2026-01-01T00:30:00-01:00", "2026-01-01T01:30:00.000Z"),
            ("2024-02-29T12:00:00Z", "2024-02-29T12:00:00.000Z"),
            ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
        ]
        for (text, canonical) in cases {
            let t = try #require(Timestamp(rfc3339: text), "\(text)")
            #expect(t.description == canonical, "\(text)")
        }
    }

    @Test(arguments: ["2026-11-26T18:16:08Zx", "2026-11-26T18:16:08UTC", "2026-11-26T25:00:00Z", "2026-02-31T00:00:00Z",
                      "2025-02-29T00:00:00Z", "2026-11-26T18:16:08+05", "2026-11-26T18:16:08+0530", "2026-11-26 18:16:08Z",
                      "2026-11-26T18:16:08.Z", "2026-11-26", "yesterday", ""])
    func invalidTimesAreRefused(text: String) {
        #expect(Timestamp(rfc3339: text) == nil, "\(text)")
    }
}
