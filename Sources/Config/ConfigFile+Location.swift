extension ConfigFile {
    /// The config file read when `--config` is not given and systemd set no `$CONFIGURATION_DIRECTORY`.
    package static let defaultPath = "/etc/imdswatch/imdswatch.toml"
    /// The file name looked for in `$CONFIGURATION_DIRECTORY`.
    package static let fileName = "imdswatch.toml"

    /// Which config file to read.
    ///
    /// In order: `explicit` (the `--config` value, returned even when missing, so that loading it fails);
    /// `imdswatch.toml` in `$CONFIGURATION_DIRECTORY` (its first entry; systemd sets it from
    /// `ConfigurationDirectory=imdswatch`, i.e. `/etc/imdswatch`) if that file exists; ``defaultPath`` if it
    /// exists; else none, and the defaults apply.
    /// - Parameters:
    ///   - explicit: The `--config` value, if given.
    ///   - environment: The process environment.
    /// - Returns: The path to read, or `nil` when there is no config file.
    package static func locate(explicit: String?, environment: [String: String]) -> String? {
        locate(explicit: explicit, environment: environment, exists: FileSystem.exists)
    }

    /// ``locate(explicit:environment:)`` with the existence check injected, for tests.
    static func locate(explicit: String?, environment: [String: String], exists: (String) -> Bool) -> String? {
        if let explicit { return explicit }
        if let entry = environment["CONFIGURATION_DIRECTORY"]?.split(separator: ":").first, !entry.isEmpty {
            let directory = String(entry)
            let path = directory.hasSuffix("/") ? directory + fileName : directory + "/" + fileName
            if exists(path) { return path }
        }
        return exists(defaultPath) ? defaultPath : nil
    }
}
