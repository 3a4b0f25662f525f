import CZlib
import Foundation
import Histogram

/// The standard HdrHistogram V2 compressed encoding (what Java's `encodeIntoCompressedByteBuffer`,
/// Python's `hdrhistogram` and HdrHistogram_c read and write), base64 for JSON.
///
/// Layout: compressed cookie `0x1c849314`, 4-byte length, then a zlib stream of the uncompressed
/// form: cookie `0x1c849313`, payload length, normalizing index offset (0), significant digits,
/// lowest discernible value (8 bytes), highest trackable value (8 bytes), integer-to-double ratio
/// (IEEE 754 1.0), then the counts array as ZigZag LEB128 varints, a negative number standing for
/// a run of that many empty buckets. All integers big-endian.
public enum HDREncoding {
    // V2 cookies with the word-size nibble (0x10) that Java and Python write; readers mask it off.
    static let encodingCookie: UInt32 = 0x1c84_9313
    static let compressedCookie: UInt32 = 0x1c84_9314
    static func isCookie(_ value: UInt32, _ cookie: UInt32) -> Bool { value & ~0xf0 == cookie & ~0xf0 }

    /// The base64 V2 compressed form of `histogram`.
    public static func encode(_ histogram: Histogram<UInt64>) -> String {
        var counts: [UInt64] = []
        var lastNonZero = -1
        for (index, bucket) in histogram.allValues().enumerated() {
            counts.append(bucket.count)
            if bucket.count != 0 { lastNonZero = index }
        }
        var payload: [UInt8] = []
        var zeros: Int64 = 0
        for count in counts.prefix(lastNonZero + 1) {
            if count == 0 {
                zeros += 1
                continue
            }
            if zeros > 0 {
                appendZigZag(-zeros, to: &payload)
                zeros = 0
            }
            appendZigZag(Int64(count), to: &payload)
        }
        var plain: [UInt8] = []
        appendBig(encodingCookie, to: &plain)
        appendBig(UInt32(payload.count), to: &plain)
        appendBig(UInt32(0), to: &plain)
        appendBig(UInt32(histogram.numberOfSignificantValueDigits.rawValue), to: &plain)
        appendBig(histogram.lowestDiscernibleValue, to: &plain)
        appendBig(histogram.highestTrackableValue, to: &plain)
        appendBig(Double(1).bitPattern, to: &plain)
        plain += payload
        let deflated = deflate(plain)
        var out: [UInt8] = []
        appendBig(compressedCookie, to: &out)
        appendBig(UInt32(deflated.count), to: &out)
        return Data(out + deflated).base64EncodedString()
    }

    // MARK: - Bits

    static func appendZigZag(_ value: Int64, to out: inout [UInt8]) {
        var v = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func readZigZag(_ bytes: [UInt8], _ position: inout Int) throws(DecodeError) -> Int64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { throw .badVarint(at: position) }
            let byte = bytes[position]
            position += 1
            v |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    static func appendBig<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out += $0 }
    }

    static func readBig<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int) -> T {
        var value = T.zero
        for i in 0..<MemoryLayout<T>.size { value = value << 8 | T(bytes[offset + i]) }
        return value
    }

    static func deflate(_ input: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(input.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let rc = compress2(&output, &length, input, uLong(input.count), Z_DEFAULT_COMPRESSION)
        precondition(rc == Z_OK, "zlib compress2 failed: \(rc)")
        return Array(output.prefix(Int(length)))
    }
}
