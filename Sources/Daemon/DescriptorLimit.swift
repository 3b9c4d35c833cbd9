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
package enum DescriptorLimit {
    /// The fewest open descriptors imdswatch runs with: about 12 for the runtime's own (event loops, signal, timer
    /// and event descriptors), 16 for a hook's run (``Hooks``' headroom before a spawn), and a few left free.
    /// Below it the process would use up its last descriptor, and libdispatch's worker-pool monitor, which opens
    /// `/proc/self/task/TID/stat` about once a second, traps (SIGILL) when it cannot: measured at limits 11 and 12.
    package static let floor: UInt64 = 32

    /// Raises the soft limit to the hard one (as ``raiseSoftLimitToHard(logger:)``) and says whether the limit then
    /// in force is below ``floor``.
    /// - Parameter logger: For the new limit or the failure.
    /// - Returns: The one-line error to print when it is below the floor (the caller exits 1); `nil` otherwise.
    package static func raiseAndCheckFloor(logger: Logger) -> String? {
        guard let limit = raiseSoftLimitToHard(logger: logger), limit < floor else { return nil }
        return
            "the open-file limit (RLIMIT_NOFILE) is \(limit), below the \(floor) imdswatch needs: raise it (LimitNOFILE= in the unit, ulimit -n)"
    }

    /// Raises the soft limit to the hard limit; logs at debug what it did, and at warning when it cannot.
    /// - Parameter logger: For the new limit or the failure.
    /// - Returns: The soft limit in force afterwards, or `nil` when it cannot be read.
    @discardableResult
    package static func raiseSoftLimitToHard(logger: Logger) -> UInt64? {
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
