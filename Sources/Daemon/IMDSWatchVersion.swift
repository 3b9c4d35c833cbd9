import CBuildInfo

/// The version the binary was built as: stamped by scripts/build-release from `git describe` (see Sources/CBuildInfo).
package enum IMDSWatchVersion {
    /// The version, as in the webhooks' `User-Agent` and the packages' names: `1.2.3` at a `v1.2.3` tag,
    /// `1.2.3+4.gabcdef0` four commits after it, `0.0.0+gabcdef0` with no tag, `0.0.0-dev` for a plain `swift build`.
    package static let current = String(cString: imdswatch_build_version())
    /// The full commit hash the binary was built from, or `unknown`.
    package static let commit = String(cString: imdswatch_build_commit())
    /// What `imdswatch --version` prints: the version and the commit.
    package static let description = "\(current) (commit \(commit))"
}
