#!/usr/bin/env bash
# Runs a command against a real Secret Service: a private D-Bus session with gnome-keyring
# unlocked by a throw-away, non-empty password (an empty one leaves the login collection
# absent and every write fails), under a temporary HOME that is deleted afterwards.
#
# Usage: crates/graph/tests/with-keyring.sh [command...]
# Without a command it runs the real-keyring test of the graph crate. It sets
# PRESENCE_BRIDGE_REAL_KEYRING=1, which makes that test fail instead of skip when the keyring
# does not work. Needs dbus-run-session (dbus) and gnome-keyring-daemon (gnome-keyring).
set -euo pipefail

for tool in dbus-run-session gnome-keyring-daemon; do
    if ! command -v "$tool" >/dev/null; then
        echo "with-keyring.sh: $tool not found; install dbus and gnome-keyring" >&2
        exit 2
    fi
done

if [ "$#" -eq 0 ]; then
    set -- cargo test -p graph --test real_keyring -- --nocapture
fi

# Cargo and rustup find their homes through HOME unless told otherwise.
export CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}"
export RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -m 700 "$scratch/run"
export HOME="$scratch" XDG_RUNTIME_DIR="$scratch/run" XDG_DATA_HOME="$scratch/data"

dbus-run-session -- bash -c '
    set -euo pipefail
    eval "$(printf %s "presence-bridge-test" | gnome-keyring-daemon --unlock --components=secrets)"
    export GNOME_KEYRING_CONTROL
    export PRESENCE_BRIDGE_REAL_KEYRING=1
    status=0
    "$@" || status=$?
    if [ -n "${GNOME_KEYRING_PID:-}" ]; then kill "$GNOME_KEYRING_PID" 2>/dev/null || true; fi
    exit "$status"
' with-keyring "$@"
