// swift-tools-version: 6.1
// libFuzzer targets for every IMDS decoder, the JSON parser and the config file parser.
// A separate root package (unsafe flags are allowed here, not in a dependency). Build and run with `Fuzz/run`.
import PackageDescription

/// One executable per fuzz target; libFuzzer provides `main`, the target provides `LLVMFuzzerTestOneInput`.
let targets: [(name: String, dependencies: [Target.Dependency])] = [
    ("fuzz-spot", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-rebalance", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-scheduled", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-asg-state", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-tags", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-identity", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-date", [.product(name: "IMDS", package: "imdswatch"), .product(name: "Events", package: "imdswatch")]),
    ("fuzz-json", [.product(name: "Events", package: "imdswatch")]),
    ("fuzz-config", [.product(name: "Config", package: "imdswatch")]),
]

let package = Package(
    name: "imdswatch-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "imdswatch", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
    ] + targets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport"] + target.dependencies,
            path: "Sources/\(target.name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
