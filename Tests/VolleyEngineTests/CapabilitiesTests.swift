import CBatchIO
import Glibc
import Testing
@testable import VolleyEngine

@Suite struct CapabilitiesTests {
    @Test func probesAgreeWithTheBuild() {
        let caps = Capabilities.probe()
        if !CBatchIO_built_with_mmsg() {
            #expect(!caps.sendmmsg && !caps.recvmmsg)
            #expect(IOMethod.preferred == .loop)
        } else {
            #expect(IOMethod.preferred == (caps.sendmmsg && caps.recvmmsg ? .batched : .loop))
        }
    }

    @Test func errnoCategoriesHaveStableNames() {
        #expect(ErrorCategory(errno: ECONNREFUSED).name == "connection_refused")
        #expect(ErrorCategory(errno: EAGAIN).name == "would_block")
        #expect(ErrorCategory(errno: ENOBUFS).name == "no_buffers")
        #expect(ErrorCategory(errno: EIO).name == "other")
        #expect(Set(ErrorCategory.allCases.map(\.name)).count == ErrorCategory.allCases.count)
    }
}
