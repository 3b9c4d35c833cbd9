/// The shipped example hooks, the files of `hooks.d/` in the repository: SwiftPM embeds them in the binary at build
/// time (`resources: [.embedInCode("hooks.d")]` of the Demo target, through the symlink `Sources/Demo/hooks.d`), so
/// that `imdswatch demo` works from a bare binary, with no source tree or package around.
///
/// SwiftPM names each embedded file after its base name (`10-drain.example` becomes `_0_drain_example`), so the
/// table below gives each its place in `hooks.d/`. A file added to `hooks.d/` without a row here is missed by the
/// demo, and `DemoTests` (which compares the demo's hooks with `hooks.d/`) fails.
enum ExampleHooks {
    /// Every file of `hooks.d/`, in byte order of its path (relative to `hooks.d/`, `.example` suffix included).
    static let files: [ExampleHook] = [
        ExampleHook(path: "90-notify.example", contents: PackageResources._0_notify_example),
        ExampleHook(path: "asg-lifecycle-state.d/10-drain.example", contents: PackageResources._0_drain_example),
        ExampleHook(
            path: "spot-interruption.d/10-stop-services.example", contents: PackageResources._0_stop_services_example),
        ExampleHook(
            path: "spot-interruption.d/20-stop-containers.example",
            contents: PackageResources._0_stop_containers_example),
    ]
}
