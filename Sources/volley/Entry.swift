import ArgumentParser
import Glibc

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
