import TOMLKit

extension ConfigFileDecoder {
    /// The `[metrics]` table: `listen = "ADDR:PORT"`, `textfile = "/absolute/path.prom"`.
    mutating func metrics(_ root: TOMLTable) -> Settings.MetricsSettings {
        var metrics = Settings.MetricsSettings()
        guard let table = table(root, "metrics", at: "") else { return metrics }
        checkKeys(table, at: "metrics", allowed: ["listen", "textfile"])
        if let listen = string(table, "listen", at: "metrics") {
            switch Settings.ListenAddress.parse(listen) {
            case .success(let address): metrics.listen = address
            case .failure(let problem): fail("metrics.listen", problem.message)
            }
        }
        if let textfile = absolutePath(table, "textfile", at: "metrics") {
            if textfile.hasSuffix("/") {
                fail("metrics.textfile", "expected a file path, got the directory \(Validation.quoted(textfile))")
            } else {
                metrics.textfile = textfile
            }
        }
        return metrics
    }
}
