#!/usr/bin/env bash
# The installed app's run and removal, inside a private D-Bus session with gnome-keyring and a
# throw-away HOME (crates/graph/tests/with-keyring.sh provides both).
#
# Usage: scripts/package-check.sh GRAPH_TWIN_BINARY
# 1. Starts the Graph twin on loopback and the installed app in tenant mode against it with
#    --headless; a stand-in xdg-open completes the browser sign-in with curl.
# 2. Sets a few Teams statuses and a status message, then scans the app's output and every file
#    under HOME for the twin's issued codes and tokens, the user's name, UPN and e-mail and the
#    status message. It checks the token is in the keyring, so the scan looked for real data.
#    Both this run and a demo run go through strace, which records every connect(): all must be
#    to loopback.
# 3. Removes the package: the package's removal script must stop the app (which clears its
#    session), and remove the keyring entry, the state folder, the webview's data folder and the
#    start-at-login entry.
set -euo pipefail
twin_binary=$1
work="$HOME/check"
mkdir -p "$work" "$HOME/bin"
export PRESENCE_BRIDGE_HOME="$HOME/presence-bridge"
export PRESENCE_BRIDGE_POLICY="$HOME/no-policy.toml"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

fail() {
    echo "package-check: FAIL: $*" >&2
    exit 1
}

wait_for() { # seconds description command...
    local seconds=$1 what=$2
    shift 2
    for _ in $(seq 1 $((seconds * 5))); do
        if "$@"; then return 0; fi
        sleep 0.2
    done
    fail "$what did not happen within $seconds s"
}

"$twin_binary" --port 0 >"$work/twin.out" 2>&1 &
pids+=($!)
wait_for 10 "twin start" grep -q '^http' "$work/twin.out"
base=$(head -n 1 "$work/twin.out")
base=${base%/}
client_id=$(sed -n 's/^client id //p' "$work/twin.out")
echo "package-check: twin at $base"

mkdir -p "$PRESENCE_BRIDGE_HOME/config"
cat >"$PRESENCE_BRIDGE_HOME/config/config.toml" <<TOML
[tenant]
tenant = "organizations"
client_id = "$client_id"
authority_host = "$base/"
graph_base = "$base/v1.0/"

[sync]
poll_interval_secs = 1.0
TOML

# The browser: loads the sign-in page and follows the redirects back to the app.
cat >"$HOME/bin/xdg-open" <<'SH'
#!/bin/sh
curl -sS -L --max-redirs 10 -o /dev/null "$1" >>"$HOME/check/browser.out" 2>&1 &
SH
chmod +x "$HOME/bin/xdg-open"
export PATH="$HOME/bin:$PATH"

admin() { # method path json
    curl -sS -f -X "$1" -H 'content-type: application/json' --data "${3:-}" "$base/_twin/$2" >/dev/null
}

# Every outgoing connection is recorded, to check that only loopback is contacted.
only_loopback() { # trace description
    python3 - "$1" "$2" <<'PY'
import re, sys
trace, what = sys.argv[1], sys.argv[2]
text = open(trace).read()
inet = re.findall(r'sin_addr=inet_addr\("([^"]+)"\)', text)
inet6 = re.findall(r'inet_pton\(AF_INET6, "([^"]+)"', text)
others = [a for a in inet if not a.startswith("127.")] + [a for a in inet6 if a != "::1"]
if others:
    sys.exit(f"{what}: connections to {sorted(set(others))}")
if not inet and not inet6:
    sys.exit(f"{what}: no network connection recorded, so the trace proves nothing")
print(f"package-check: {what}: {len(inet) + len(inet6)} connections, all to loopback")
PY
}
# A proxy from the environment (a closed port here) must not break demo mode, which talks to
# its own loopback services.
HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 ALL_PROXY=http://127.0.0.1:9 \
    timeout -s INT 12 strace -f -qq -e trace=connect -o "$work/demo.trace" \
    /usr/bin/presence-bridge --headless --demo-tour >"$work/demo.out" 2>&1 || true
grep -q "sync applied" "$work/demo.out" || fail "the demo run synced nothing: $(tail -n 5 "$work/demo.out")"
only_loopback "$work/demo.trace" "demo mode" || fail "demo mode left loopback"

strace -f -qq -e trace=connect -o "$work/app.trace" \
    /usr/bin/presence-bridge --headless >"$work/app.out" 2>&1 &
app=$!
pids+=("$app")
polled() {
    curl -sS "$base/_twin/requests" | python3 -c '
import json, sys
records = json.load(sys.stdin)
sys.exit(0 if sum(1 for r in records if r.get("endpoint") == "presence") >= 2 else 1)'
}
wait_for 40 "sign-in and two presence polls" polled
echo "package-check: signed in; the app polls presence"

