public import Events

extension StateStore {
    /// Checks, before the daemon starts, that nobody but root and the daemon's user can change the state directory:
    /// the directory and every ancestor (see ``TrustedPath``), and that `outbox`, `hooks-pending` and the state file
    /// are not symlinks (the files are also opened with `O_NOFOLLOW` every time; this turns a planted link into a
    /// clear refusal).
    /// - Parameter trusted: The walker (trusting root and the effective user by default).
    /// - Throws: ``StateStoreError`` with one sentence naming the path at fault. The directory is created (mode 0700)
    ///   when its parent exists; otherwise it is judged by its nearest existing ancestor.
    public func checkSafety(trusted: TrustedPath = TrustedPath()) throws(StateStoreError) {
        // Created first when its parent exists (as the first save would), so that the check sees the real directory:
        // one another user made in a sticky parent in the meantime is then theirs, and refused.
        try? SafeFile.makeDirectory(directory)
        if let problem = trusted.problem(withDirectory: directory) {
            throw StateStoreError(message: "refusing to use the state directory \(directory): \(problem)")
        }
        for name in [fileName, "outbox", "hooks-pending"] {
            let path = directory == "/" ? "/" + name : directory + "/" + name
            guard let kind = SafeFile.kind(of: path) else { continue }
            let expected: FileKind = name == fileName ? .regular : .directory
            if kind == .symlink || (kind != expected && name != fileName) {
                throw StateStoreError(
                    message: "refusing to use the state directory \(directory): \(path) is a \(kind), not a \(expected)"
                )
            }
        }
    }
}
