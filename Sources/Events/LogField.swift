/// Logger metadata keys shared by every module. The journal handler writes each as an upper-case journal field
/// (`imdswatch_event_type` becomes `IMDSWATCH_EVENT_TYPE`), so these names are part of the external contract.
package enum LogField {
    /// The event type (`IMDSWATCH_EVENT_TYPE`).
    package static let eventType = "imdswatch_event_type"
    /// The event id (`IMDSWATCH_EVENT_ID`).
    package static let eventID = "imdswatch_event_id"
    /// A hook's file name (`IMDSWATCH_HOOK`).
    package static let hook = "imdswatch_hook"
    /// A hook's exit status (`IMDSWATCH_HOOK_EXIT_STATUS`).
    package static let hookExitStatus = "imdswatch_hook_exit_status"
    /// A webhook URL with credentials removed (`IMDSWATCH_WEBHOOK_URL`).
    package static let webhookURL = "imdswatch_webhook_url"
    /// A webhook delivery's HTTP status (`IMDSWATCH_WEBHOOK_STATUS`).
    package static let webhookStatus = "imdswatch_webhook_status"
    /// The result sent with `CompleteLifecycleAction` (`IMDSWATCH_LIFECYCLE_ACTION_RESULT`: `CONTINUE`, `ABANDON`).
    package static let lifecycleActionResult = "imdswatch_lifecycle_action_result"
}
