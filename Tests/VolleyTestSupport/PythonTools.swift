import Foundation

/// Finds a Python interpreter that has the packages a test needs: `VOLLEY_PYTHON` (set by
/// `make test`), else the project's tool venv, else the system python3.
public enum PythonTools {
    public static func withHdrHistogram() -> URL? { importing("hdrh.histogram") }

    /// One that has scapy's STAMP codec and hdrhistogram, for the interop tests under Tests/Interop.
    public static func withScapy() -> URL? { importing("scapy.contrib.stamp, hdrh.histogram") }

    /// The folder of Python scripts the interop tests run (Tests/Interop, outside every target).
    public static let interopScripts = root.appendingPathComponent("Tests/Interop")

    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The first candidate that imports `modules` (a comma-separated import list).
    private static func importing(_ modules: String) -> URL? {
        var candidates: [String] = []
        if let env = ProcessInfo.processInfo.environment["VOLLEY_PYTHON"] { candidates.append(env) }
        candidates += [root.appendingPathComponent(".build-tools/venv/bin/python3").path, "/usr/bin/python3"]
        for path in candidates where FileManager.default.isExecutableFile(atPath: path) {
            let url = URL(fileURLWithPath: path)
            if let probe = try? runCommand(url, ["-c", "import \(modules)"]), probe.status == 0 { return url }
        }
        return nil
    }
}
