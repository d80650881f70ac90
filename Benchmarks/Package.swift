// swift-tools-version: 6.1
// Micro-benchmarks of the gateway's hot path (ordo-one/benchmark), kept out of the main
// package so that `swift build` / `swift test` of the gateway never fetch or build the
// benchmark tool.
//
// GatewayCore's cross-target API is `package`, which another package cannot see. So this
// package compiles GatewayCore itself, from the main package's sources, through the
// symlink `Sources/GatewayCore -> ../../Sources/GatewayCore`: the benchmarks then sit in
// the same package as GatewayCore and reach its `package` API, with no `public` API and no
// change to the root Package.swift. Keep the dependency list of the GatewayCore target
// below in step with the root Package.swift (same products, same versions).
//
// Run: swift package --package-path Benchmarks benchmark   (see RESULTS.md)
import PackageDescription

let package = Package(
    name: "sse-gateway-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // This exact traits line is required on this machine: the default traits would add
        // swift-runtime-interposer, which the local package mirror does not carry.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
    ],
    targets: [
        // The main package's GatewayCore, same sources (symlink), same dependencies.
        .target(
            name: "GatewayCore",
            dependencies: [
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/GatewayCore"
        ),
        .executableTarget(
            name: "HotPath",
            dependencies: [
                "GatewayCore",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/HotPath",
            plugins: [
                .plugin(name: "BenchmarkPlugin", package: "benchmark")
            ]
        ),
    ]
)
