import VolleyModel

/// The verdict as a person sees it: one word and a colour (green passed, amber passed with
/// warnings, red failed, grey when there is none) and every check's message.
public enum VerdictView {
    /// The CSS class and the word for a verdict; nil (a job that never ran, an old result) is "none".
    public static func state(_ verdict: Verdict?) -> (cssClass: String, word: String) {
        guard let verdict else { return ("none", "—") }
        if !verdict.passed { return ("failed", "failed") }
        return verdict.warnings.isEmpty ? ("passed", "passed") : ("warnings", "warnings")
    }

    /// The block at the top of a report.
    static func html(_ verdict: Verdict?) -> String {
        let (cls, _) = state(verdict)
        guard let verdict else {
            return #"<section class="verdict none"><h2>No verdict</h2><p>This result has no verdict (the job never ran, or an older agent wrote it).</p></section>"#
        }
        let failed = verdict.failedThresholds.count, warned = verdict.warnings.count
        let headline: String
        switch cls {
        case "failed": headline = "Failed: \(failed) of \(verdict.checks.filter { $0.severity == .threshold }.count) thresholds not met"
        case "warnings": headline = "Passed, with \(warned) warning\(warned == 1 ? "" : "s")"
        default: headline = "Passed"
        }
        var out = #"<section class="verdict \#(cls)"><h2>\#(Escape.html(headline))</h2>"#
        if !verdict.checks.contains(where: { $0.severity == .threshold }) {
            out += "<p>No thresholds set: the job cannot fail on its numbers; only Volley's own sanity checks (warnings) ran.</p>"
        }
        // Failures first, then warnings, then what passed.
        let ordered = verdict.checks.sorted { rank($0) < rank($1) }
        out += "<ul>" + ordered.map { check in
            let (kind, mark) = check.passed ? ("pass", "✓ ") : check.severity == .warning ? ("warn", "⚠ warning: ") : ("fail", "✗ ")
            return #"<li class="\#(kind)">\#(mark)\#(Escape.html(check.message))</li>"#
        }.joined() + "</ul>"
        return out + "</section>"
    }

    private static func rank(_ check: Verdict.Check) -> Int {
        check.passed ? 2 : check.severity == .threshold ? 0 : 1
    }
}
