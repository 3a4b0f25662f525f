import Foundation
import Glibc

/// Every folder a test process makes lives under one root of its own, which is removed when the
/// process exits: a `make test` used to leave a `volley-test-…` folder in the temporary directory
/// for every agent and spec file it made (244 per run; 4,171 had piled up on one machine).
public enum TestFolders {
    /// `$TMPDIR/volley-tests-PID-…`, made on first use; its removal is registered with `atexit`.
    public static let root: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("volley-tests-\(getpid())-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: TestFolders.root) }
        return url
    }()

    /// A new, empty folder under `root`.
    public static func make(_ prefix: String = "volley-test") -> URL {
        let url = root.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
