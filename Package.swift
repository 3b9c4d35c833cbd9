// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every target of ours: strict concurrency and the upcoming features the style guide asks for.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// The version and commit `scripts/build-release` stamps into the binary (it exports them; see Sources/CBuildInfo).
/// Only CBuildInfo's one C file sees them, so a new version recompiles that file and relinks, nothing else.
let buildInfoDefines: [CSetting] = ["IMDSWATCH_VERSION", "IMDSWATCH_COMMIT"].compactMap { name in
    Context.environment[name].map { .define(name, to: "\"\($0)\"") }
}

/// Release builds by `scripts/build-release` link libstdc++ and libgcc statically (the static Swift runtime and the C++
/// targets of our dependencies need them): the binary then needs no GLIBCXX version newer than a target distribution
/// has (docs/packaging.md). The script passes a folder holding only `libstdc++.a`, searched before the compiler's own.
let staticCxxRuntime: [LinkerSetting] =
    Context.environment["IMDSWATCH_STATIC_CXX_DIR"].map { folder in
        [
            .unsafeFlags(
                ["-L", folder, "-Xclang-linker", "-static-libgcc"], .when(platforms: [.linux], configuration: .release))
        ]
    } ?? []

let package = Package(
    name: "imdswatch",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "imdswatch", targets: ["imdswatch"]),
        // For the fuzz targets in Fuzz/ (a separate package that depends on this one by path).
        .library(name: "IMDS", targets: ["IMDS"]),
        .library(name: "Events", targets: ["Events"]),
        .library(name: "Config", targets: ["Config"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C shims: the only places that see libcurl and libsystemd.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),

        // The version and commit the binary was built from.
        .target(name: "CBuildInfo", cSettings: buildInfoDefines),
        // hypot/hypotf bound to glibc's base symbol version, so the static runtime needs no GLIBC_2.35 (docs/packaging.md).
        .target(name: "CGlibcCompat"),

        // The one retry backoff (exponential, capped, injectable jitter): IMDS, the Auto Scaling API, webhooks, hooks.
        .target(name: "Retry", dependencies: [], swiftSettings: strictSettings),
        // HTTP client over a libcurl easy handle, shared by the IMDS client and webhooks.
        .target(name: "HTTP", dependencies: ["CCurl"], swiftSettings: strictSettings),
        // IMDSv2: endpoint, tokens, retries, typed decoding of every lifecycle path.
        .target(
            name: "IMDS",
            dependencies: ["HTTP", "Retry", "Events", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // The event model: types, the v1 payload, the dispatch interface.
        .target(name: "Events", dependencies: [], swiftSettings: strictSettings),
        // Durability in the state directory: the event journal, `SafeFile` (durable, symlink- and FIFO-proof files),
        // `TrustedPath` (StrictModes-style path checks), `SystemCall` (EINTR retries, whole writes).
        .target(
            name: "Durability",
            dependencies: [
                "Events",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The configuration file (TOML), environment and defaults.
        .target(
            name: "Config",
            dependencies: [
                "TOMLKit", "Events", "Durability", "HTTP", "Journal", "Lifecycle", "Webhooks",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Metrics: the catalogue of every metric (swift-metrics API, swift-prometheus registry), the /metrics
        // listener and the node_exporter textfile.
        .target(
            name: "Telemetry",
            dependencies: [
                "Events",
                "Durability",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // Sources, change detection, persisted state, the poll loop.
        .target(
            name: "Watch",
            dependencies: [
                "HTTP", "IMDS", "Events", "Durability", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        // hooks.d discovery and execution.
        .target(
            name: "Hooks",
            dependencies: [
                "Events", "Durability", "Retry", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Subprocess", package: "swift-subprocess"),
            ],
            swiftSettings: strictSettings
        ),
        // Webhook delivery: outbox, retries, signing, formats.
        .target(
            name: "Webhooks",
            dependencies: [
                "HTTP", "Retry", "Events", "Durability", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // journald log handler, stderr log handler, sd_notify.
        .target(
            name: "Journal",
            dependencies: ["CSystemd", "Events", "Durability", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strictSettings
        ),
        // A strict IMDSv2 simulator with a control API and scenarios.
        .target(
            name: "Simulator",
            dependencies: [
                "Events", "SigV4",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strictSettings
        ),
        // AWS Signature Version 4: canonical request, string to sign, signing key (pure, no I/O).
        .target(
            name: "SigV4",
            dependencies: ["Events", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        // The Auto Scaling Query API over libcurl: credentials, signed requests, XML answers, retries.
        .target(
            name: "AWS",
            dependencies: [
                "HTTP", "IMDS", "Retry", "Events", "SigV4", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // Auto Scaling lifecycle actions: durable pending actions, heartbeats while hooks run, completion.
        .target(
            name: "Lifecycle",
            dependencies: [
                "AWS", "Events", "Durability", "Hooks", "HTTP", "IMDS", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The daemon's assembly from settings (IMDS client, poll loop, hooks, webhooks, lifecycle actions, metrics,
        // systemd), as `run` and `demo` build it. Never the simulator: Tests/EndToEndTests/ModuleGraphTests.swift
        // fails when this target or one below it depends on Simulator, or a Daemon file imports Simulator or NIO.
        .target(
            name: "Daemon",
            dependencies: [
                "IMDS", "HTTP", "Events", "Durability", "Config", "Watch", "Hooks", "Webhooks", "Journal", "AWS",
                "Lifecycle",
                "Telemetry", "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // `imdswatch demo`: the simulator, the daemon's own assembly observed, the shipped hooks.d/ example files
        // (embedded at build time through the symlink Sources/Demo/hooks.d -> ../../hooks.d).
        .target(
            name: "Demo",
            dependencies: [
                "Daemon", "Simulator", "Config", "Events", "Durability", "HTTP", "Hooks", "Journal", "Lifecycle",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("hooks.d")],
            swiftSettings: strictSettings
        ),
        // The command line: parses flags and hands over to Daemon (`run`), Simulator (`simulate`) or Demo (`demo`).
        .executableTarget(
            name: "imdswatch",
            dependencies: [
                "Daemon", "Demo", "Simulator",
                "IMDS", "HTTP", "Events", "Durability", "Config", "Watch", "Hooks", "Webhooks", "Journal", "Lifecycle",
                "Telemetry",
                "CGlibcCompat",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings,
            linkerSettings: staticCxxRuntime
        ),

        // Fakes shared by the test targets.
        .target(
            name: "IMDSWatchTestKit",
            dependencies: [
                "HTTP", "Simulator", "Events", "Durability",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/IMDSWatchTestKit",
            swiftSettings: strictSettings
        ),
        .testTarget(name: "HTTPTests", dependencies: ["HTTP", "IMDSWatchTestKit"], swiftSettings: strictSettings),
        .testTarget(
            name: "IMDSTests", dependencies: ["IMDS", "HTTP", "Retry", "Events", "Simulator", "IMDSWatchTestKit"],
            swiftSettings: strictSettings),
        .testTarget(name: "EventsTests", dependencies: ["Events"], swiftSettings: strictSettings),
        .testTarget(
            name: "DurabilityTests",
            dependencies: [
                "Durability", "Events", "IMDSWatchTestKit", .product(name: "InMemoryLogging", package: "swift-log"),
            ], swiftSettings: strictSettings),
        .testTarget(
            name: "ConfigTests",
            dependencies: [
                "Config", "HTTP", "Journal", "Lifecycle", "Webhooks", .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WatchTests",
            dependencies: [
                "Watch", "Durability", "Journal", "IMDSWatchTestKit",
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "HooksTests",
            dependencies: [
                "Hooks", "Durability", "Retry", "IMDSWatchTestKit",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "WebhooksTests", dependencies: ["Webhooks", "Durability", "Retry", "IMDSWatchTestKit"],
            swiftSettings: strictSettings),
        .testTarget(
            name: "JournalTests", dependencies: ["Journal", "IMDSWatchTestKit"], swiftSettings: strictSettings),
        .testTarget(
            name: "TelemetryTests",
            dependencies: [
                "Telemetry", "HTTP", "Events", "Durability", "IMDSWatchTestKit",
                .product(name: "InMemoryLogging", package: "swift-log"),
            ], swiftSettings: strictSettings),
        .testTarget(
            name: "SimulatorTests", dependencies: ["Simulator", "IMDSWatchTestKit"], swiftSettings: strictSettings),
        .testTarget(
            name: "AWSTests",
            dependencies: [
                "AWS", "SigV4", "Lifecycle", "Config", "Hooks", "HTTP", "IMDS", "Retry", "Events", "IMDSWatchTestKit",
            ],
            swiftSettings: strictSettings
        ),
        // The edges' exact output for every event type (golden files).
        .testTarget(
            name: "EventGoldenTests",
            dependencies: [
                "Events", "IMDS", "Watch", "Hooks", "Webhooks", "Journal", "Durability", "HTTP", "IMDSWatchTestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            exclude: ["Golden"],
            swiftSettings: strictSettings
        ),
        // Tests that drive the built `imdswatch` binary as a user would.
        .testTarget(
            name: "EndToEndTests", dependencies: ["IMDSWatchTestKit", "Simulator", "Events", "Durability"],
            swiftSettings: strictSettings),
    ]
)
