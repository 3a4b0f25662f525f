import ArgumentParser
import Glibc

/// SIGINT and SIGTERM for `volley serve`, by the self-pipe trick: whichever thread the kernel picks
/// runs the handler, which only writes the signal's number to a pipe (async-signal-safe); the
/// serving thread waits on the pipe. No signal mask needs to be right in every thread.
enum StopSignals {
    nonisolated(unsafe) private static var pipeFDs: [Int32] = [-1, -1]

    /// Installs the handlers; call before waiting.
    static func install() {
        pipe(&pipeFDs)
        for number in [SIGINT, SIGTERM] {
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

    /// Blocks until SIGINT or SIGTERM arrives; returns which.
    static func wait() -> Int32 {
        var byte: UInt8 = 0
        while read(pipeFDs[0], &byte, 1) != 1 {}
        return Int32(byte)
    }
}

/// The program's entry.
@main
enum Entry {
    static func main() async {
        StopSignals.unblock()
        do {
            var command = try VolleyCommand.parseAsRoot(nil)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            // A bad command line is refused input, like an invalid spec: status 2 (not sysexits' 64).
            if VolleyCommand.exitCode(for: error) == .validationFailure {
                let text = VolleyCommand.fullMessage(for: error)
                _ = text.utf8CString.withUnsafeBufferPointer { write(STDERR_FILENO, $0.baseAddress, $0.count - 1) }
                _ = write(STDERR_FILENO, "\n", 1)
                exit(ExitStatus.invalidInput.rawValue)
            }
            VolleyCommand.exit(withError: error)
        }
    }
}
