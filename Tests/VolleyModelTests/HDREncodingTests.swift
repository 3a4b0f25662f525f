import Foundation
import Histogram
import Testing
import VolleyTestSupport
@testable import VolleyModel

/// Values spread over the whole 1 µs – 60 s range, with repeats, so runs of empty buckets and
/// multi-byte varints are both exercised.
private func sampleHistogram() -> Histogram<UInt64> {
    var h = LatencySummary.makeHistogram()
    var x: UInt64 = 12345
    for i in 0..<20_000 {
        x = x &* 6364136223846793005 &+ 1442695040888963407
        let value = (x >> 33) % (i % 10 == 0 ? 60_000_000 : 5_000) + 1
        h.record(value)
    }
    h.record(7, count: 1_000)
    return h
}

private let percentiles: [Double] = [0, 10, 50, 90, 99, 99.9, 99.99, 100]

@Suite struct HDREncodingTests {
    @Test func encodingRoundTripsInSwift() throws {
        let h = sampleHistogram()
        let decoded = try HDREncoding.decode(HDREncoding.encode(h))
        #expect(decoded.totalCount == h.totalCount)
        // Decoding restores bucket counts; a value comes back as its bucket's (equivalent) value.
        for p in percentiles {
            #expect(h.valuesAreEquivalent(decoded.valueAtPercentile(p), h.valueAtPercentile(p)), "p\(p)")
        }
        #expect(h.valuesAreEquivalent(decoded.max, h.max) && h.valuesAreEquivalent(decoded.min, h.min))
    }

    @Test func encodingStartsWithTheV2CompressedCookie() throws {
        let bytes = try #require(Data(base64Encoded: HDREncoding.encode(sampleHistogram())))
        #expect(Array(bytes.prefix(4)) == [0x1c, 0x84, 0x93, 0x14])  // what Java and Python write
    }

    @Test func emptyHistogramEncodesAndDecodes() throws {
        let decoded = try HDREncoding.decode(HDREncoding.encode(LatencySummary.makeHistogram()))
        #expect(decoded.totalCount == 0)
    }

    @Test func garbageIsRefusedNotTrapped() {
        #expect(throws: HDREncoding.DecodeError.notBase64) { try HDREncoding.decode("%%%") }
        #expect(throws: HDREncoding.DecodeError.badCookie) { try HDREncoding.decode(Data([1, 2, 3, 4, 5, 6, 7, 8]).base64EncodedString()) }
        #expect(throws: HDREncoding.DecodeError.self) {
            try HDREncoding.decode(Data([0x1c, 0x84, 0x93, 0x04, 0, 0, 0, 4, 1, 2, 3, 4]).base64EncodedString())
        }
    }

    /// The encoding must be the one other HdrHistogram tools read: Python's `hdrhistogram` decodes
    /// it to exactly our bucket counts. `make test` provides the interpreter. (Percentiles are not
    /// compared: the libraries round the percentile's rank differently, which can pick a neighbour.)
    @Test func pythonHdrHistogramReadsOurEncoding() throws {
        let python = try #require(PythonTools.withHdrHistogram(), "python3 with the 'hdrhistogram' package is needed: run `make test`")
        let h = sampleHistogram()
        let run = try runCommand(python, ["-c", Self.dumpBuckets, HDREncoding.encode(h)])
        #expect(run.status == 0, "\(run.output)")
        let (total, buckets) = try Self.parse(run.output)
        #expect(total == h.totalCount)
        #expect(buckets.count == h.recordedValues().map { $0 }.count)
        for (value, count) in buckets { #expect(h.countForValue(value) == count, "bucket of \(value)") }
    }

    /// And the other way: what Python encodes, we decode to the same buckets.
    @Test func weReadPythonsEncoding() throws {
        let python = try #require(PythonTools.withHdrHistogram(), "python3 with the 'hdrhistogram' package is needed: run `make test`")
        let make = """
            from hdrh.histogram import HdrHistogram
            h = HdrHistogram(1, 60000000, 3)
            for v in range(1, 200000, 7): h.record_value(v)
            h.record_value(59000000, 3)
            print(h.encode().decode())
            """
        let encoded = try runCommand(python, ["-c", make]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let decoded = try HDREncoding.decode(encoded)
        let (total, buckets) = try Self.parse(try runCommand(python, ["-c", Self.dumpBuckets, encoded]).output)
        #expect(decoded.totalCount == total && total == 28_572 + 3)
        #expect(buckets.count == decoded.recordedValues().map { $0 }.count)
        for (value, count) in buckets { #expect(decoded.countForValue(value) == count, "bucket of \(value)") }
    }

    /// Prints the total count, then `value count` for every non-empty bucket.
    private static let dumpBuckets = """
        import sys
        from hdrh.histogram import HdrHistogram
        h = HdrHistogram.decode(sys.argv[1])
        print(h.get_total_count())
        for item in h.get_recorded_iterator():
            print(item.value_iterated_to, item.count_at_value_iterated_to)
        """

    private static func parse(_ output: String) throws -> (UInt64, [(UInt64, UInt64)]) {
        let lines = output.split(separator: "\n")
        let total = try #require(lines.first.flatMap { UInt64($0) }, "\(output.prefix(300))")
        let buckets = lines.dropFirst().map { line -> (UInt64, UInt64) in
            let parts = line.split(separator: " ").compactMap { UInt64($0) }
            return (parts[0], parts[1])
        }
        return (total, buckets)
    }
}
