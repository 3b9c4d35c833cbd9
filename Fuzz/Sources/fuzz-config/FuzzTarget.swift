@testable import Config
import FuzzSupport

/// `ConfigFile.parse` (TOMLKit/toml++ underneath, then our validation): never crash; errors carry a message.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = fuzzString(data, size)
    do {
        let file = try ConfigFile.parse(text, path: "fuzz.toml")
        invariant(file.path == "fuzz.toml", "path")
    } catch {
        invariant(!error.issues.isEmpty, "an error without issues")
        _ = error.description
    }
    return 0
}
