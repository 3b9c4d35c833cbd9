import Foundation

/// Reads a live process's memory and open file descriptors from `/proc`, for tests that check a daemon stays flat.
package enum ProcessProbe {
    /// One reading of a process.
    package struct Sample: Sendable, Equatable, CustomStringConvertible {
        /// Resident set size (`VmRSS`), in KiB.
        package var rssKiB: Int
        /// Peak resident set size (`VmHWM`), in KiB.
        package var hwmKiB: Int
        /// Entries in `/proc/PID/fd`.
        package var openFDs: Int
        /// Of those, sockets (`socket:[…]`).
        package var sockets: Int

        /// Creates a sample.
        package init(rssKiB: Int, hwmKiB: Int, openFDs: Int, sockets: Int = 0) {
            self.rssKiB = rssKiB
            self.hwmKiB = hwmKiB
            self.openFDs = openFDs
            self.sockets = sockets
        }

        package var description: String {
            "VmRSS \(rssKiB) KiB, VmHWM \(hwmKiB) KiB, \(openFDs) fds (\(sockets) sockets)"
        }
    }

    /// Reads `VmRSS`, `VmHWM`, the fd count and the socket count of `pid`.
    /// - Returns: `nil` when the process is gone (or `/proc` is not readable).
    package static func sample(_ pid: Int32) -> Sample? {
        guard let status = statusFields(pid), let rss = status["VmRSS"], let hwm = status["VmHWM"],
            let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return nil }
        let sockets = entries.filter { entry in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(entry)"))?.hasPrefix(
                "socket:") == true
        }.count
        return Sample(rssKiB: rss, hwmKiB: hwm, openFDs: entries.count, sockets: sockets)
    }

    /// The number of open file descriptors of `pid` (entries of `/proc/PID/fd`), or `nil` when it is gone.
    package static func openFDs(_ pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }

    /// The `kB` fields of `/proc/PID/status` (`VmRSS`, `VmHWM`, …) in KiB, or `nil` when the process is gone.
    package static func statusFields(_ pid: Int32) -> [String: Int]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        var fields: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { continue }
            let value = parts[1].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard value.count == 2, value[1] == "kB", let number = Int(value[0]) else { continue }
            fields[String(parts[0])] = number
        }
        return fields
    }

    /// Whether `pid` is alive: it exists and is not a zombie waiting to be reaped.
    package static func isAlive(_ pid: Int32) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return false }
        let state = text[text.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }
}
