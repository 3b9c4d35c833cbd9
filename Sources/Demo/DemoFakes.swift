import Foundation

/// The fake commands the demo puts first on the hooks' PATH: each records its command line in the calls file and
/// does nothing else (`docker ps` lists two made-up containers; the `imdswatch` fake hands `get` to the real binary
/// with `--endpoint $IMDSWATCH_DEMO_ENDPOINT`, the simulator). So the example hooks run for real,
/// while no service, container, Auto Scaling group, terminal or journal of this machine is touched.
enum DemoFakes: Sendable {
    /// A fake command: its name on PATH and its `sh` script.
    struct Fake: Sendable, Equatable {
        /// The command name (`systemctl`).
        var name: String
        /// The script.
        var script: String
    }

    /// The container ids `docker ps` answers.
    static let containers = ["3f2a9c1e0b7d", "8e1d4b6a2c90"]

    /// Every fake.
    /// - Parameters:
    ///   - callsFile: Where calls are recorded, one line each: `IMDSWATCH_EVENT_ID<TAB>command line`.
    ///   - realBinary: The `imdswatch` binary that the `imdswatch` fake executes.
    static func all(callsFile: String, realBinary: String) -> [Fake] {
        let quiet = ["systemctl", "aws", "wall", "logger", "systemd-cat"].map {
            Fake(name: $0, script: script(name: $0, callsFile: callsFile, then: "exit 0"))
        }
        let docker = Fake(
            name: "docker",
            script: script(
                name: "docker", callsFile: callsFile,
                then: """
                    case "${1:-}" in
                        ps) printf '%s\\n' \(containers.joined(separator: " ")) ;;
                        stop) shift; while [ $# -gt 0 ]; do case "$1" in --time|-t) shift 2 ;; *) echo "$1"; shift ;; esac; done ;;
                    esac
                    exit 0
                    """))
        let imdswatch = Fake(
            name: "imdswatch",
            script: script(
                name: "imdswatch", callsFile: callsFile,
                then: """
                    if [ "${1:-}" = get ] && [ -n "${IMDSWATCH_DEMO_ENDPOINT:-}" ]; then
                        shift
                        exec \(shellQuoted(realBinary)) get --endpoint "$IMDSWATCH_DEMO_ENDPOINT" "$@"
                    fi
                    echo "imdswatch demo: hooks may only call imdswatch get here" >&2
                    exit 2
                    """))
        return quiet + [docker, imdswatch]
    }

    /// A script that appends its command line (arguments with spaces or quotes shown in double quotes) to the calls
    /// file, then runs `then`.
    private static func script(name: String, callsFile: String, then: String) -> String {
        """
        #!/bin/sh
        # imdswatch demo: a fake `\(name)` that records how it was called and changes nothing.
        line=\(name)
        for arg in "$@"; do
            case "$arg" in
                '' | *[!A-Za-z0-9_./:=@%+,-]*) line="$line \\"$arg\\"" ;;
                *) line="$line $arg" ;;
            esac
        done
        printf '%s\\t%s\\n' "${IMDSWATCH_EVENT_ID:-}" "$line" >>\(shellQuoted(callsFile))
        \(then)

        """
    }

    /// `text` in single quotes for `sh`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }
}
