import Foundation
import VolleyModel

/// Starts worker threads from one long-lived thread of its own. A new Linux thread inherits its
/// creator's nice value, and the agent lowers its HTTP and clock threads' priority; workers started
/// directly from those would run lowered too. The launcher's thread keeps the priority of the thread
/// that first used `shared` (the agent touches it at start-up, before it lowers any thread).
public final class ThreadLauncher: Sendable {
    public static let shared = ThreadLauncher()

    private let pending = Locked<[(name: String, body: @Sendable () -> Void)]>([])
    private let wake = NSCondition()

    private init() {
        let thread = Thread { [self] in run() }
        thread.name = "volley-launcher"
        thread.start()
    }

    /// Starts `body` on a new thread named `name`, soon (one hand-over to the launcher thread).
    public func launch(_ name: String, _ body: @escaping @Sendable () -> Void) {
        pending.withLock { $0.append((name, body)) }
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    private func run() {
        while true {
            wake.lock()
            while pending.withLock({ $0.isEmpty }) { wake.wait() }
            wake.unlock()
            for item in pending.withLock({ items -> [(name: String, body: @Sendable () -> Void)] in
                defer { items.removeAll() }
                return items
            }) {
                let thread = Thread(block: item.body)
                thread.name = item.name
                thread.start()
            }
        }
    }
}
