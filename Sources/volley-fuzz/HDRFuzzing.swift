import CZlib
import Foundation
import Histogram
import VolleyModel

/// HDR histograms. The first byte picks how the rest is read: even, as the bytes behind the base64
/// (cookie, length, zlib stream); odd, as the decompressed form, which this harness compresses and
/// frames, so that mutations reach the header and counts instead of dying in zlib's checksum. The
/// input is also tried as base64 text itself.
enum HDRFuzzing {
    static func run(_ data: Data) {
        guard let mode = data.first else { return }
        let rest = data.dropFirst()
        check(mode & 1 == 0 ? rest.base64EncodedString() : framed(plain: [UInt8](rest)))
        check(String(decoding: data, as: UTF8.self))
    }

    /// Whatever decodes must re-encode to the same counts and summarise without trapping.
    static func check(_ text: String) {
        guard let histogram = try? HDREncoding.decode(text) else { return }
        let summary = LatencySummary(histogram)
        let again: Histogram<UInt64>
        do {
            again = try HDREncoding.decode(summary.hdr)
        } catch {
            fatalError("our own encoding of a decoded histogram is refused: \(error)")
        }
        guard again == histogram, again.totalCount == summary.count else {
            fatalError("a histogram changed on re-encoding: \(histogram.totalCount) → \(again.totalCount) counts")
        }
    }

    /// The compressed cookie, the length and the zlib stream of `plain`, in base64.
    static func framed(plain: [UInt8]) -> String {
        var length = compressBound(uLong(plain.count))
        var deflated = [UInt8](repeating: 0, count: Int(length))
        guard compress2(&deflated, &length, plain, uLong(plain.count), Z_BEST_SPEED) == Z_OK else { return "" }
        let header: [UInt8] = [0x1c, 0x84, 0x93, 0x14] + withUnsafeBytes(of: UInt32(length).bigEndian) { Array($0) }
        return Data(header + deflated.prefix(Int(length))).base64EncodedString()
    }
}
