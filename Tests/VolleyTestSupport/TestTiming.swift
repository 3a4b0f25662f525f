import Foundation

/// Time limits in tests are the promises (stop within 50 ms, start on the millisecond) plus slack for
/// a loaded 2-core CI machine. Under ThreadSanitizer everything runs several times slower, so
/// `make test-tsan` sets VOLLEY_TIMING_SLACK to stretch the limits; the counts asserted stay exact.
public enum TestTiming {
    public static let slack: Double = Double(ProcessInfo.processInfo.environment["VOLLEY_TIMING_SLACK"] ?? "") ?? 1

    /// `seconds` stretched by the slack factor.
    public static func limit(_ seconds: Double) -> Double { seconds * slack }
}
