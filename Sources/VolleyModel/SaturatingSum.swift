extension UInt64 {
    /// `self + other`, or `UInt64.max` where `+` would trap: counters merged from other agents' results
    /// are not trusted to stay in range.
    public func addingSaturated(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }

    /// `self - other`, or 0 where `-` would trap.
    public func subtractingSaturated(_ other: UInt64) -> UInt64 { self >= other ? self - other : 0 }
}
