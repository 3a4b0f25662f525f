import CZlib
import Foundation
import Histogram
import Testing
@testable import VolleyModel

/// A V2 compressed encoding built by hand: any header, any payload.
private func encoding(digits: UInt32 = 3, lowest: UInt64 = 1, highest: UInt64 = 60_000_000, payload: [UInt8] = [],
                      payloadLength: UInt32? = nil) -> String {
    var plain: [UInt8] = []
    HDREncoding.appendBig(HDREncoding.encodingCookie, to: &plain)
    HDREncoding.appendBig(payloadLength ?? UInt32(payload.count), to: &plain)
    HDREncoding.appendBig(UInt32(0), to: &plain)
    HDREncoding.appendBig(digits, to: &plain)
    HDREncoding.appendBig(lowest, to: &plain)
    HDREncoding.appendBig(highest, to: &plain)
    HDREncoding.appendBig(Double(1).bitPattern, to: &plain)
    return wrapped(HDREncoding.deflate(plain + payload))
}

/// The compressed cookie and length in front of `deflated`.
private func wrapped(_ deflated: [UInt8], length: UInt32? = nil) -> String {
    var out: [UInt8] = []
    HDREncoding.appendBig(HDREncoding.compressedCookie, to: &out)
    HDREncoding.appendBig(length ?? UInt32(deflated.count), to: &out)
    return Data(out + deflated).base64EncodedString()
}

/// Counts as the encoding writes them: ZigZag varints, negative for a run of empty buckets.
private func varints(_ values: [Int64]) -> [UInt8] {
    var out: [UInt8] = []
    for v in values { HDREncoding.appendZigZag(v, to: &out) }
    return out
}

/// Each of these trapped (or allocated without bound) before decoding checked them.
@Suite struct HDRHostileInputTests {
    @Test func digitsAbove127AreRefused() {  // was: Int8(200) trapped
        #expect(throws: HDREncoding.DecodeError.badDigits(200)) { try HDREncoding.decode(encoding(digits: 200)) }
        #expect(throws: HDREncoding.DecodeError.badDigits(.max)) { try HDREncoding.decode(encoding(digits: .max)) }
        #expect(throws: HDREncoding.DecodeError.badDigits(6)) { try HDREncoding.decode(encoding(digits: 6)) }
    }

