import Foundation
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

@Suite(.serialized) struct SinkJobTests {
    private func sinkSpec(_ port: UInt16, duration: Double = 1, threads: Int = 1, maxPackets: Int = 0) -> JobSpec {
        JobSpec(mode: .sink, listen: loopback(port), durationSeconds: duration, threads: threads, maxPackets: maxPackets)
    }

    @Test(arguments: IOMethod.allCases)
    func sinkCountsEveryDatagramAndByte(method: IOMethod) throws {
        var options = EngineOptions()
        options.ioMethod = method
        let port = freeUDPPort()
        let run = try JobRun(spec: sinkSpec(port, duration: 1.5), options: options)
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        let sent = sendDatagrams(count: 3_000, size: 200, to: port) + sendDatagrams(count: 17, size: 3_000, to: port)
        done.wait()
        let report = try #require(box.report)
        #expect(sent == 3_017)
        #expect(report.received.packets == 3_017)
        // Datagrams larger than a receive slot are still counted at their full size (MSG_TRUNC).
        #expect(report.received.bytes == 3_000 * 200 + 17 * 3_000)
        let batched = method == .batched && IOMethod.preferred == .batched
        #expect(report.io.receive == (batched ? "recvmmsg" : "recvmsg"))
        #expect(report.received.errors.isEmpty)
    }

    @Test func maxPacketsEndsASinkEarly() throws {
        let port = freeUDPPort()
        let run = try JobRun(spec: sinkSpec(port, duration: 30, threads: 2, maxPackets: 500))
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        sendDatagrams(count: 500, size: 10, to: port)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(box.report?.received.packets == 500)
        #expect(box.report?.stoppedEarly == false)
    }

    @Test func secondSinkOnTheSamePortIsRefused() throws {
        let port = freeUDPPort()
        let first = try JobRun(spec: sinkSpec(port))
        #expect(throws: EngineError.addressInUse(loopback(port))) { try JobRun(spec: sinkSpec(port)) }
        _ = first
    }

    @Test func ipv6SinkReceives() throws {
        let port = freeUDPPort()
        let spec = JobSpec(mode: .sink, listen: Endpoint(address: IPAddress("::1")!, port: port), durationSeconds: 10,
                           maxPackets: 50)
        let run = try JobRun(spec: spec)
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        run.start { box.report = $0; done.signal() }
        let sender = try JobRun(spec: JobSpec(mode: .send, target: spec.listen, durationSeconds: 10, maxPackets: 50))
        let sent = DispatchSemaphore(value: 0)
        sender.start { _ in sent.signal() }
        sent.wait()
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(box.report?.received.packets == 50)
    }
}
