import Foundation

extension Process {
    /// Sets what to run and its environment: this process's environment without `removing`, plus `environment`.
    /// - Parameters:
    ///   - executable: Absolute path of the program.
    ///   - arguments: Its arguments.
    ///   - environment: Extra variables (they win over inherited ones).
    ///   - removing: Inherited variables to drop.
    func setCommand(_ executable: String, _ arguments: [String], environment: [String: String], removing: [String]) {
        executableURL = URL(fileURLWithPath: executable)
        self.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for key in removing { env.removeValue(forKey: key) }
        env.merge(environment) { _, new in new }
        self.environment = env
    }
}
