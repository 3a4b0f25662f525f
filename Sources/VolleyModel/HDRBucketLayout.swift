import Foundation
import Histogram

/// Maps a counts-array index to the lowest value of its bucket, in the layout every HdrHistogram
/// implementation shares (sub-buckets of a power-of-two size, each bucket doubling the range).
///
/// It is built from an encoding's header before any `Histogram` exists, so that it can refuse every
/// range `Histogram.init` would trap on and size the counts array without allocating it. The
/// arithmetic mirrors hdrhistogram-swift's initialiser (`Histogram.swift`, 0.2.x) step for step.
struct BucketLayout {
    let lowest: UInt64
    let highest: UInt64
    let unitMagnitude: Int
    let subBucketHalfCountMagnitude: Int
    /// Entries in the counts array of a histogram with this range.
    let countsLength: Int

    init(lowest: UInt64, highest: UInt64, digits: SignificantDigits) throws(HDREncoding.DecodeError) {
        // highest ≤ Int64.max (Java's limit) keeps every bucket's highest equivalent value below 2^63.
        guard lowest >= 1, highest <= UInt64(Int64.max), lowest <= highest / 2 else {
            throw .badRange(lowest: lowest, highest: highest, digits: digits.rawValue)
        }
        self.lowest = lowest
        self.highest = highest
        unitMagnitude = Int(Double.log2(Double(lowest)).rounded(.down))
        let largestSingleUnit = 2 * Int(pow(10.0, Double(digits.rawValue)))
        let subBucketCountMagnitude = Int(Double.log2(Double(largestSingleUnit)).rounded(.up))
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        guard unitMagnitude + subBucketHalfCountMagnitude <= 61 else {
            throw .badRange(lowest: lowest, highest: highest, digits: digits.rawValue)
        }
        var smallestUntrackable = UInt64(1) << (subBucketCountMagnitude + unitMagnitude)
        var bucketCount = 1
        while smallestUntrackable <= highest {
            if smallestUntrackable > UInt64.max / 2 {
                bucketCount += 1
                break
            }
            smallestUntrackable <<= 1
            bucketCount += 1
        }
        countsLength = (bucketCount + 1) << subBucketHalfCountMagnitude
    }

    /// The lowest value of the bucket at `index` (below `countsLength`).
    func value(at index: Int) -> UInt64 {
        let half = 1 << subBucketHalfCountMagnitude
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (half - 1)) + half
        if bucket < 0 {
            subBucket -= half
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
    }
}
