import ArgumentParser
import Foundation
import Glibc
import VolleyModel

/// What `volley run`, `volley pair` and `volley submit --wait` print, and where.
///
/// stdout carries either the result JSON or the human summary: JSON when stdout is not a terminal
/// (a pipe, a file) or with `--json`, else the summary. When stdout carries JSON, the summary goes to
/// stderr if stderr is a terminal (or progress was asked for with `--progress plain|tty`), so
/// `volley run … | jq` and `--wait > result.json` still show the person the outcome. `--quiet`
/// prints no progress and no summary; the exit status still tells. JSON is never reformatted.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the result JSON on stdout, also on a terminal.") var json = false
    @Flag(help: "No progress and no summary: only the JSON (when not on a terminal) and the exit status.")
    var quiet = false
    @Flag(help: "Add a per-second table to the summary.") var interval = false
    @Option(help: "Progress on stderr: auto (when stderr is a terminal), tty, plain (a line a second), none.")
    var progress: ProgressMode = .auto

    var progressMode: ProgressMode { quiet ? .none : progress }

    /// Whether the JSON goes to stdout (when no --out file takes it).
    var jsonOnStdout: Bool { json || isatty(STDOUT_FILENO) != 1 }

    /// Where the summary goes; nil for nowhere. `stdoutTaken`: stdout carries the JSON.
    func summaryHandle(stdoutTaken: Bool) -> FileHandle? {
        if quiet { return nil }
        if !stdoutTaken { return .standardOutput }
        let asked = progress == .plain || progress == .tty
        return isatty(STDERR_FILENO) == 1 || asked ? .standardError : nil
    }

    /// Prints `text` as the summary, if it goes anywhere.
    func printSummary(_ text: String, stdoutTaken: Bool) {
        summaryHandle(stdoutTaken: stdoutTaken)?.write(Data(text.utf8))
    }
}
