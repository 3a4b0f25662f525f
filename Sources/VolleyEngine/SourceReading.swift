/// When a sink asks the kernel for its datagrams' sources. Only stamped datagrams use one (the
/// per-sender statistics, `SenderTable`), and asking costs a `sockaddr` copy per datagram, about 7 %
/// more kernel samples for a C sink here (Benchmarks/README.md, "A sink's sources"). So a sink that has
/// read `quietAfter` datagrams in a row without a stamp stops asking, and asks again from the batch
/// after the first stamped datagram it reads without a source. The stamped datagrams of that batch
/// are held by the sender table for their flow; `settleAfter` batches read with sources later, the
/// ones no flow claimed are settled (`SenderTable.settleSourceless`).
struct SourceReading {
    /// Unstamped datagrams in a row after which a sink stops asking (at 1 Mpps, 65 ms of them).
    static let defaultQuietAfter = 65_536
    /// Batches read with sources, after asking again, before the held datagrams are settled.
    static let settleAfter = 8

    let quietAfter: Int
    private var unstampedRun = 0
    private var settleIn = 0

    init(quietAfter: Int = SourceReading.defaultQuietAfter) { self.quietAfter = max(1, quietAfter) }

    /// After a batch of `datagrams`, `stamped` of them stamped, read with sources or not: whether the
    /// next batch asks for them, and whether the held datagrams are to be settled now.
    @inline(__always)
    mutating func next(datagrams: Int, stamped: UInt64, withSources: Bool) -> (read: Bool, settle: Bool) {
        guard withSources else {
            guard stamped > 0 else { return (false, false) }
            unstampedRun = 0
            settleIn = Self.settleAfter
            return (true, false)
        }
        unstampedRun = stamped == 0 ? unstampedRun &+ datagrams : 0
        var settle = false
        if settleIn > 0 {
            settleIn -= 1
            settle = settleIn == 0
        }
        return (unstampedRun < quietAfter, settle)
    }
}
