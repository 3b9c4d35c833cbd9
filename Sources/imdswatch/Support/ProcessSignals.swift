#if canImport(Glibc)
    import Glibc
#endif

/// Process-wide signal settings the daemon needs whatever started it.
enum ProcessSignals {
    /// Unblocks SIGTERM, SIGINT and SIGHUP.
    ///
    /// A signal mask is inherited across exec: a launcher that blocks SIGTERM (some supervisors, or a test runner's
    /// thread) would otherwise leave the daemon deaf to shutdown requests. systemd resets the mask itself.
    static func unblockTerminationSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        sigprocmask(SIG_UNBLOCK, &set, nil)
    }
}
