// Generated from hooks.d/ by Tests/EndToEndTests/DemoTests.swift: do not edit by hand.
// After changing a hook in hooks.d/, regenerate: IMDSWATCH_REGENERATE_DEMO_HOOKS=1 swift test --filter DemoTests
// (DemoTests fails while the copies below differ from hooks.d/ by a single byte.)

/// The shipped example hooks of `hooks.d/`, compiled into the binary so that `imdswatch demo` works from any
/// directory and after `scripts/install`, with no source tree around.
enum ExampleHooks {
    /// Every file of `hooks.d/`, in byte order of its path (relative to `hooks.d/`, `.example` suffix included).
    static let files: [ExampleHook] = [
        ExampleHook(
            path: "90-notify.example",
            contents: ##"""
#!/bin/sh
# imdswatch hook: tell people about every event, on their terminals and in the journal.
#
# What it does: writes one line ("imdswatch: spot-interruption on i-0123..., deadline ...") with `logger`
#   (syslog/journal; `systemd-cat` when logger is missing), and for the types in WALL_TYPES also with `wall`
#   to every logged-in terminal.
# Needs: logger (util-linux) or systemd-cat; wall (util-linux) for terminal messages. Nothing else.
# Enable (it runs for every event type, last because of the 90- prefix):
#   install -m 755 90-notify.example /etc/imdswatch/hooks.d/90-notify
# Rehearse: imdswatch hooks test maintenance-scheduled
set -u

# Event types announced with wall; empty: none.
WALL_TYPES="${IMDSWATCH_NOTIFY_WALL_TYPES:-spot-interruption rebalance-recommendation maintenance-scheduled maintenance-changed asg-lifecycle-state}"
# Set to 0 to skip the journal/syslog line.
JOURNAL="${IMDSWATCH_NOTIFY_JOURNAL:-1}"
# The syslog tag.
TAG="${IMDSWATCH_NOTIFY_TAG:-imdswatch-hook}"

type="${IMDSWATCH_EVENT_TYPE:-unknown}"
message="imdswatch: $type on ${IMDSWATCH_INSTANCE_ID:-this instance}${IMDSWATCH_DEADLINE:+, deadline $IMDSWATCH_DEADLINE}"
case "$type" in
    spot-interruption | asg-lifecycle-state) priority=warning ;;
    *) priority=notice ;;
esac
if [ "${IMDSWATCH_DRY_RUN:-0}" = 1 ]; then
    echo "dry run: would announce: $message"
    exit 0
fi

status=0
if [ "$JOURNAL" = 1 ]; then
    if command -v logger >/dev/null 2>&1; then
        logger -t "$TAG" -p "daemon.$priority" -- "$message" || status=1
    elif command -v systemd-cat >/dev/null 2>&1; then
        echo "$message" | systemd-cat -t "$TAG" -p "$priority" || status=1
    else
        echo "neither logger nor systemd-cat found" >&2
        status=1
    fi
fi
for wall_type in $WALL_TYPES; do
    if [ "$wall_type" = "$type" ]; then
        wall "$message" || status=1
        break
    fi
done
exit "$status"

"""##
        ),
        ExampleHook(
            path: "asg-lifecycle-state.d/10-drain.example",
            contents: ##"""
#!/bin/sh
# imdswatch hook: drain this instance before its Auto Scaling group terminates it.
#
# What it does: when the target lifecycle state becomes Terminated, runs DRAIN_COMMAND (if set) and exits with
#   its status. Other states: nothing. imdswatch itself sends the lifecycle heartbeats while this runs and
#   completes the lifecycle action when it ends (CONTINUE on exit 0, else [asg] on_hook_failure): set
#   [asg] termination_hook (or --asg-termination-hook) to the group's termination lifecycle hook. No AWS CLI.
# Needs: whatever DRAIN_COMMAND needs. IMDSWATCH_ASG_NAME and IMDSWATCH_LIFECYCLE_HOOK are set for it when known.
# Enable:
#   install -m 755 10-drain.example /etc/imdswatch/hooks.d/asg-lifecycle-state.d/10-drain
#   and set DRAIN_COMMAND below or IMDSWATCH_DRAIN_COMMAND in the daemon's environment.
# Rehearse: imdswatch hooks test asg-lifecycle-state --dry-run
set -u

DRAIN_COMMAND="${IMDSWATCH_DRAIN_COMMAND:-}"                # run with sh -c; e.g. "/usr/local/bin/drain-node"

# Prints a field of the payload given as a dotted path (data.state); empty when absent.
field() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c '
import json, sys
value = json.load(open(sys.argv[1]))
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value)' "$IMDSWATCH_EVENT_FILE" "$1"
    elif command -v jq >/dev/null 2>&1; then
        jq -r --arg path "$1" 'getpath($path | split(".")) // empty' "$IMDSWATCH_EVENT_FILE"
    else
        # Crude fallback: the first "key":"value" with the path's last component.
        tr ',{' '\n\n' <"$IMDSWATCH_EVENT_FILE" | sed -n "s/^ *\"${1##*.}\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
    fi
}

state=$(field data.state)
if [ "$state" != "Terminated" ]; then
    echo "target lifecycle state is ${state:-unknown}: nothing to do"
    exit 0
