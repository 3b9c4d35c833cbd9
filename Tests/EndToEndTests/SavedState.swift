import Durability
import Events
import Foundation

/// The watch state a restarted daemon would load from a state dir: the event journal's last state, else the
/// checkpoint `state.json` (docs/events.md).
enum SavedState {
    static func read(stateDirectory: String) -> JSONValue? {
        if let bytes = FileManager.default.contents(atPath: stateDirectory + "/" + EventJournal.fileName) {
            for record in JournalRecord.read([UInt8](bytes)).records.reversed() {
                if case .detected(_, let state?) = record { return state }
            }
        }
        return (try? String(contentsOfFile: stateDirectory + "/" + EventJournal.checkpointName, encoding: .utf8))
            .flatMap { try? JSONDocument.parse($0) }
    }
}
