import Events

/// What polling needs to know about a source beyond its ``MetadataSource/path``.
extension MetadataSource {
    /// True when a 404 means "not configured here" (tags in IMDS not enabled, not in an Auto Scaling group):
    /// such a source is then polled at the slower absent interval. For the others a 404 just means "nothing now".
    package var absentMeansNotConfigured: Bool {
        self == .asg || self == .tags
    }

    /// Why the path is absent, for the log line, when ``absentMeansNotConfigured``.
    var absentReason: String {
        switch self {
        case .asg: "the instance is not in an Auto Scaling group"
        case .tags: "instance tags are not enabled in instance metadata"
        default: "nothing is pending"
        }
    }
}
