#!/usr/bin/env bash
# Tray tests of the real app under Xvfb, each in its own private D-Bus session.
#
# Usage: scripts/tray_test.sh <path to the presence-bridge binary>
#
# 1. With a stand-in StatusNotifier watcher (scripts/tray_host_stub.py): there is exactly one
#    tray item, and its menu has the five entries. The Sync label and the item's Title follow
#    the core (delays printed), and every action works through the menu. A second launch exits
#    with code 0 without polling, writing or touching the keyring, and shows the first window.
# 2. Without a watcher: the window opens at start, demo sync runs, SIGTERM quits, and a tenant
#    start reads the stand-in keyring (the control that shows the keyring check can fail).
# 3. Two sessions of the same user (two private D-Bus sessions, as on a remote desktop server):
#    each runs its own instance, because the single-instance lock is per session.
# Needs: Xvfb, dbus-run-session, xwininfo (x11-utils), python3-dbus, python3-gi.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 <presence-bridge binary>" >&2
    exit 2
fi
binary=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)

display_number=90
while [[ -e "/tmp/.X11-unix/X$display_number" || -e "/tmp/.X$display_number-lock" ]]; do
    display_number=$((display_number + 1))
done
work=$(mktemp -d -t presence-bridge-tray.XXXXXX)
Xvfb ":$display_number" -screen 0 1280x900x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    [[ -e "/tmp/.X11-unix/X$display_number" ]] && break
    sleep 0.1
done

status=0
for mode in watcher no-watcher; do
    mkdir -p "$work/$mode/home"
    echo "--- $mode"
    env DISPLAY=":$display_number" HOME="$work/$mode/home" \
        PRESENCE_BRIDGE_HOME="$work/$mode/home" XDG_RUNTIME_DIR="$work/$mode" \
        TMPDIR="$work/$mode" \
        dbus-run-session -- /usr/bin/python3 -u "$here/tray_test.py" "$mode" "$binary" \
        "$work/$mode" 2>"$work/$mode/session.err" || status=1
    if [[ $status -ne 0 ]]; then
        grep -v 'dbus-daemon\|SpiRegistry' "$work/$mode/session.err" | tail -n 20 >&2 || true
        echo "app logs: $work/$mode/*.err" >&2
        break
    fi
done

if [[ $status -eq 0 ]]; then
    echo "--- two sessions"
    session_pids=()
    for session in first second; do
        mkdir -p "$work/$session/home"
        env DISPLAY=":$display_number" HOME="$work/$session/home" \
            PRESENCE_BRIDGE_HOME="$work/$session/home" XDG_RUNTIME_DIR="$work/$session" \
            dbus-run-session -- "$binary" --demo >"$work/$session/app.log" 2>&1 &
        session_pids+=($!)
    done
    sleep 8
    for index in 0 1; do
        session=$([[ $index -eq 0 ]] && echo first || echo second)
        if ! kill -0 "${session_pids[$index]}" 2>/dev/null; then
            echo "the $session session's instance exited; a single-instance lock spans sessions" >&2
            tail -n 5 "$work/$session/app.log" >&2
            status=1
        elif ! grep -q "app core started" "$work/$session/app.log"; then
            echo "the $session session's instance did not start its core" >&2
            status=1
        fi
    done
    for pid in "${session_pids[@]}"; do
        pkill -TERM -P "$pid" -x presence-bridge 2>/dev/null || true
    done
    for pid in "${session_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    [[ $status -eq 0 ]] && echo "both sessions ran their own instance"
fi
if [[ $status -eq 0 ]]; then
    echo "--- a start while the running instance quits"
    mkdir -p "$work/quitting/home"
    env DISPLAY=":$display_number" HOME="$work/quitting/home" \
        PRESENCE_BRIDGE_HOME="$work/quitting/home" XDG_RUNTIME_DIR="$work/quitting" \
        dbus-run-session -- bash -c '
            stub=$1 folder=$2 binary=$3
            /usr/bin/python3 -u "$stub" >"$folder/stub.log" 2>&1 &
            for _ in $(seq 1 50); do grep -q ready "$folder/stub.log" && break; sleep 0.1; done
            "$binary" --demo >"$folder/app.log" 2>&1 &
            app=$!
            for _ in $(seq 1 150); do grep -q "app core started" "$folder/app.log" && break; sleep 0.1; done
            pkill -TERM -P "$app" 2>/dev/null || true
            kill -TERM "$app" 2>/dev/null || true
            wait "$app" 2>/dev/null || true
        ' _ "$here/quitting_instance_stub.py" "$work/quitting" "$binary"
    if ! grep -q "call received" "$work/quitting/stub.log"; then
        echo "the start did not hand over to the stand-in instance" >&2
        cat "$work/quitting/stub.log" >&2
        status=1
    elif ! grep -q "starting again" "$work/quitting/app.log" ||
        ! grep -q "app core started" "$work/quitting/app.log"; then
        echo "after the stand-in instance quit, the start did not start again" >&2
        tail -n 5 "$work/quitting/app.log" >&2
        status=1
    else
        echo "the start found the running instance quitting and started again"
    fi
fi
exit "$status"
