import Foundation

/// Finds a Python interpreter that has the `hdrhistogram` package: `VOLLEY_PYTHON` (set by
/// `make test`), else the project's tool venv, else the system python3.
public enum PythonTools {
    public static func withHdrHistogram() -> URL? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["VOLLEY_PYTHON"] { candidates.append(env) }
        candidates += [root.appendingPathComponent(".build-tools/venv/bin/python3").path, "/usr/bin/python3"]
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            let url = URL(fileURLWithPath: path)
            if let probe = try? runCommand(url, ["-c", "import hdrh.histogram"]), probe.status == 0 { return url }
        }
        return nil
    }
}
