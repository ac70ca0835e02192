#!/usr/bin/env bash
# Runs the WebDriver test of the window against the real app binary.
#
# Usage: scripts/webdriver.sh <path to the presence-bridge binary>
#
# Starts a virtual X server and a private D-Bus session, then WebKitWebDriver (from the
# webkit2gtk-driver package) with TAURI_WEBVIEW_AUTOMATION=true, which the app's webview needs
# to accept automation. Runs src-tauri/tests/ui/webdriver_test.py once with the default theme
# and once more with GTK_THEME=Adwaita:dark for a dark screenshot, then
# src-tauri/tests/ui/states_test.py, which walks the window through every row of
# docs/states.md. Screenshots go to target/screenshots/. All app files live in a temporary
# folder.
set -euo pipefail

if [[ "${1:-}" == "--inside-session" ]]; then
    shift
    binary=$1 work=$2 shots=$3 repo=$4
    run_driver() {
        local theme=$1 script=$2
        shift 2
        local port
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        env TAURI_WEBVIEW_AUTOMATION=true ${theme:+GTK_THEME=$theme} \
            WebKitWebDriver --port="$port" >"$work/driver-$port.log" 2>&1 &
        local driver_pid=$!
        for _ in $(seq 1 50); do
            python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/status', timeout=1)" \
                2>/dev/null && break
            sleep 0.1
        done
        local status=0
        python3 "$repo/src-tauri/tests/ui/$script" --port "$port" --binary "$binary" \
            --screenshots "$shots" "$@" || status=$?
        kill "$driver_pid" 2>/dev/null || true
        wait "$driver_pid" 2>/dev/null || true
        return "$status"
    }
    run_driver "" webdriver_test.py || exit 1
    # A second, short session only for the dark screenshot; a failure to get dark colours is
    # reported but does not fail the run, because it depends on the GTK theme installed.
    run_driver "Adwaita:dark" webdriver_test.py --only-screenshot --theme dark ||
        echo "dark screenshot not taken" >&2
    started=$(date +%s)
    # The states walk also signs in against the Graph twin without --demo: a stand-in
    # browser follows the sign-in page's redirects back to the app.
    mkdir -p "$work/bin"
    printf '#!/bin/sh\ncurl -sS -L --max-redirs 10 -o /dev/null "$1" >>"%s/browser.out" 2>&1 &\n' \
        "$work" >"$work/bin/xdg-open"
    chmod +x "$work/bin/xdg-open"
    PATH="$work/bin:$PATH" run_driver "" states_test.py --states "$repo/docs/states.md" \
        --twin "$(dirname "$binary")/graph-twin" || exit 1
    echo "states walk took $(($(date +%s) - started)) s"
    exit 0
fi

if [[ $# -lt 1 ]]; then
    echo "usage: $0 <presence-bridge binary>" >&2
    exit 2
fi
binary=$(realpath "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
shots="$repo/target/screenshots"
mkdir -p "$shots"
work=$(mktemp -d -t presence-bridge-webdriver.XXXXXX)
mkdir -p "$work/home"

display_number=90
while [[ -e "/tmp/.X11-unix/X$display_number" || -e "/tmp/.X$display_number-lock" ]]; do
    display_number=$((display_number + 1))
done
Xvfb ":$display_number" -screen 0 1280x1000x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
trap 'kill "$xvfb_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    [[ -e "/tmp/.X11-unix/X$display_number" ]] && break
    sleep 0.1
done

status=0
env DISPLAY=":$display_number" HOME="$work/home" PRESENCE_BRIDGE_HOME="$work/home" \
    XDG_RUNTIME_DIR="$work" TMPDIR="$work" \
    dbus-run-session -- "$0" --inside-session "$binary" "$work" "$shots" "$repo" \
    2>"$work/session.err" || status=$?
grep -v 'dbus-daemon\|SpiRegistry' "$work/session.err" >&2 || true
echo "files of the run: $work"
if [[ $status -eq 0 ]]; then
    echo "webdriver test passed"
else
    echo "webdriver test FAILED"
fi
exit "$status"
