import Foundation
import Glibc

/// SIGINT and SIGTERM, by the self-pipe trick: whichever thread the kernel picks runs the handler,
/// which only writes the signal's number to a pipe (async-signal-safe); a waiting thread reads it.
/// No signal mask needs to be right in every thread. Not a libdispatch signal source: that one waits
/// on a signalfd, and the kernel wakes every signalfd of a process on any signal sent to any of its
/// threads, so each of the echo worker's wake-up timer signals (one per request) woke libdispatch's
/// manager thread, which then ran in the middle of a round trip (Benchmarks/README.md).
enum StopSignals {
    nonisolated(unsafe) private static var pipeFDs: [Int32] = [-1, -1]

    /// Installs the handlers for `numbers`; call before waiting.
    static func install(_ numbers: [Int32] = [SIGINT, SIGTERM]) {
        if pipeFDs[0] < 0 {
            pipe(&pipeFDs)
            // A handler must never block: with nobody reading, further signals are dropped.
            _ = fcntl(pipeFDs[1], F_SETFL, fcntl(pipeFDs[1], F_GETFL) | O_NONBLOCK)
        }
        for number in numbers {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { number in
                var byte = UInt8(truncatingIfNeeded: number)
                _ = write(StopSignals.pipeFDs[1], &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(number, &action, nil)
        }
        unblock()
    }

    /// A parent may start us with these signals blocked (a child inherits the mask of the thread
    /// that spawned it: a libdispatch or Swift Testing worker thread blocks them). Then every
    /// thread blocks SIGTERM, it stays pending, and `kill` never stops the agent nor Ctrl-C a
    /// `volley run`. Called first thing, so every thread started later inherits the clear mask.
    static func unblock() {
        var stops = sigset_t()
        sigemptyset(&stops)
        sigaddset(&stops, SIGINT)
        sigaddset(&stops, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stops, nil)
    }

    /// Blocks until a signal installed for arrives (returns its number) or `endWatch` (returns 0).
    static func wait() -> Int32 {
        var byte: UInt8 = 0
        while read(pipeFDs[0], &byte, 1) != 1 {}
        return Int32(byte)
    }

    /// Calls `action` on a thread of its own each time SIGINT arrives, until the returned closure
    /// is called (Ctrl-C then does nothing more). That closure returns once the thread has ended, so
    /// a later watch never meets this one's end marker.
    static func onInterrupt(_ action: @escaping @Sendable () -> Void) -> @Sendable () -> Void {
        install([SIGINT])
        let ended = DispatchSemaphore(value: 0)
        let watcher = Thread {
            while wait() != 0 { action() }
            ended.signal()
        }
        watcher.name = "volley-sigint"
        watcher.start()
        return {
            var end: UInt8 = 0
            _ = write(StopSignals.pipeFDs[1], &end, 1)
            ended.wait()
        }
    }
}
