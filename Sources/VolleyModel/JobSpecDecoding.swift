import Foundation

extension JobSpec: Decodable {
    /// Decodes and validates a spec from request-body bytes, turning every failure into a `SpecError`.
    public static func decode(json data: Data) throws(SpecError) -> JobSpec {
        // A repeat in a body that is malformed further on is reported as the malformation (bad_json).
        if let repeated = DuplicateKeys.first(in: [UInt8](data)), JSONSyntax.isWellFormed(data) {
            throw SpecError(field: repeated, "field '\(repeated)' is given twice; JSON readers disagree on which one counts, so give it once")
        }
        do {
            return try JSONDecoder().decode(JobSpec.self, from: data)
        } catch let error as SpecError {
            throw error
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            // Syntax errors come here, but so do some value errors: only call it bad JSON if it is.
            guard !JSONSyntax.isWellFormed(data) else {
                throw SpecError(field: nil, "could not read the job spec: \(context.underlyingDescription)")
            }
            throw SpecError(.badJSON, field: nil, "request body is not valid JSON: \(context.underlyingDescription)")
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw SpecError(field: nil, "the job spec must be a JSON object")
        } catch let DecodingError.valueNotFound(_, context) where context.codingPath.isEmpty {
            throw SpecError(field: nil, "the job spec must be a JSON object")
        } catch {
            throw SpecError(field: nil, "could not read the job spec: \(error)")
        }
    }

