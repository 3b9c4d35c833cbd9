/// Paths relative to `/latest/` that `imdswatch get`, the poller and the AWS credentials read, each defined once.
///
/// The lifecycle paths are ``MetadataSource/path`` (Events, since each event's `source` names one); the rest are
/// here.
package enum MetadataPath {
    /// The top-level categories under `/latest/`: a name that is one of these is a path, not an attribute.
    package static let categories = [metaData, dynamic, userData]
    /// `meta-data`: the instance metadata tree.
    package static let metaData = "meta-data"
    /// `dynamic`: the identity document and its signatures.
    package static let dynamic = "dynamic"
    /// `user-data`: the bytes given at launch (binary, possibly large or secret).
    package static let userData = "user-data"

    /// The instance identity document (JSON).
    package static let identityDocument = "dynamic/instance-identity/document"
    /// The role credentials directory: its listing names the role; each entry is a credential document.
    package static let iamSecurityCredentials = "meta-data/iam/security-credentials/"
    /// The instance identity credentials directory.
    package static let identityCredentials = "meta-data/identity-credentials/"
    /// The public keys directory, whose listing reads `0=key-name`.
    package static let publicKeys = "meta-data/public-keys/"

    /// Directories whose leaves hold credentials: a tree walk lists their names but never reads them.
    package static let credentialDirectories = [iamSecurityCredentials, identityCredentials]

    /// Whether the leaf at `path` holds a credential (keys, tokens) and must not appear in a whole-tree document.
    /// - Parameter path: A leaf path relative to `/latest/`.
    package static func holdsCredentials(_ path: String) -> Bool {
        credentialDirectories.contains { path.hasPrefix($0) }
    }

    /// `path` under `meta-data/`.
    static func underMetaData(_ path: String) -> String {
        metaData + "/" + path
    }
}
