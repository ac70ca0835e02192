#!/usr/bin/env bash
# Builds the Debian package, installs it, runs the installed app signed in against the Graph
# twin with a real keyring, scans what it wrote for personal data and secrets, then removes the
# package and checks the per-user clean-up (scripts/package-check.sh does the run and checks).
#
# Usage: scripts/package-test.sh
# Must run as root (apt-get, dpkg). The package is a debug build: it bundles the same binary
# the other tests use, so it costs no second full build. Release packages come from
# `tauri build` without --debug (docs/deployment.md).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS

if ! command -v npm >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
(cd packaging && npm ci --no-audit --no-fund --loglevel=error)

target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
rm -rf "$target_dir/debug/bundle/deb"
(cd src-tauri && ../packaging/node_modules/.bin/tauri build --debug --bundles deb --ci)
package=$(ls "$target_dir"/debug/bundle/deb/*.deb)
built=$SECONDS
echo "package-test: built $(basename "$package") in $((built - started)) s"

cargo build -q --locked -p graph-twin
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$package" >/dev/null
dpkg -s presence-bridge | grep -q '^Status: install ok installed'
echo "package-test: installed; $(/usr/bin/presence-bridge --version)"
test -f "/usr/share/applications/Presence Bridge.desktop"

status=0
crates/graph/tests/with-keyring.sh scripts/package-check.sh "$target_dir/debug/graph-twin" || status=$?
if dpkg -s presence-bridge >/dev/null 2>&1; then
    # The check failed before it removed the package; remove it so that the machine is clean.
    dpkg -r presence-bridge >/dev/null || true
fi
echo "package-test: exit $status after $((SECONDS - started)) s"
exit "$status"