    public init(from decoder: Decoder) throws {
        let any = try decoder.container(keyedBy: AnyKey.self)
        let unknown = any.allKeys.map(\.stringValue).filter { CodingKeys(stringValue: $0) == nil }.sorted()
        if let first = unknown.first {
            let known = CodingKeys.allCases.map(\.stringValue).joined(separator: ", ")
            throw SpecError(field: first, "unknown field '\(unknown.joined(separator: "', '"))'; known fields: \(known)")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let modeText: String = try c.field(.mode, "a string") ?? {
            throw SpecError(field: "mode", "field 'mode' is required: one of \(Self.modeList)")
        }()
        guard let mode = Mode(rawValue: modeText) else {
            throw SpecError(field: "mode", "mode '\(modeText)' is not supported: use one of \(Self.modeList)")
        }
        let allowed = Self.fields(for: mode)
        if let stray = c.allKeys.first(where: { !allowed.contains($0) }) {
            throw SpecError(field: stray.stringValue, "field '\(stray.stringValue)' does not apply to mode '\(mode.rawValue)'")
        }
        self.init(mode: mode)
        if let text: String = try c.field(.id, "a string") {
            guard let id = JobID(text) else {
                throw SpecError(field: "id", "field 'id' must be 1 to 64 characters of A-Z a-z 0-9 . _ - (not starting with a dot)")
            }
            self.id = id
        }
        if let text: String = try c.field(.startAt, "an RFC 3339 time such as 2026-11-26T18:00:00.000Z") {
            guard let time = Timestamp(rfc3339: text) else {
                throw SpecError(field: "start_at", "field 'start_at' is not an RFC 3339 time (e.g. 2026-11-26T18:00:00.000Z)")
            }
            startAt = time
        }
        echoProtocol = try c.field(.echoProtocol, "\"volley\" or \"stamp\"") ?? .volley
        stateful = try c.field(.stateful, "true or false") ?? false
        ssid = try c.integer(.ssid)
        timestampFormat = try c.field(.timestampFormat, "\"ntp\" or \"ptp\"") ?? .ntp
        // STAMP has a port of its own: a STAMP endpoint may leave it out.
        let defaultPort = echoProtocol == .stamp ? Self.stampPort : nil
        target = try c.endpoint(.target, defaultPort: defaultPort)
        listen = try c.endpoint(.listen, defaultPort: defaultPort)
        durationSeconds = try c.field(.durationSeconds, "a number of seconds") ?? Self.defaultDurationSeconds
        let isRecord = decoder.userInfo[VolleyJSON.recordKey] as? Bool == true
        ratePPS = try c.rate(acceptingZero: isRecord) ?? (mode.originates ? Self.defaultRatePPS : Self.unlimitedRate)
        payloadBytes = try c.integer(.payloadBytes) ?? Self.defaultPayloadBytes
        payloadHex = try c.field(.payloadHex, "a string of hex digits")
        let seedValue = try c.integer(.seed) ?? 1
        guard seedValue >= 0 else { throw SpecError(field: "seed", "field 'seed' must be 0 or more") }
        seed = UInt64(seedValue)
        batch = try c.integer(.batch) ?? Self.defaultBatch
        threads = try c.integer(.threads) ?? 1
        flows = try c.integer(.flows) ?? 1
        maxPackets = try c.integer(.maxPackets) ?? 0
        echoTimeoutMilliseconds = try c.integer(.echoTimeoutMilliseconds) ?? Self.defaultEchoTimeoutMilliseconds
        busyPollMicroseconds = try c.integer(.busyPollMicroseconds) ?? 0
        cpuLatencyMicroseconds = try c.integer(.cpuLatencyMicroseconds)
        warmUp = try c.field(.warmUp, "true or false") ?? true
        gso = try c.field(.gso, "true or false") ?? false
        gro = try c.field(.gro, "true or false") ?? false
        timestamps = try c.field(.timestamps, "\"app\" or \"kernel\"") ?? .app
        tags = try c.field(.tags, "an object of string values") ?? [:]
        sizes = try c.field(.sizes, "a list of {\"bytes\":N,\"weight\":W} objects")
        profile = try c.field(.profile, "a list of {\"rate_pps\":N,\"duration_s\":S} or {\"ramp_to_pps\":N,\"duration_s\":S} steps")
        thresholds = try c.field(.thresholds, "an object such as {\"loss_ratio\": {\"max\": 0.001}}")
        if c.present(.rateBPS) {
            if c.present(.ratePPS) {
                throw SpecError(field: "rate_bps", "give the rate once: 'rate_bps' (payload bits per second) or 'rate_pps' (datagrams per second)")
            }
            if c.present(.profile) {
                throw SpecError(field: "rate_bps", "'profile' sets the rate in datagrams per second; it cannot be combined with 'rate_bps'")
            }
            rateBPS = try c.integer(.rateBPS)
        }
        if sizes == nil && c.present(.seed) {
            throw SpecError(field: "seed", "'seed' picks the sequence of 'sizes'; without 'sizes' it has no effect")
        }
        if let profile {
            for key in [CodingKeys.ratePPS, .durationSeconds] where c.present(key) {
                throw SpecError(field: "profile", "'profile' replaces 'rate_pps' and 'duration_s': give one or the other, not both")
            }
            durationSeconds = profile.reduce(0) { $0 + $1.durationSeconds }
        }
        if sizes != nil && c.present(.payloadBytes) {
            throw SpecError(field: "sizes", "'sizes' replaces 'payload_bytes': give one or the other, not both")
        }
        if payloadHex != nil, let other = [CodingKeys.payloadBytes, .sizes].first(where: { c.present($0) }) {
            throw SpecError(field: "payload_hex", "'payload_hex' fixes the payload: it cannot be combined with '\(other.stringValue)'")
        }
        if let rateBPS {
            guard (1...Self.maxRateBPS).contains(rateBPS) else {
                throw SpecError(field: "rate_bps", "field 'rate_bps' is \(rateBPS); it must be 1 to \(Self.maxRateBPS) payload bits per second")
            }
            guard meanPayloadBytes > 0 else {
                throw SpecError(field: "rate_bps", "'rate_bps' counts payload bits, so the payload needs at least 1 byte")
            }
            ratePPS = datagramRate(forBitRate: rateBPS)
        }
        try validate()
    }

    private static var modeList: String { Mode.allCases.map(\.rawValue).joined(separator: ", ") }
}

/// Any JSON object key, to find the ones `CodingKeys` does not know.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == JobSpec.CodingKeys {
    /// Decodes an optional field, naming it (and what was expected) when the JSON has the wrong type.
    func field<T: Decodable>(_ key: Key, _ expected: String) throws -> T? {
        do {
            if try !contains(key) || decodeNil(forKey: key) { return nil }
            return try decode(T.self, forKey: key)
        } catch let error as DecodingError {
            throw SpecError(field: error.fieldPath(under: key), "field '\(error.fieldPath(under: key))' must be \(expected)")
        }
    }

    /// The key is there with a value other than null (null means omitted).
    func present(_ key: Key) -> Bool { contains(key) && (try? decodeNil(forKey: key)) == false }

    /// Decodes a whole number. It goes through Double because JSONDecoder reports `1.5` for an Int
    /// as corrupt data without naming the field; counts above 2^53 are refused as imprecise.
    func integer(_ key: Key) throws -> Int? {
        guard let value: Double = try field(key, "a whole number") else { return nil }
        return try wholeNumber(value, field: key.stringValue)
    }

