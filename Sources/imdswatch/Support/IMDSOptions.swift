import ArgumentParser

/// Options of every command that reads IMDS.
struct IMDSOptions: ParsableArguments {
    @Option(
        name: .long,
        help:
            "IMDS base URL (default: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else by $AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE http://169.254.169.254 or http://[fd00:ec2::254])."
    )
    var endpoint: String?

    @Option(name: .long, help: "Seconds allowed per IMDS request (default 2; connect: at most 1).")
    var imdsTimeout: Double?

    func validate() throws {
        if let imdsTimeout, !(imdsTimeout > 0 && imdsTimeout <= 300) {
            throw ValidationError("--imds-timeout must be between 0 and 300 seconds, got \(imdsTimeout)")
        }
    }
}
