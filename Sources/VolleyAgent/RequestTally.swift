import Synchronization

/// HTTP requests by route and status, counted with one relaxed atomic add per request: the API's
/// pool threads share no lock and no dictionary on the way. `AgentMetrics` carries the counts into
/// its Prometheus counters when `/metrics` is read (`volley_http_requests_total`).
final class RequestTally: @unchecked Sendable {  // `slots` is written once here, then only through atomics
    /// Route names (patterns such as `/v1/jobs/{id}`, and the agent's own: `refused`, ...), by index.
    let routes: [String]
    /// Statuses counted one by one; any other (none is sent) counts under `otherStatus`.
    static let statuses = 100...599
    static let otherStatus = 0
    private static let width = statuses.count + 1
    private let slots: UnsafeMutablePointer<Atomic<Int>>

    init(routes: [String]) {
        self.routes = routes
        let count = routes.count * Self.width
        slots = .allocate(capacity: count)
        for i in 0..<count { (slots + i).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: routes.count * Self.width)
        slots.deallocate()
    }

    /// Counts one request on route `index` answered with `status`.
    @inline(__always)
    func count(route index: Int, status: Int) {
        guard routes.indices.contains(index) else { return }
        slots[index * Self.width + Self.column(status)].wrappingAdd(1, ordering: .relaxed)
    }

    /// Every (route, status) counted so far with its total.
    func totals() -> [(route: String, status: Int, count: Int)] {
        var out: [(route: String, status: Int, count: Int)] = []
        for (r, route) in routes.enumerated() {
            for column in 0..<Self.width {
                let count = slots[r * Self.width + column].load(ordering: .relaxed)
                if count > 0 { out.append((route, column == 0 ? Self.otherStatus : Self.statuses.lowerBound + column - 1, count)) }
            }
        }
        return out
    }

    private static func column(_ status: Int) -> Int {
        statuses.contains(status) ? status - statuses.lowerBound + 1 : 0
    }
}
