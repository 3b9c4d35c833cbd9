import Durability
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The process's limit on open descriptors (`RLIMIT_NOFILE`).
///
/// systemd starts services with a soft limit of 1024 (kept low for programs that still use `select`); imdswatch
/// never uses `select`, so it raises the soft limit to the hard one at start. Together with the metrics listener's
/// connection cap (far below either), the descriptors of the daemon's own work (IMDS, hooks, state, webhooks) stay
/// free whatever a local client does. Hooks inherit the raised limit, as they inherit the unit's `LimitNOFILE=`.
enum DescriptorLimit {
    /// Raises the soft limit to the hard limit; logs at debug what it did, and at warning when it cannot.
    /// - Parameter logger: For the new limit or the failure.
    /// - Returns: The soft limit in force afterwards, or `nil` when it cannot be read.
    @discardableResult
    static func raiseSoftLimitToHard(logger: Logger) -> UInt64? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else {
            logger.warning("cannot read the open-file limit: \(SystemCall.describe(errno: errno))")
            return nil
        }
        guard limit.rlim_cur < limit.rlim_max else { return UInt64(limit.rlim_cur) }
        let soft = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(resource, &limit) == 0 else {
            logger.warning(
                "cannot raise the open-file limit from \(soft) to \(limit.rlim_max): \(SystemCall.describe(errno: errno))"
            )
            return UInt64(soft)
        }
        logger.debug("open-file limit raised from \(soft) to \(limit.rlim_max)")
        return UInt64(limit.rlim_max)
    }

    #if canImport(Glibc)
        private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
        private static let resource = RLIMIT_NOFILE
    #endif
}
