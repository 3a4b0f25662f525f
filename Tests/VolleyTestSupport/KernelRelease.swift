import Glibc

/// The running kernel's major and minor version, from uname(2); (0, 0) when it cannot be read.
public func kernelRelease() -> (major: Int, minor: Int) {
    var name = utsname()
    guard uname(&name) == 0 else { return (0, 0) }
    let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let parts = release.split(separator: ".", maxSplits: 2).prefix(2).map { Int($0.prefix { $0.isNumber }) ?? 0 }
    return parts.count == 2 ? (parts[0], parts[1]) : (0, 0)
}

/// Linux 6.12 and later honour a SCHED_OTHER thread's `sched_runtime` as its slice (EEVDF).
public var kernelHasPerTaskSlices: Bool {
    let (major, minor) = kernelRelease()
    return major > 6 || (major == 6 && minor >= 12)
}
