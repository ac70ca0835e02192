#!/usr/bin/env bash
# Every check and test of Presence Bridge, in the order CI runs them. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints the free disk space: a full disk shows up as a linker's "Bus error".
step() {
  printf '\n==> %s (%s, %s free)\n' "$1" "$(date -u +%H:%M:%S)" \
    "$(df -h --output=avail . | tail -n 1 | tr -d ' ')"
}

started=$SECONDS

step "formatting"
cargo fmt --all -- --check

step "tray icons: size, distinctness, contrast on light and dark panels"
python3 icons/check.py

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "build"
cargo build --workspace --all-targets --locked

step "unit, integration and scenario tests"
cargo test --workspace --locked

if [[ -x crates/graph/tests/with-keyring.sh ]]; then
  step "token store against a real Secret Service (gnome-keyring)"
  crates/graph/tests/with-keyring.sh
fi

step "scenario replay"
scenario_dirs=(tests/scenarios)
if [[ -n "${PRESENCE_BRIDGE_SCENARIOS:-}" ]]; then
  scenario_dirs+=("$PRESENCE_BRIDGE_SCENARIOS")
fi
cargo run -q --locked -p e2e --bin scenarios -- "${scenario_dirs[@]}"

step "fault soak: 24 simulated hours, seed ${SOAK_SEED:=20261204}"
cargo run -q --locked -p e2e --bin soak -- --seed "$SOAK_SEED" --hours 24

step "the soak catches a broken rule (engine built without its echo hold)"
broken_output=$(cargo run -q --locked -p e2e --features fault-no-echo-hold --bin soak -- \
  --seed "$SOAK_SEED" --hours 24 || true)
if ! grep -q "FAIL soak seed $SOAK_SEED.*our own In a call came back" <<<"$broken_output"; then
  echo "the soak did not report the broken echo hold:" >&2
  echo "$broken_output" | tail -n 30 >&2
  exit 1
fi
grep "FAIL soak" <<<"$broken_output"
echo "the soak caught the broken rule, as it must"

step "benchmark (latencies print PASS/FAIL without failing; an idle hour with writes fails)"
cargo run -q --locked -p e2e --bin bench -- --samples 8 --idle-seconds 20

step "smoke run of the app (window and tray under Xvfb, demo tour)"
scripts/smoke.sh target/debug/presence-bridge 30

step "tray: stand-in tray host, second launch, no tray host (Xvfb, private D-Bus)"
scripts/tray_test.sh target/debug/presence-bridge

step "window tests through WebDriver"
scripts/webdriver.sh target/debug/presence-bridge

step "Windows type-check of the SwyxIt! COM layer (msvc) and of the whole app (gnu)"
scripts/wincheck.sh
# The app's TLS stack (ring) needs MSVC's own tools for the msvc target, so the app is checked
# for the gnu target, which sees the same cfg(windows) code.
WINCHECK_TARGET=x86_64-pc-windows-gnu scripts/wincheck.sh -p presence-bridge

step "SwyxIt! COM layer under Wine against a fake 32-bit Client Line Manager"
scripts/wine-clmgr.sh

step "Debian package: build, install, signed-in run with a privacy scan, removal"
# Last, because the package build switches the app binary to the embedded window files.
scripts/package-test.sh

echo
echo "all checks passed in $((SECONDS - started)) s"
