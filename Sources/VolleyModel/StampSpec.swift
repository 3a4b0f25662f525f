/// The wire protocol of an echo or reflect job: Volley's own 32-byte stamp, or the IETF's STAMP
/// (RFC 8762 unauthenticated mode, with the RFC 8972 SSID and TLVs), which routers and probes speak.
public enum EchoProtocol: String, Codable, Sendable, CaseIterable {
    case volley
    case stamp
}

/// The format of the timestamps a STAMP party writes (the Z bit of its Error Estimate).
public enum StampTimestampFormat: String, Codable, Sendable, CaseIterable {
    /// NTP 64-bit: seconds since 1900 and a 32-bit binary fraction (Z = 0, the default).
    case ntp
    /// PTPv2 truncated: 32-bit seconds and 32-bit nanoseconds since 1970 on TAI (Z = 1).
    case ptp
}

extension JobSpec {
    /// The STAMP port (IANA "stamp", RFC 8762 §4.1) a spec's endpoint gets when it names none.
    public static let stampPort: UInt16 = 862
    /// Bytes of an unauthenticated STAMP test packet without TLVs (both directions).
    public static let stampBaseBytes = 44
    /// Bytes of a STAMP TLV's header (flags, type, length): a padded test packet is 44 bytes, or at
    /// least 48 so that its padding is one Extra Padding TLV (RFC 8972 §4.1).
    public static let stampTLVHeaderBytes = 4

    /// The smallest payload an echo job's datagrams may have: the stamp they carry.
    var minimumEchoPayload: Int { echoProtocol == .stamp ? Self.stampBaseBytes : Self.stampBytes }

    /// STAMP's cross-field rules; the error names the field.
    func validateStamp() throws(SpecError) {
        guard echoProtocol == .stamp else {
            if stateful { throw SpecError(field: "stateful", "'stateful' is a STAMP setting: it needs \"protocol\": \"stamp\"") }
            if ssid != nil { throw SpecError(field: "ssid", "'ssid' is a STAMP setting: it needs \"protocol\": \"stamp\"") }
            if timestampFormat != .ntp {
                throw SpecError(field: "timestamp_format", "'timestamp_format' is a STAMP setting: it needs \"protocol\": \"stamp\"")
            }
            return
        }
        if let ssid, !(1...65535).contains(ssid) {
            throw SpecError(field: "ssid", "field 'ssid' is \(ssid); a STAMP session identifier is 1 to 65535 (RFC 8972 §3)")
        }
        if mode == .reflect && gro {
            throw SpecError(field: "gro", "'gro' cannot be used with \"protocol\": \"stamp\": every STAMP reply is built and timestamped on its own")
        }
        guard mode == .echo else { return }
        let badSize = { (bytes: Int) in bytes != Self.stampBaseBytes && bytes < Self.stampBaseBytes + Self.stampTLVHeaderBytes }
        if let sizes {
            if let (i, entry) = sizes.enumerated().first(where: { badSize($0.element.bytes) }) {
                throw SpecError(field: "sizes[\(i)].bytes", "field 'sizes[\(i)].bytes' is \(entry.bytes); a STAMP test packet is 44 bytes, or at least 48 (44 and an Extra Padding TLV)")
            }
        } else if badSize(payloadBytes) {
            throw SpecError(field: "payload_bytes", "field 'payload_bytes' is \(payloadBytes); a STAMP test packet is 44 bytes, or at least 48 (44 and an Extra Padding TLV)")
        }
    }
}
