import VolleyModel

/// How a sending worker fills its datagrams: a fixed size, a seeded weighted mix (IMIX), or a fixed
/// hex payload; and whether each datagram carries the stamp. Decided once; `nextSize()` allocates nothing.
struct PayloadPlan {
    /// Largest payload, the size of each buffer slot.
    let slotBytes: Int
    /// Fixed payload bytes (`payload_hex`), copied into every slot once.
    let fixed: [UInt8]?
    private let sizes: [Int]
    /// Cumulative weights, for drawing a size.
    private let cumulative: [UInt64]
    private var random: SplitMix64

    init(spec: JobSpec, thread: Int) {
        if let hex = spec.payloadHex {
            let bytes = Self.bytes(fromHex: hex)
            fixed = bytes
            sizes = [bytes.count]
            cumulative = [1]
        } else if let mix = spec.sizes {
            fixed = nil
            sizes = mix.map(\.bytes)
            var total: UInt64 = 0
            cumulative = mix.map { total += UInt64($0.weight); return total }
        } else {
            fixed = nil
            sizes = [spec.payloadBytes]
            cumulative = [1]
        }
        slotBytes = max(sizes.max() ?? 0, 0)
        // Each thread draws its own repeatable sequence.
        random = SplitMix64(seed: spec.seed &+ UInt64(thread) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Every datagram the same size (GSO needs this).
    var isUniform: Bool { sizes.count == 1 }

    /// Datagrams get the stamp unless the payload is fixed or too small to hold it.
    @inline(__always)
    func stamps(_ size: Int) -> Bool { fixed == nil && size >= Stamp.size }

    @inline(__always)
    mutating func nextSize() -> Int {
        if sizes.count == 1 { return sizes[0] }
        let draw = random.next() % cumulative[cumulative.count - 1]
        var i = 0
        while cumulative[i] <= draw { i += 1 }
        return sizes[i]
    }

    static func bytes(fromHex hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var high: UInt8?
        for c in hex.utf8 {
            let v: UInt8 = c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10
            if let h = high {
                out.append(h << 4 | v)
                high = nil
            } else {
                high = v
            }
        }
        return out
    }
}

/// A small, fast, seedable generator (Steele, Lea & Flood's SplitMix64): the same seed gives the same sizes.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
