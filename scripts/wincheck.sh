#!/usr/bin/env bash
# Type-checks the Windows build (the cfg(windows) code and the `windows` crate) on Debian 12,
# without a rustup Windows target: Debian's rustc-web builds the Windows std from source
# (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP=1). Nothing is linked or run.
#
# Usage: scripts/wincheck.sh [-p CRATE]...
#   Always checks `-p swyx-com --all-targets`; extra arguments are passed to `cargo check`,
#   e.g. `-p presence-bridge`. WINCHECK_TARGET_DIR sets the target directory (default
#   target/wincheck). Installs what it needs with apt-get, so it must run as root on a fresh
#   machine. Exits non-zero on a type error.
set -euo pipefail

started=$(date +%s)
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

# rustc-web, cargo-web and rust-web-src come from bookworm-security; they are installed
# together so that the compiler and the std source match. llvm provides llvm-rc, which the
# Tauri build script needs to compile the Windows resources of the app crate.
missing=()
if ! [ -x /usr/bin/rustc ] || ! [ -x /usr/bin/cargo ] || ! [ -d /usr/lib/rustlib/src/rust/library ]; then
    missing+=(rustc-web cargo-web rust-web-src)
fi
if ! command -v llvm-rc >/dev/null; then
    missing+=(llvm)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "wincheck: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
installed=$(date +%s)

# Debian's compiler and cargo live in /usr/bin; rustup's proxies stay first on PATH and stay
# the default for every other build, so both are named explicitly.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
export CARGO_PROFILE_DEV_DEBUG=0
test "$(/usr/bin/rustc --print sysroot)" = /usr

status=0
/usr/bin/cargo check --target x86_64-pc-windows-msvc -Zbuild-std=std,panic_abort \
    --target-dir "${WINCHECK_TARGET_DIR:-target/wincheck}" \
    -p swyx-com --all-targets "$@" || status=$?

finished=$(date +%s)
echo "wincheck: $(/usr/bin/rustc --version); install $((installed - started)) s," \
    "check $((finished - installed)) s, total $((finished - started)) s, exit $status"
exit "$status"
