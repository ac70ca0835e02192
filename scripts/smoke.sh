#!/usr/bin/env bash
# Smoke test of the tray app on a machine without a desktop.
#
# Usage: scripts/smoke.sh <path to the presence-bridge binary> [seconds, default 20]
#
# Starts a virtual X server (Xvfb) and a private D-Bus session, runs the app with
# `--demo --demo-tour` for the given seconds with all its files in a temporary folder, saves a
# screenshot to target/screenshots/smoke.png, reads the tray menu over D-Bus (dbusmenu
# GetLayout), switches sync off and on and pauses and resumes from the menu (checking that the
# menu follows the core), clicks Quit through the dbusmenu Event method and checks that the app
# exits with code 0, and checks in the log that a Teams change reached Swyx and the tour's call
# showed as In a call. A second launch in between must exit with code 0 and leave the first
# running. Prints the app's log file. Needs: Xvfb, dbus-run-session, busctl, import (ImageMagick),
# python3.
set -euo pipefail

if [[ "${1:-}" == "--inside-session" ]]; then
    shift
    binary=$1 seconds=$2 work=$3 shots=$4

    "$binary" --demo --demo-tour >"$work/app.out" 2>"$work/app.err" &
    app_pid=$!
    echo "app started, pid $app_pid; running for $seconds s"
    sleep "$seconds"
    if ! kill -0 "$app_pid" 2>/dev/null; then
        wait "$app_pid" || true
        echo "FAIL: the app exited before the test was done; stderr:" >&2
        tail -n 30 "$work/app.err" >&2
        exit 1
    fi
    import -window root "$shots/smoke.png"
    echo "screenshot: $shots/smoke.png"

    # A second launch hands over to the first instance (which shows its window) and exits.
    second=0
    timeout 30 "$binary" --demo >"$work/second.out" 2>"$work/second.err" || second=$?
    if [[ $second -ne 0 ]] || ! kill -0 "$app_pid" 2>/dev/null; then
        echo "FAIL: second launch exited with code $second, or the first instance stopped" >&2
        tail -n 20 "$work/second.err" >&2
        exit 1
    fi
    echo "second launch exited with code 0; the first instance still runs"

    # The tray's D-Bus connection is one of the app's connections; it exports the menu object.
    bus_name=""
    menu_path=""
    for name in $(busctl --user list --no-legend | awk -v pid="$app_pid" '$2 == pid && $1 ~ /^:/ {print $1}'); do
        path=$(busctl --user tree --list "$name" 2>/dev/null | grep '/Menu$' | head -n 1 || true)
        if [[ -n "$path" ]]; then
            bus_name=$name
            menu_path=$path
            break
        fi
    done
    if [[ -z "$bus_name" ]]; then
        echo "FAIL: no tray menu found on the session bus" >&2
        kill -TERM "$app_pid"
        exit 1
    fi
    echo "tray menu: $bus_name $menu_path"

    menu() { python3 "$(dirname "$0")/tray_menu.py" "$bus_name" "$menu_path" "$@"; }
    menu list
    # wait_menu LABEL PROPERTY VALUE: the tray follows the core within 5 s.
    wait_menu() {
        local value=""
        for _ in $(seq 1 50); do
            value=$(menu get "$1" "$2" 2>/dev/null || true)
            [[ "$value" == "$3" ]] && return 0
            sleep 0.1
        done
        echo "FAIL: tray item '$1' has $2 = $value, expected $3" >&2
        kill -TERM "$app_pid"
        exit 1
    }

    # Sync off and on again from the tray: the check mark follows the core.
    wait_menu "Sync: on" toggle-state 1
    menu click "Sync: on"
    wait_menu "Sync: off" toggle-state 0
    menu click "Sync: off"
    wait_menu "Sync: on" toggle-state 1
    echo "tray: sync switched off and on"

    # A pause enables Resume; Resume disables it again.
    wait_menu "Resume" enabled false
    menu click "For 15 minutes"
    wait_menu "Resume" enabled true
    menu click "Resume"
    wait_menu "Resume" enabled false
    echo "tray: paused and resumed"

    echo "clicking Quit"
    menu click "Quit"

    for _ in $(seq 1 100); do
        kill -0 "$app_pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$app_pid" 2>/dev/null; then
        echo "FAIL: the app still runs 10 s after Quit" >&2
        kill -TERM "$app_pid"
        exit 1
    fi
    status=0
    wait "$app_pid" || status=$?
    if [[ $status -ne 0 ]]; then
        echo "FAIL: the app exited with code $status; stderr:" >&2
        tail -n 30 "$work/app.err" >&2
        exit 1
    fi
    echo "app exited with code 0"

    # The demo tour's call and table rows must have synced both ways.
    if ! grep -q 'sync applied direction=SwyxToTeams from=Speaking to=In a call' "$work/app.err"; then
        echo "FAIL: the log shows no Swyx call shown as In a call in Teams" >&2
        exit 1
    fi
    if ! grep -q 'sync applied direction=TeamsToSwyx' "$work/app.err"; then
        echo "FAIL: the log shows no Teams change written to Swyx" >&2
        exit 1
    fi
    grep 'sync applied' "$work/app.err" | sed 's/^/  /'
    echo "the log shows both directions synced"
    exit 0
fi

if [[ $# -lt 1 ]]; then
    echo "usage: $0 <presence-bridge binary> [seconds]" >&2
    exit 2
fi
binary=$(realpath "$1")
seconds=${2:-20}
repo=$(cd "$(dirname "$0")/.." && pwd)
shots="$repo/target/screenshots"
mkdir -p "$shots"
work=$(mktemp -d -t presence-bridge-smoke.XXXXXX)
mkdir -p "$work/home"

# The first display number without an X server socket.
display_number=90
while [[ -e "/tmp/.X11-unix/X$display_number" || -e "/tmp/.X$display_number-lock" ]]; do
    display_number=$((display_number + 1))
done
Xvfb ":$display_number" -screen 0 1280x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    [[ -e "/tmp/.X11-unix/X$display_number" ]] && break
    sleep 0.1
done

status=0
# stderr of the session (D-Bus activation notes, the menu listing) goes to a file, so the
# summary below stays readable.
env DISPLAY=":$display_number" HOME="$work/home" PRESENCE_BRIDGE_HOME="$work/home" \
    XDG_RUNTIME_DIR="$work" TMPDIR="$work" \
    dbus-run-session -- "$0" --inside-session "$binary" "$seconds" "$work" "$shots" \
    2>"$work/session.err" || status=$?
grep -v 'dbus-daemon\|SpiRegistry' "$work/session.err" >&2 || true

log=$(ls "$work"/home/state/logs/presence-bridge.*.log 2>/dev/null | head -n 1 || true)
echo "app log: ${log:-none written (stderr: $work/app.err)}"
if [[ $status -eq 0 ]]; then
    echo "smoke test passed"
else
    echo "smoke test FAILED"
fi
exit "$status"