fi
if [ -z "$DRAIN_COMMAND" ]; then
    echo "no DRAIN_COMMAND set: nothing to drain"
    exit 0
fi
echo "draining ${IMDSWATCH_ASG_NAME:+group $IMDSWATCH_ASG_NAME }(lifecycle hook ${IMDSWATCH_LIFECYCLE_HOOK:-not configured}): $DRAIN_COMMAND"
if [ "${IMDSWATCH_DRY_RUN:-0}" = 1 ]; then
    echo "dry run: would run sh -c \"$DRAIN_COMMAND\""
    exit 0
fi
sh -c "$DRAIN_COMMAND"

"""##
        ),
        ExampleHook(
            path: "spot-interruption.d/10-stop-services.example",
            contents: ##"""
#!/bin/sh
# imdswatch hook: stop services as soon as a spot interruption notice arrives.
#
# What it does: runs `systemctl stop --no-block UNIT` for every unit in SERVICES, so that each service
#   starts its own clean shutdown (the hook does not wait for them; the 2-minute notice is short).
# Needs: systemd (systemctl). The daemon must run as root, or as a user allowed to stop the units.
# Enable:
#   install -m 755 10-stop-services.example /etc/imdswatch/hooks.d/spot-interruption.d/10-stop-services
#   then set SERVICES below, or IMDSWATCH_STOP_SERVICES in the daemon's environment
#   (e.g. `systemctl edit imdswatch` -> [Service] Environment=IMDSWATCH_STOP_SERVICES="app.service worker.service").
# Rehearse: imdswatch hooks test spot-interruption --dry-run   (with IMDSWATCH_DRY_RUN=1 it only prints)
set -u

# Units to stop, separated by spaces.
SERVICES="${IMDSWATCH_STOP_SERVICES:-myapp.service}"

status=0
for unit in $SERVICES; do
    if [ "${IMDSWATCH_DRY_RUN:-0}" = 1 ]; then
        echo "dry run: would run systemctl stop --no-block $unit"
        continue
    fi
    if systemctl stop --no-block "$unit"; then
        echo "stopping $unit (spot interruption, deadline ${IMDSWATCH_DEADLINE:-unknown})"
    else
        echo "could not stop $unit" >&2
        status=1
    fi
done
exit "$status"

"""##
        ),
        ExampleHook(
            path: "spot-interruption.d/20-stop-containers.example",
            contents: ##"""
#!/bin/sh
# imdswatch hook: stop running Docker containers before a spot instance is reclaimed.
#
# What it does: `docker stop --time T` of every running container (or of those matching FILTER), where T is
#   the seconds left until IMDSWATCH_DEADLINE (the spot action time) minus MARGIN, kept between MIN_TIME and
#   MAX_TIME. Containers get SIGTERM, then SIGKILL after T seconds.
# Needs: docker. GNU date (or python3) to read the deadline. Keep MAX_TIME below imdswatch's --hook-timeout
#   (default 90 s), or the hook itself is killed first.
# Enable:
#   install -m 755 20-stop-containers.example /etc/imdswatch/hooks.d/spot-interruption.d/20-stop-containers
#   and adjust the variables below (or set them in the daemon's environment).
# Rehearse: imdswatch hooks test spot-interruption --dry-run
set -u

MARGIN="${IMDSWATCH_DOCKER_MARGIN:-15}"       # seconds kept for what runs after the containers stopped
MIN_TIME="${IMDSWATCH_DOCKER_MIN_TIME:-2}"    # never give containers less than this
MAX_TIME="${IMDSWATCH_DOCKER_MAX_TIME:-75}"   # nor more than this (and when there is no deadline)
FILTER="${IMDSWATCH_DOCKER_FILTER:-}"         # e.g. "label=stop-on-spot=true"; empty: all running containers

# Seconds since the epoch of an RFC 3339 time, or nothing.
epoch_of() {
    date -u -d "$1" +%s 2>/dev/null && return
    command -v python3 >/dev/null 2>&1 && python3 -c '
import sys, datetime
print(int(datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()))' "$1" 2>/dev/null
}

time_left="$MAX_TIME"
if [ -n "${IMDSWATCH_DEADLINE:-}" ]; then
    deadline=$(epoch_of "$IMDSWATCH_DEADLINE")
    if [ -n "$deadline" ]; then
        time_left=$((deadline - $(date +%s) - MARGIN))
    fi
fi
[ "$time_left" -gt "$MAX_TIME" ] && time_left="$MAX_TIME"
[ "$time_left" -lt "$MIN_TIME" ] && time_left="$MIN_TIME"

if [ -n "$FILTER" ]; then
    containers=$(docker ps --quiet --filter "$FILTER") || { echo "docker ps failed" >&2; exit 1; }
else
    containers=$(docker ps --quiet) || { echo "docker ps failed" >&2; exit 1; }
fi
if [ -z "$containers" ]; then
    echo "no running containers"
    exit 0
fi
if [ "${IMDSWATCH_DRY_RUN:-0}" = 1 ]; then
    echo "dry run: would run docker stop --time $time_left" $containers
    exit 0
fi
echo "stopping containers with --time $time_left (deadline ${IMDSWATCH_DEADLINE:-none}):" $containers
# shellcheck disable=SC2086 # one argument per container id
exec docker stop --time "$time_left" $containers

"""##
        ),
    ]
}
