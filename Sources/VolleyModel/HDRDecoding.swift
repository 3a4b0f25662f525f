import CZlib
import Foundation
import Histogram

/// Decoding is written for hostile input: a result file or an agent can hand us any string, so
/// every corrupt encoding ends in a `DecodeError` (never a trap) and what it may allocate is bounded.
extension HDREncoding {
    /// At most this many counts-array entries (8 MiB of `UInt64`). Volley's own histograms (1 µs to
    /// 60 s, 3 digits) need 17,408; 1 to 2^63−1 at 5 digits would need 6.2 million.
    public static let maxCountsLength = 1 << 20
    /// At most this many bytes of decompressed encoding. Volley's own histograms need under 200 KiB
    /// even with every bucket full; the bound stops a small zlib bomb from taking 64 MiB or more.
    public static let maxInflatedBytes = 4 << 20

    /// Why an encoding was refused.
    public enum DecodeError: Error, Equatable, CustomStringConvertible {
        case notBase64
        /// Neither the compressed nor the uncompressed V2 cookie where one belongs.
        case badCookie
        /// The compressed length in the header runs past the end of the data.
        case truncated
        /// zlib refused the compressed payload (its return code, e.g. `Z_DATA_ERROR`).
        case zlib(Int32)
        /// Decompressed, the payload would be larger than `maxInflatedBytes`.
        case inflatedTooLarge
        /// The decompressed data is shorter than its 40-byte header and the payload length it gives.
        case shortPayload
        /// The number of significant digits is not 0 to 5.
        case badDigits(UInt32)
        /// Not a range HdrHistogram can track: lowest ≥ 1, highest ≥ 2 × lowest, highest ≤ 2^63−1 (Java's
        /// limit), and the sub-buckets of `digits` shifted by lowest's magnitude must fit in 62 bits.
        case badRange(lowest: UInt64, highest: UInt64, digits: Int8)
        /// The counts array for this range would have more than `maxCountsLength` entries.
        case tooManyBuckets(Int)
        /// A varint runs past the end of the payload or over 64 bits (byte offset in the decompressed data).
        case badVarint(at: Int)
        /// A count or a run of empty buckets reaches past the end of the counts array.
        case indexOutOfRange(Int)
        /// The total count would exceed 2^63−1, or the sum of count × value (which the histogram
        /// library computes when iterating) would exceed 2^64−1.
        case countOverflow(index: Int)

        public var description: String {
            switch self {
            case .notBase64: "not base64"
            case .badCookie: "not an HdrHistogram V2 compressed encoding"
            case .truncated: "truncated"
            case .zlib(let rc): "zlib error \(rc)"
            case .inflatedTooLarge: "decompressed histogram larger than \(maxInflatedBytes) bytes"
            case .shortPayload: "decompressed histogram shorter than its header says"
            case .badDigits(let d): "\(d) significant digits (0 to 5 allowed)"
            case .badRange(let l, let h, let d): "unsupported range \(l)...\(h) at \(d) significant digits"
            case .tooManyBuckets(let n): "\(n) buckets (at most \(maxCountsLength))"
            case .badVarint(let at): "bad varint at byte \(at)"
            case .indexOutOfRange(let i): "count at index \(i) is beyond the highest trackable value"
            case .countOverflow(let i): "counts overflow at index \(i)"
            }
        }
    }

    /// A histogram with the counts of a base64 V2 compressed encoding.
    public static func decode(_ text: String) throws(DecodeError) -> Histogram<UInt64> {
        guard let data = Data(base64Encoded: text) else { throw .notBase64 }
        let bytes = [UInt8](data)
        guard bytes.count >= 8, isCookie(readBig(bytes, 0), compressedCookie) else { throw .badCookie }
        let length = Int(readBig(bytes, 4) as UInt32)
        guard bytes.count - 8 >= length else { throw .truncated }
        let plain = try inflate(bytes[8..<(8 + length)])
        guard plain.count >= 40, isCookie(readBig(plain, 0), encodingCookie) else { throw .badCookie }
        let payloadEnd = 40 + Int(readBig(plain, 4) as UInt32)
        guard plain.count >= payloadEnd else { throw .shortPayload }
        let digitsField: UInt32 = readBig(plain, 12)
        guard let digits = Int8(exactly: digitsField).flatMap(SignificantDigits.init(rawValue:)) else {
            throw .badDigits(digitsField)
        }
        let layout = try BucketLayout(lowest: readBig(plain, 16), highest: readBig(plain, 24), digits: digits)
        guard layout.countsLength <= maxCountsLength else { throw .tooManyBuckets(layout.countsLength) }
        // BucketLayout has checked every precondition of this initialiser.
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: layout.lowest, highestTrackableValue: layout.highest,
                                          numberOfSignificantValueDigits: digits)
        var counter = CountChecker()
        var position = 40
        var index = 0
        while position < payloadEnd {
            let value = try readZigZag(plain, &position)
            // A negative value is a run of that many empty buckets; Java writes a single one as 0.
            let run = value < 0 ? value.magnitude : 1
            guard run <= UInt64(layout.countsLength - index) else { throw .indexOutOfRange(index) }
            if value > 0 {
                let bucketValue = layout.value(at: index)
                guard counter.add(UInt64(value), highestEquivalent: histogram.highestEquivalentForValue(bucketValue)),
                      histogram.record(bucketValue, count: UInt64(value)) else { throw .countOverflow(index: index) }
            }
            index += Int(run)
        }
        return histogram
    }

    /// Totals that must stay in range for `Histogram`'s own arithmetic (its iterators sum
    /// count × value with trapping `+` and `*`) and for Java and Python, whose counts are signed.
    struct CountChecker {
        var total: UInt64 = 0
        var totalValue: UInt64 = 0

        mutating func add(_ count: UInt64, highestEquivalent: UInt64) -> Bool {
            let (product, productOverflow) = count.multipliedReportingOverflow(by: highestEquivalent)
            let (newValue, valueOverflow) = totalValue.addingReportingOverflow(product)
            let (newTotal, totalOverflow) = total.addingReportingOverflow(count)
            guard !productOverflow, !valueOverflow, !totalOverflow, newTotal <= UInt64(Int64.max) else { return false }
            (total, totalValue) = (newTotal, newValue)
            return true
        }
    }

    /// zlib-inflates `input`, growing the output buffer up to `maxInflatedBytes`.
    static func inflate(_ input: ArraySlice<UInt8>) throws(DecodeError) -> [UInt8] {
        var capacity = min(max(1024, input.count * 8), maxInflatedBytes)
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var length = uLongf(capacity)
            let rc = input.withUnsafeBufferPointer { source in
                uncompress(&output, &length, source.baseAddress, uLong(source.count))
            }
            if rc == Z_OK { return Array(output.prefix(Int(length))) }
            // Z_BUF_ERROR from uncompress means the output buffer filled up (zlib ≥ 1.2.9 reports
            // truncated input as Z_DATA_ERROR).
            guard rc == Z_BUF_ERROR else { throw .zlib(rc) }
            guard capacity < maxInflatedBytes else { throw .inflatedTooLarge }
            capacity = min(capacity * 4, maxInflatedBytes)
        }
    }
}