admin POST status-message '{"content": "Dentist at 3, back at 4 PRIVATE-NOTE-4711"}'
for pair in 'Busy InACall' 'DoNotDisturb Presenting' 'Away Away' 'Available Available'; do
    set -- $pair
    admin POST teams "{\"availability\": \"$1\", \"activity\": \"$2\"}"
    sleep 1.5
done
grep -q 'teams="Presenting"' "$work/app.out" ||
    fail "the app did not log the Teams status changes (nothing to scan): $(tail -n 5 "$work/app.out")"

secrets=$(curl -sS "$base/_twin/issued-secrets" | python3 -c '
import json, sys
for secret in json.load(sys.stdin):
    print(secret)')
[ "$(echo "$secrets" | grep -c .)" -ge 2 ] || fail "the twin issued fewer than 2 codes and tokens"
entries=$(secret-tool search --all service presence-bridge 2>&1 | grep -c '^\[/' || true)
[ "$entries" -ge 1 ] || fail "no token in the keyring after the sign-in"
echo "package-check: $(echo "$secrets" | grep -c .) issued secrets, $entries keyring entries"

# The marker of a call session, the start-at-login entry and the webview's data folder (the
# headless run opens no window, so WebKit wrote none), as the app leaves them.
webview_data="${XDG_DATA_HOME:-$HOME/.local/share}/de.presencebridge.app"
mkdir -p "$PRESENCE_BRIDGE_HOME/state" "$HOME/.config/autostart" "$webview_data/storage"
echo "set" >"$PRESENCE_BRIDGE_HOME/state/session.marker"
echo "x" >"$webview_data/storage/localstorage.sqlite3"
printf '[Desktop Entry]\nType=Application\nName=Presence Bridge\nExec=/usr/bin/presence-bridge\n' \
    >"$HOME/.config/autostart/Presence Bridge.desktop"
ls "$PRESENCE_BRIDGE_HOME/state/logs/"presence-bridge.*.log >/dev/null ||
    fail "no log file in $PRESENCE_BRIDGE_HOME/state/logs"

only_loopback "$work/app.trace" "signed-in run" || fail "the signed-in run left loopback"

# The privacy scan: no secret, no name, UPN, e-mail or status message anywhere the app wrote.
found=0
scan() { # needle description
    local hits
    hits=$(grep -rlaiF -- "$1" "$work/app.out" "$PRESENCE_BRIDGE_HOME" "$HOME/.config" 2>/dev/null || true)
    if [ -n "$hits" ]; then
        echo "package-check: LEAK of $2 in: $hits" >&2
        found=1
    fi
}
while read -r secret; do
    [ -n "$secret" ] && scan "$secret" "an issued code or token"
done <<<"$secrets"
scan "adele.vance@contoso.example" "the UPN and e-mail"
scan "Adele Vance" "the display name"
scan "contoso.example" "the user's domain"
scan "PRIVATE-NOTE-4711" "the status message"
[ "$found" = 0 ] || fail "personal data or secrets were written (see above)"
echo "package-check: privacy scan clean: $(find "$PRESENCE_BRIDGE_HOME" "$HOME/.config" -type f | wc -l) files and the app's output"

# Removal: the package's script stops the app and cleans up for its user.
dpkg -r presence-bridge
for _ in $(seq 1 50); do kill -0 "$app" 2>/dev/null || break; sleep 0.2; done
kill -0 "$app" 2>/dev/null && fail "the app still runs after the package was removed"
wait "$app" || true
grep -q "quitting: clearing the own session" "$work/app.out" ||
    fail "the app did not quit through its clean path: $(tail -n 5 "$work/app.out")"
[ ! -e /usr/bin/presence-bridge ] || fail "/usr/bin/presence-bridge is still installed"
left=$(secret-tool search --all service presence-bridge 2>&1 | grep -c '^\[/' || true)
[ "$left" = 0 ] || fail "$left keyring entries left after the removal"
[ ! -e "$PRESENCE_BRIDGE_HOME/state" ] || fail "the state folder is left: $(ls -R "$PRESENCE_BRIDGE_HOME/state")"
[ ! -e "$webview_data" ] || fail "the webview's data folder is left: $(ls -R "$webview_data")"
[ ! -e "$HOME/.config/autostart/Presence Bridge.desktop" ] || fail "the start-at-login entry is left"
[ -e "$PRESENCE_BRIDGE_HOME/config/config.toml" ] || fail "the settings file was removed"
echo "package-check: removal stopped the app and removed the keyring entry, state folder, webview data folder and start-at-login entry"
