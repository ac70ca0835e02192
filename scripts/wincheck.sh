#!/usr/bin/env bash
# Type-checks the Windows build (the cfg(windows) code and the `windows` crate) on Debian 12,
# without a rustup Windows target: Debian's rustc-web builds the Windows std from source
# (-Zbuild-std, allowed on a stable compiler by RUSTC_BOOTSTRAP=1). By default nothing is
# linked or run.
#
# Usage: scripts/wincheck.sh [-p CRATE]...
#   Always checks `-p swyx-com --all-targets`; extra arguments are passed to `cargo check`,
#   e.g. `-p presence-bridge`. WINCHECK_TARGET_DIR sets the target directory (default
#   target/wincheck). Installs what it needs with apt-get, so it must run as root on a fresh
#   machine. Exits non-zero on a type error.
#   WINCHECK_TARGET sets the Windows target (default x86_64-pc-windows-msvc). Crates whose
#   build scripts compile C for the target (ring, under reqwest's rustls) need MSVC's own
#   tools for the msvc target, so check such crates with x86_64-pc-windows-gnu, which uses
#   mingw-w64's gcc and windres instead.
#   WINCHECK_WINE=1 also builds the swyx-com tests for x86_64-win7-windows-gnu (the win7
#   target's std does not need bcryptprimitives.dll, which Wine 8 lacks) and runs them under
#   Wine, which exercises the VARIANT and IDispatch code in-process. That adds mingw-w64 and
#   wine64 (about 1.2 GB) and a Wine prefix under the target directory.
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
target="${WINCHECK_TARGET:-x86_64-pc-windows-msvc}"
if [ "$target" != "${target%-gnu}" ] || [ "${WINCHECK_WINE:-0}" = 1 ]; then
    command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
fi
if [ "${WINCHECK_WINE:-0}" = 1 ] && ! [ -x /usr/lib/wine/wine64 ]; then
    missing+=(wine64)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "wincheck: installing ${missing[*]}"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
installed=$(date +%s)

# Debian's compiler and cargo live in /usr/bin. Rustup's proxies stay first on PATH and stay
# the default for every other build, so both are named explicitly.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
export CARGO_PROFILE_DEV_DEBUG=0
test "$(/usr/bin/rustc --print sysroot)" = /usr

# Runs the layer across a process boundary: the fake server from examples/ is registered
# under SwyxIt!'s ProgID in the Wine prefix; attaching must fail without starting it, then
# succeed while it runs.
wine_cross_process() {
    local wine=/usr/lib/wine/wine64 examples clsid='{6F1D2C3B-8A4E-4B7F-9C2D-1E3F5A7B9C0D}'
    examples=$(CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc RUSTFLAGS=-Zub-checks=no \
        /usr/bin/cargo build --examples --message-format=json --target x86_64-win7-windows-gnu \
        -Zbuild-std --target-dir "$target_dir/wine" -p swyx-com \
        | grep -o '"executable":"[^"]*fake_server[^"]*"' | cut -d'"' -f4 | xargs dirname) || return 1
    local server_path
    server_path="Z:$(echo "$examples/fake_server.exe" | tr / '\\')"
    timeout 60 "$wine" reg add 'HKCR\CLMgr.ClientLineMgr\CLSID' /ve /d "$clsid" /f >/dev/null || return 1
    timeout 60 "$wine" reg add "HKCR\\CLSID\\$clsid\\LocalServer32" /ve /d "\"$server_path\" /automation" /f >/dev/null \
        || return 1
    rm -f "$examples/fake_server.started"
    # set -e does not apply inside a function called from a || list, so failures return.
    env -u DISPLAY timeout 60 "$wine" "$examples/wine_client.exe" absent || return 1
    if [ -e "$examples/fake_server.started" ]; then
        echo "wincheck: attaching started the server" >&2
        return 1
    fi
    env -u DISPLAY timeout 120 "$wine" "$examples/fake_server.exe" > "$examples/fake_server.log" 2>&1 &
    local server=$!
    for _ in $(seq 1 100); do
        grep -q registered "$examples/fake_server.log" && break
        sleep 0.2
    done
    local result=0
    env -u DISPLAY timeout 60 "$wine" "$examples/wine_client.exe" present || result=$?
    wait "$server" || result=$?
    return "$result"
}

target_dir="${WINCHECK_TARGET_DIR:-target/wincheck}"
status=0
/usr/bin/cargo check --target "$target" -Zbuild-std=std,panic_abort --target-dir "$target_dir" \
    -p swyx-com --all-targets "$@" || status=$?

if [ "$status" = 0 ] && [ "${WINCHECK_WINE:-0}" = 1 ]; then
    # -Zub-checks=no: Wine's marshalling proxies hand QueryInterface unaligned IID pointers,
    # which debug builds would otherwise abort on.
    tests=$(CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc RUSTFLAGS=-Zub-checks=no \
        /usr/bin/cargo test --no-run --message-format=json --target x86_64-win7-windows-gnu \
        -Zbuild-std --target-dir "$target_dir/wine" -p swyx-com --lib \
        | grep -o '"executable":"[^"]*"' | cut -d'"' -f4) || status=$?
    case "$target_dir" in
        /*) export WINEPREFIX="$target_dir/wine/prefix" ;;
        *) export WINEPREFIX="$PWD/$target_dir/wine/prefix" ;;
    esac
    export WINEDEBUG=-all
    if [ "$status" = 0 ] && ! [ -d "$WINEPREFIX" ]; then
        # The session that creates a prefix does not start RpcSs reliably; wait for it to end.
        env -u DISPLAY timeout 120 /usr/lib/wine/wine64 wineboot --init >/dev/null 2>&1 || status=$?
        timeout 60 /usr/lib/wine/wineserver -w || status=$?
    fi
    for test in $tests; do
        env -u DISPLAY timeout 300 /usr/lib/wine/wine64 "$test" || status=$?
    done
    if [ "$status" = 0 ]; then
        wine_cross_process || status=$?
    fi
    /usr/lib/wine/wineserver -k 2>/dev/null || true
fi

finished=$(date +%s)
echo "wincheck: $target, $(/usr/bin/rustc --version); install $((installed - started)) s," \
    "check $((finished - installed)) s, total $((finished - started)) s, exit $status"
exit "$status"
