import ArgumentParser
import Config
import HTTP
import IMDS
import Logging

#if canImport(Glibc)
    import Glibc
#endif

extension Settings {
    /// An IMDSv2 client over libcurl for these settings (endpoint, timeouts, token TTL). Its requests and its retry
    /// sleeps run on the transport's event loop (`client.clock.loop`).
    ///
    /// `endpoint` already holds the flag, `AWS_EC2_METADATA_SERVICE_ENDPOINT` or the file's value; without one,
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE` picks the IPv4 or IPv6 default.
    /// - Parameter logger: Receives the warning for an endpoint that is neither link-local nor loopback (without one,
    ///   it goes to stderr).
    /// - Throws: ``ExitCode`` 2 after printing a one-line error when IMDS is disabled or the endpoint is invalid.
    package func makeIMDSClient(logger: Logger? = nil) throws -> IMDSClient<EventLoopClock> {
        let resolved: IMDSEndpoint
        do {
            resolved = try resolveIMDSEndpoint { warning in
                if let logger { logger.warning("\(warning)") } else { printError("imdswatch: warning: \(warning)") }
            }
        } catch {
            printError("imdswatch: \(error.message)")
            throw ExitCode(2)
        }
        let transport = CurlTransport(options: .init(proxy: .never), name: "imdswatch-imds")
        return IMDSClient(
            endpoint: resolved,
            transport: transport,
            configuration: .init(
                tokenTTLSeconds: tokenTTLSeconds,
                connectTimeout: min(imdsConnectTimeout, imdsTimeout),
                totalTimeout: imdsTimeout
            ),
            clock: transport.eventLoop.clock
        )
    }
}

/// The process environment as a dictionary.
package enum ProcessEnvironment {
    /// Every variable of this process.
    package static var current: [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let pair = String(cString: entry)
            if let equals = pair.firstIndex(of: "=") {
                result[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
            }
            pointer += 1
        }
        return result
    }
}

/// Writes one line to standard error.
package func printError(_ line: String) {
    var text = line
    if !text.hasSuffix("\n") { text += "\n" }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