    /// `rate_pps`: a whole number of datagrams per second, or `"max"` for as fast as possible (stored
    /// as `unlimitedRate`). A bare 0 is refused in requests, so that unlimited is always said in words;
    /// records written by earlier versions, where 0 meant unlimited, still read (`acceptingZero`).
    func rate(acceptingZero: Bool) throws -> Int? {
        let key = Key.ratePPS
        guard present(key) else { return nil }
        if let word = try? decode(String.self, forKey: key) {
            guard word == "max" else {
                throw SpecError(field: key.stringValue, "field 'rate_pps' must be a whole number of datagrams per second or \"max\", not \"\(word)\"")
            }
            return JobSpec.unlimitedRate
        }
        guard let value = try integer(key) else { return nil }
        if value == 0 && !acceptingZero {
            throw SpecError(field: key.stringValue, "field 'rate_pps' is 0; give at least 1 datagram per second, or \"max\" for as fast as possible")
        }
        return value
    }

    func endpoint(_ key: Key, defaultPort: UInt16? = nil) throws -> Endpoint? {
        guard let text: String = try field(key, "a string of the form host:port") else { return nil }
        do {
            return try Endpoint(parsing: text, defaultPort: defaultPort)
        } catch {
            throw SpecError(field: key.stringValue, "field '\(key.stringValue)': \(error)")
        }
    }
}

/// A JSON number as an Int, refusing fractions and values past 2^53 (where doubles lose whole numbers).
func wholeNumber(_ value: Double, field: String) throws(SpecError) -> Int {
    guard value.isFinite, value.rounded() == value, abs(value) <= 9_007_199_254_740_992 else {
        throw SpecError(field: field, "field '\(field)' must be a whole number, not \(value)")
    }
    return Int(value)
}

/// `profile[1].ramp_to_pps` from a decoder's coding path.
func fieldName(_ path: [CodingKey]) -> String {
    var name = ""
    for key in path {
        if let index = key.intValue { name += "[\(index)]" } else { name += (name.isEmpty ? "" : ".") + key.stringValue }
    }
    return name
}

extension JobSpec.ProfileStep {
    public init(from decoder: Decoder) throws {
        let any = try decoder.container(keyedBy: AnyKey.self)
        let at = fieldName(decoder.codingPath)
        if let stray = any.allKeys.first(where: { CodingKeys(stringValue: $0.stringValue) == nil }) {
            throw SpecError(field: "\(at).\(stray.stringValue)", "unknown field '\(stray.stringValue)' in \(at): use rate_pps or ramp_to_pps, and duration_s")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func number(_ key: CodingKeys) throws -> Double? {
            guard c.contains(key) else { return nil }
            do {
                return try c.decode(Double.self, forKey: key)
            } catch {
                throw SpecError(field: "\(at).\(key.stringValue)", "field '\(at).\(key.stringValue)' must be a number")
            }
        }
        ratePPS = try number(.ratePPS).map { (v) throws(SpecError) in try wholeNumber(v, field: "\(at).rate_pps") }
        rampToPPS = try number(.rampToPPS).map { (v) throws(SpecError) in try wholeNumber(v, field: "\(at).ramp_to_pps") }
        guard let seconds = try number(.durationSeconds) else {
            throw SpecError(field: "\(at).duration_s", "field '\(at).duration_s' is required")
        }
        durationSeconds = seconds
        guard (ratePPS == nil) != (rampToPPS == nil) else {
            throw SpecError(field: at, "each step of \(at.prefix { $0 != "[" }) needs exactly one of 'rate_pps' or 'ramp_to_pps'")
        }
    }
}

extension JobSpec.SizeWeight {
    public init(from decoder: Decoder) throws {
        let any = try decoder.container(keyedBy: AnyKey.self)
        let at = fieldName(decoder.codingPath)
        if let stray = any.allKeys.first(where: { CodingKeys(stringValue: $0.stringValue) == nil }) {
            throw SpecError(field: "\(at).\(stray.stringValue)", "unknown field '\(stray.stringValue)' in \(at): use bytes and weight")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func whole(_ key: CodingKeys) throws -> Int {
            guard let value = try? c.decode(Double.self, forKey: key) else {
                throw SpecError(field: "\(at).\(key.stringValue)", "field '\(at).\(key.stringValue)' is required and must be a whole number")
            }
            return try wholeNumber(value, field: "\(at).\(key.stringValue)")
        }
        bytes = try whole(.bytes)
        weight = try whole(.weight)
    }
}

extension DecodingError {
    /// `tags.team` for a bad value inside `tags`, else just the field's name.
    func fieldPath(under key: CodingKey) -> String {
        let path: [CodingKey]
        switch self {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .keyNotFound(_, let c), .dataCorrupted(let c):
            path = c.codingPath
        @unknown default:
            path = []
        }
        return path.isEmpty ? key.stringValue : fieldName(path)
    }
}

extension DecodingError.Context {
    var underlyingDescription: String {
        if let underlying = underlyingError as NSError? {
            return underlying.userInfo[NSDebugDescriptionErrorKey] as? String ?? underlying.localizedDescription
        }
        return debugDescription
    }
}