    @Test func lowestNearUInt64MaxIsRefused() {  // was: `2 * lowest` overflowed
        #expect(throws: HDREncoding.DecodeError.badRange(lowest: .max, highest: .max, digits: 3)) {
            try HDREncoding.decode(encoding(lowest: .max, highest: .max))
        }
        #expect(throws: HDREncoding.DecodeError.badRange(lowest: 0, highest: 100, digits: 3)) {
            try HDREncoding.decode(encoding(lowest: 0, highest: 100))
        }
    }

    @Test func rangesHistogramInitRefusesAreRefused() {  // was: precondition in Histogram.init
        // 2^61 leaves no room for the 2^11 sub-buckets of 3 digits in 62 bits.
        #expect(throws: HDREncoding.DecodeError.badRange(lowest: 1 << 61, highest: UInt64(Int64.max), digits: 3)) {
            try HDREncoding.decode(encoding(lowest: 1 << 61, highest: UInt64(Int64.max)))
        }
        // Past Java's signed 64 bits, the top bucket's highest equivalent value overflows UInt64 in `max`.
        #expect(throws: HDREncoding.DecodeError.badRange(lowest: 1, highest: .max, digits: 3)) {
            try HDREncoding.decode(encoding(lowest: 1, highest: .max))
        }
    }

    @Test func hugeCountsArraysAreRefusedBeforeAllocating() {  // was: a 47 MiB counts array
        #expect(throws: HDREncoding.DecodeError.tooManyBuckets(6_160_384)) {
            try HDREncoding.decode(encoding(digits: 5, lowest: 1, highest: UInt64(Int64.max)))
        }
    }

    @Test func runOfInt64MinIsRefused() {  // was: Int(-Int64.min) trapped
        #expect(throws: HDREncoding.DecodeError.indexOutOfRange(0)) {
            try HDREncoding.decode(encoding(payload: varints([.min, 1])))
        }
    }

    @Test func runsPastTheCountsArrayAreRefused() {  // was: `index +=` overflowed
        #expect(throws: HDREncoding.DecodeError.indexOutOfRange(0)) {
            try HDREncoding.decode(encoding(payload: varints([-.max, -.max, 1])))
        }
        // Volley's layout has 17,408 entries: a run may end at the last one, a count may not follow it.
        #expect(throws: HDREncoding.DecodeError.indexOutOfRange(17_408)) {
            try HDREncoding.decode(encoding(payload: varints([-17_408, 1])))
        }
        #expect(throws: HDREncoding.DecodeError.indexOutOfRange(17_407)) {
            try HDREncoding.decode(encoding(payload: varints([-17_407, -2])))
        }
    }

    @Test func aRunToTheLastBucketIsFine() throws {
        let h = try HDREncoding.decode(encoding(payload: varints([-17_407, 5])))
        #expect(h.totalCount == 5)
        #expect(h.max == LatencySummary.makeHistogram().highestEquivalentForValue(h.maxRecorded))
    }

    @Test func totalsPastInt64MaxAreRefused() {  // was: `valueAtPercentile` and the iterators trapped later
        #expect(throws: HDREncoding.DecodeError.countOverflow(index: 2)) {
            try HDREncoding.decode(encoding(payload: varints([0, .max, .max])))
        }
        // 2^40 at ~60 s: count × value is past 2^64, which Histogram's iterators (and so `encode`) trap on.
        #expect(throws: HDREncoding.DecodeError.countOverflow(index: 17_407)) {
            try HDREncoding.decode(encoding(payload: varints([-17_407, 1 << 40])))
        }
    }

    @Test func zlibBombsStopAtTheBound() {  // was: inflated up to 64 MiB
        let zeros = [UInt8](repeating: 0, count: HDREncoding.maxInflatedBytes)
        #expect(throws: HDREncoding.DecodeError.inflatedTooLarge) { try HDREncoding.decode(encoding(payload: zeros)) }
    }

    @Test func damagedFramesAreRefused() throws {
        let good = try #require(Data(base64Encoded: HDREncoding.encode(LatencySummary.makeHistogram())))
        let deflated = Array(good.dropFirst(8))
        #expect(throws: HDREncoding.DecodeError.truncated) {
            try HDREncoding.decode(wrapped(deflated, length: UInt32(deflated.count + 1)))
        }
        #expect(throws: HDREncoding.DecodeError.truncated) { try HDREncoding.decode(wrapped(deflated, length: .max)) }
        #expect(throws: HDREncoding.DecodeError.zlib(Z_DATA_ERROR)) {
            try HDREncoding.decode(wrapped(Array(deflated.dropLast(3))))
        }
        #expect(throws: HDREncoding.DecodeError.zlib(Z_DATA_ERROR)) { try HDREncoding.decode(wrapped([])) }
        #expect(throws: HDREncoding.DecodeError.shortPayload) {
            try HDREncoding.decode(encoding(payload: [2], payloadLength: 2))
        }
        #expect(throws: HDREncoding.DecodeError.badVarint(at: 41)) {
            try HDREncoding.decode(encoding(payload: [0x80]))
        }
    }

    /// The layout computed from a header has exactly as many entries as the library's counts array.
    @Test(arguments: [(UInt64(1), UInt64(60_000_000), SignificantDigits.three), (1, 2, .zero),
                      (1000, 3_600_000_000, .two), (3, 1 << 40, .four), (1, 60_000_000, .four),
                      (1 << 20, UInt64(Int64.max), .four), (1, UInt64(Int64.max), .one)])
    func layoutMatchesTheLibrary(lowest: UInt64, highest: UInt64, digits: SignificantDigits) throws {
        let layout = try BucketLayout(lowest: lowest, highest: highest, digits: digits)
        let h = Histogram<UInt64>(lowestDiscernibleValue: lowest, highestTrackableValue: highest,
                                  numberOfSignificantValueDigits: digits)
        #expect(layout.countsLength == Array(h.allValues()).count)
        for index in [0, 1, layout.countsLength / 2, layout.countsLength - 1] {
            var one = h
            let recorded = one.record(layout.value(at: index))
            #expect(recorded)
            let encoded = HDREncoding.encode(one)
            #expect(try HDREncoding.decode(encoded) == one, "index \(index)")
        }
    }
}
