import Foundation

/// The one JSON style of the project: sorted keys for stable files and diffs, no escaped slashes.
public enum VolleyJSON {
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
                                          : [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value)
    }

    /// Decodes a stored or exchanged record (job, result, fleet result). Specs inside it are read as
    /// records, not requests: spellings earlier versions wrote (`"rate_pps": 0` for unlimited) still load.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        let decoder = JSONDecoder()
        decoder.userInfo[recordKey] = true
        return try decoder.decode(type, from: data)
    }

    /// Set in a decoder's `userInfo` when it reads records rather than API requests.
    public static let recordKey = CodingUserInfoKey(rawValue: "volley.record")!
}
