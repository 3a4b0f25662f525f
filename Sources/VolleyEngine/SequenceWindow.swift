/// Which sequence numbers of one flow have been seen, over a sliding window of the last `bits`
/// behind the highest. Allocated once per flow (`bits / 8` bytes); marking allocates nothing, and a
/// jump ahead costs at most one pass over the words (O(words), never O(jump)), whatever a peer sends.
struct SequenceWindow {
    /// The default window: 65,536 sequence numbers in 8 KiB. Reordering deeper than this is reported
    /// as `too_old` rather than classified; it is the figure the memory budget counts per flow.
    static let defaultBits = 1 << 16
    static var defaultBytes: Int { defaultBits / 8 }

    private var words: [UInt64]
    private let mask: Int64
    /// Highest sequence number seen, or -1 before the first.
    private(set) var highest: Int64 = -1
    private(set) var unique: UInt64 = 0

    enum Outcome { case first, reordered, duplicate, tooOld }

    /// `bits` is rounded up to a power of two of at least 64.
    init(bits: Int = SequenceWindow.defaultBits) {
        var size = 64
        while size < bits { size <<= 1 }
        words = [UInt64](repeating: 0, count: size / 64)
        mask = Int64(size - 1)
    }

    var bits: Int { words.count * 64 }

    /// Records `sequence` and says how it arrived. Numbers at or above 2^63 (no sender reaches them)
    /// are `tooOld`, so no arithmetic below can overflow.
    @inline(__always)
    mutating func mark(_ sequence: UInt64) -> Outcome {
        guard sequence < UInt64(Int64.max) else { return .tooOld }
        let seq = Int64(sequence)
        if seq > highest {
            clear(after: highest, before: seq)
            highest = seq
            set(seq)
            unique &+= 1
            return .first
        }
        if seq <= highest - Int64(bits) { return .tooOld }
        if isSet(seq) { return .duplicate }
        set(seq)
        unique &+= 1
        return .reordered
    }

    /// Clears the slots of the numbers strictly between `low` and `high`, which the window slides
    /// over, so they read as unseen: whole words at a time, and everything at once for a long jump.
    @inline(__always)
    private mutating func clear(after low: Int64, before high: Int64) {
        let count = high - low - 1
        guard count > 0 else { return }
        if count >= Int64(bits) {
            for w in words.indices { words[w] = 0 }
            return
        }
        var s = low + 1
        while s < high {
            let bit = Int(s & mask)
            let inWord = min(Int64(64 - (bit & 63)), high - s)
            let clearMask: UInt64 = inWord == 64 ? .max : ((UInt64(1) << UInt64(inWord)) - 1) << UInt64(bit & 63)
            words[bit >> 6] &= ~clearMask
            s += inWord
        }
    }

    @inline(__always) private func index(_ s: Int64) -> (Int, UInt64) {
        let bit = Int(s & mask)
        return (bit >> 6, UInt64(1) << UInt64(bit & 63))
    }
    @inline(__always) private func isSet(_ s: Int64) -> Bool { let (w, m) = index(s); return words[w] & m != 0 }
    @inline(__always) private mutating func set(_ s: Int64) { let (w, m) = index(s); words[w] |= m }
}
