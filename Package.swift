// swift-tools-version:6.0
import PackageDescription

// Linux only (README: Before you start): the engine uses sendmmsg/recvmmsg, UDP GSO/GRO, SO_RXQ_OVFL and
// SO_MEMINFO through Glibc and a C shim that refuses to compile elsewhere. No `platforms:` entry, so
// the manifest does not claim an Apple platform it cannot build for.
let package = Package(
    name: "volley",
    products: [
        .executable(name: "volley", targets: ["volley"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // libmicrohttpd through pkg-config; `make deps` installs it with apt-get.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // sendmmsg/recvmmsg and UDP GSO/GRO are not visible through Glibc; a tiny C shim exposes them.
        // Build with `-Xcc -DCBATCHIO_FORCE_FALLBACK` to compile the sendmsg/recvmsg loop in their place.
        .target(
            name: "CBatchIO",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // zlib for the standard HdrHistogram V2 compressed encoding; `make deps` installs zlib1g-dev.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "VolleyModel",
            dependencies: ["CZlib", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .target(
            name: "VolleyEngine",
            dependencies: [
                "CBatchIO", "VolleyModel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "MicroHTTP", dependencies: ["CMicroHTTPD"]),
        .target(
            name: "VolleyAgent",
            dependencies: [
                "MicroHTTP", "VolleyEngine", "VolleyModel", "VolleyReport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // HTML reports with inline SVG charts, built from results alone.
        .target(
            name: "VolleyReport",
            dependencies: ["VolleyModel", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .target(
            name: "VolleyFleet",
            dependencies: ["VolleyModel", .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        .executableTarget(
            name: "volley",
            dependencies: [
                "VolleyAgent", "VolleyEngine", "VolleyFleet", "VolleyModel", "VolleyReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer harnesses for the parsers of outside data (`make fuzz`); a plain build replays files.
        .executableTarget(
            name: "volley-fuzz",
            dependencies: [
                "CZlib", "VolleyEngine", "VolleyModel", .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),

        // Helpers shared by the test targets: UDP readers, free ports, a launched agent, an HTTP client.
        .target(name: "VolleyTestSupport", dependencies: ["VolleyModel"], path: "Tests/VolleyTestSupport"),
        .testTarget(name: "CBatchIOTests", dependencies: ["CBatchIO", "VolleyTestSupport"]),
        .testTarget(name: "VolleyModelTests", dependencies: ["VolleyModel", "VolleyTestSupport"]),
        .testTarget(name: "VolleyEngineTests", dependencies: ["VolleyEngine", "VolleyTestSupport"]),
        .testTarget(name: "MicroHTTPTests", dependencies: ["MicroHTTP", "VolleyTestSupport"]),
        .testTarget(name: "VolleyAgentTests", dependencies: ["VolleyAgent", "VolleyTestSupport"]),
        .testTarget(name: "VolleyReportTests", dependencies: ["VolleyReport", "VolleyModel", "VolleyTestSupport"]),
        .testTarget(name: "VolleyFleetTests", dependencies: ["VolleyFleet", "VolleyTestSupport"]),
        .testTarget(
            name: "volleyTests",
            dependencies: ["volley", "VolleyModel", "VolleyFleet", "VolleyTestSupport",
                           .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
    ]
)
