/// Which sequence numbers of one flow have been seen, over a sliding window of the last 2^21 behind
/// the highest. Allocated once per flow; marking allocates nothing.
struct SequenceWindow {
    static let bits = 1 << 21
    private var words: [UInt64]
    /// Highest sequence number seen, or -1 before the first.
    private(set) var highest: Int64 = -1
    private(set) var unique: UInt64 = 0

    enum Outcome { case first, reordered, duplicate, tooOld }

    init() { words = [UInt64](repeating: 0, count: Self.bits / 64) }

    /// Records `sequence` and says how it arrived.
    @inline(__always)
    mutating func mark(_ sequence: UInt64) -> Outcome {
        let seq = Int64(bitPattern: sequence)
        if seq > highest {
            // Clear the slots the window slides over, so they read as unseen.
            let start = max(highest + 1, seq - Int64(Self.bits) + 1)
            var s = start
            while s < seq {
                clear(s)
                s += 1
            }
            highest = seq
            set(seq)
            unique += 1
            return .first
        }
        if seq <= highest - Int64(Self.bits) { return .tooOld }
        if isSet(seq) { return .duplicate }
        set(seq)
        unique += 1
        return .reordered
    }

    @inline(__always) private func index(_ s: Int64) -> (Int, UInt64) {
        let bit = Int(s & Int64(Self.bits - 1))
        return (bit >> 6, UInt64(1) << UInt64(bit & 63))
    }
    @inline(__always) private func isSet(_ s: Int64) -> Bool { let (w, m) = index(s); return words[w] & m != 0 }
    @inline(__always) private mutating func set(_ s: Int64) { let (w, m) = index(s); words[w] |= m }
    @inline(__always) private mutating func clear(_ s: Int64) { let (w, m) = index(s); words[w] &= ~m }
}
