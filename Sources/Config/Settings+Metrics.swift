extension Settings {
    /// The `[metrics]` settings: where the Prometheus exposition is served and written. Both off by default.
    package struct MetricsSettings: Sendable, Equatable {
        /// `[metrics] listen` / `--metrics-listen`: the address `GET /metrics` is served on; `nil`: no listener.
        package var listen: ListenAddress?
        /// `[metrics] textfile`: the file written for node_exporter's textfile collector; `nil`: none.
        package var textfile: String?

        /// Creates settings; both off by default.
        package init(listen: ListenAddress? = nil, textfile: String? = nil) {
            self.listen = listen
            self.textfile = textfile
        }
    }

    /// A listening address `HOST:PORT` (`127.0.0.1:9092`, `[::1]:9092`, `0.0.0.0:9092`).
    package struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
        /// The host, without brackets.
        package var host: String
        /// The port, 0...65535 (0 picks a free one).
        package var port: Int

        /// Creates an address.
        package init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// Parses `HOST:PORT`, with an IPv6 host in brackets.
        /// - Parameter text: The value.
        /// - Returns: The address, or a one-line problem.
        package static func parse(_ text: String) -> Result<ListenAddress, ListenAddressProblem> {
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                    return .failure(
                        ListenAddressProblem(message: "expected [IPV6]:PORT, got \(Validation.quoted(text))"))
                }
                host = text[text.index(after: text.startIndex)..<close]
                portText = text[text.index(close, offsetBy: 2)...]
            } else {
                guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                    return .failure(
                        ListenAddressProblem(
                            message: "expected HOST:PORT (an IPv6 host in brackets), got \(Validation.quoted(text))"))
                }
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
            guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
                return .failure(
                    ListenAddressProblem(message: "expected HOST:PORT with a host, got \(Validation.quoted(text))"))
            }
            guard let port = Int(portText), (0...65535).contains(port) else {
                return .failure(
                    ListenAddressProblem(
                        message: "expected a port 0-65535 after the host, got \(Validation.quoted(text))"))
            }
            return .success(ListenAddress(host: String(host), port: port))
        }

        package var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// Why a listening address is invalid.
    package struct ListenAddressProblem: Error, Sendable, Equatable {
        /// One line.
        package var message: String
    }
}
