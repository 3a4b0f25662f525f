import Foundation
import Glibc
import Testing
import VolleyTestSupport
@testable import VolleyEngine
@testable import VolleyModel

/// A reflector waits in blocking receives without a socket receive timeout (the kernel armed and
/// cancelled that timer around every sleep, on the round trip's path); a periodic signal
/// (`WakeTimer.periodic`) ends its waits instead, so an idle reflector still sees its deadline and a stop.
@Suite(.serialized) struct ReflectWakeTests {
    @Test(arguments: [EchoProtocol.volley, .stamp])
    func idleReflectorDropsItsReceiveTimeoutAndStillStops(proto: EchoProtocol) throws {
        let port = freeUDPPort()
        var spec = JobSpec(mode: .reflect, listen: loopback(port), durationSeconds: 600)
        spec.echoProtocol = proto
        let run = try JobRun(spec: spec)
        let done = DispatchSemaphore(value: 0)
        run.start { _ in done.signal() }
        let fd = try #require(socketFD(holding: loopback(port)))
        // The worker's thread clears the timeout once its timer runs.
        let cleared = waitUntil(seconds: 20) { receiveTimeoutMicros(fd) == 0 }
        #expect(cleared, "the socket kept its receive timeout (\(receiveTimeoutMicros(fd) ?? -1) µs)")
        run.stop()
        #expect(done.wait(timeout: .now() + 30) == .success, "a stopped idle reflector did not end")
    }

    @Test func idleReflectorEndsAtItsDeadline() throws {
        let started = MonotonicClock.now()
        let run = try JobRun(spec: JobSpec(mode: .reflect, listen: loopback(freeUDPPort()), durationSeconds: 0.3))
        let done = DispatchSemaphore(value: 0)
        run.start { _ in done.signal() }
        #expect(done.wait(timeout: .now() + 30) == .success, "an idle reflector did not end at its deadline")
        #expect(MonotonicClock.now() - started >= 300_000_000)
    }
}

/// This process's descriptor of the socket bound to `endpoint`.
private func socketFD(holding endpoint: Endpoint) -> Int32? {
    guard let inodes = try? PortOwners.inodes(holding: endpoint) else { return nil }
    for fd in Int32(0)..<4096 {
        var info = stat()
        if fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK, inodes.contains(UInt64(info.st_ino)) { return fd }
    }
    return nil
}

private func receiveTimeoutMicros(_ fd: Int32) -> Int? {
    var tv = timeval()
    var len = socklen_t(MemoryLayout<timeval>.size)
    guard getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len) == 0 else { return nil }
    return tv.tv_sec * 1_000_000 + tv.tv_usec
}

private func waitUntil(seconds: Double, _ condition: () -> Bool) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if condition() { return true }
        usleep(1_000)
    }
    return condition()
}
