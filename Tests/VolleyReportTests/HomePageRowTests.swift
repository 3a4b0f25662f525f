import Foundation
import Testing
@testable import VolleyModel
@testable import VolleyReport

/// What the home page's rate cell says for a job, as exact text.
@Suite struct HomePageRowTests {
    static func echo(_ state: JobState, rtt: LiveRTT?) throws -> Job {
        let spec = try JobSpec.decode(json: Data(#"{"mode":"echo","target":"127.0.0.1:9000","rate_pps":2000,"duration_s":5}"#.utf8))
        return Job(id: JobID("jrow")!, state: state, spec: spec, createdAt: Timestamp(millisecondsSince1970: 0),
                   progress: JobProgress(packetsSent: 4_000, packetsReceived: 3_990, bytesSent: 256_000, bytesReceived: 255_360,
                                         elapsedSeconds: 2, rtt: rtt))
    }

    @Test func aRunningEchoJobShowsItsLatestSecondsRTT() throws {
        let rtt = LiveRTT(second: 1, p50: 61, p99: 1_480)
        #expect(HomePage.rate(try Self.echo(.running, rtt: rtt)) ==
            "2,000 datagrams/s (1.02 Mbit/s), RTT p50 61 µs p99 1,480 µs")
        // Before its first second settles, and once it has ended, the cell has the rate only.
        #expect(HomePage.rate(try Self.echo(.running, rtt: nil)) == "2,000 datagrams/s (1.02 Mbit/s)")
        #expect(HomePage.rate(try Self.echo(.completed, rtt: rtt)) == "2,000 datagrams/s (1.02 Mbit/s)")
    }
}
