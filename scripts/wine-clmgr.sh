#!/usr/bin/env bash
# Runs the SwyxIt! COM layer (crates/swyx-com) under Wine against a fake Client Line Manager:
# a 32-bit local server (examples/clmgr_fake.rs, the SwyxIt! simulator behind IDispatch and a
# connection point) installed as "C:\Program Files (x86)\SwyxIt!\CLMgr.exe" in a fresh Wine
# prefix, registered by its own /RegServer under the ProgID CLMgr.ClientLineMgr together with
# a type library built by widl. The 64-bit client examples/clmgr_wine.rs then runs its cases
# through swyx_com::connector and prints one PASS/FAIL line per case.
#
# Usage: scripts/wine-clmgr.sh [CASE...]   (no case: all of them)
#   WINCHECK_TARGET_DIR sets the target directory (default target/wincheck); the builds go to
#   its wine/ folder, the prefix to wine/clmgr-prefix. Installs what it needs with apt-get
#   (Debian's rustc-web, mingw-w64 for both architectures, wine64, wine32 with the i386
#   architecture, and wine64-tools for widl), so it must run as root on a fresh machine.
#   Stops the prefix's wineserver and every process in it on the way out, also on failure.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
export DEBIAN_FRONTEND=noninteractive
started=$(date +%s)
phase_started=$started
phase() {
    local now
    now=$(date +%s)
    echo "wine-clmgr: $1 took $((now - phase_started)) s"
    phase_started=$now
}

# --- packages ---------------------------------------------------------------------------
missing=()
if ! [ -x /usr/bin/rustc ] || ! [ -x /usr/bin/cargo ] || ! [ -d /usr/lib/rustlib/src/rust/library ]; then
    missing+=(rustc-web cargo-web rust-web-src)
fi
command -v x86_64-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-x86-64)
command -v i686-w64-mingw32-gcc >/dev/null || missing+=(gcc-mingw-w64-i686)
[ -x /usr/lib/wine/wine64 ] || missing+=(wine64)
[ -x /usr/lib/wine/wine ] || missing+=(wine32:i386)
[ -x /usr/lib/wine/widl ] || missing+=(wine64-tools)
if [ ${#missing[@]} -gt 0 ]; then
    echo "wine-clmgr: installing ${missing[*]}"
    if ! dpkg --print-foreign-architectures | grep -qx i386; then
        dpkg --add-architecture i386
    fi
    apt-get update -qq
    # wine32:i386 moves shared libraries in lockstep with their amd64 versions; that may
    # upgrade amd64 packages, but it must never remove one.
    if apt-get install -s --no-install-recommends "${missing[@]}" | grep -q '^Remv'; then
        echo "wine-clmgr: installing ${missing[*]} would remove packages; stopping" >&2
        exit 1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
phase "packages"

# --- builds -------------------------------------------------------------------------------
# Debian's compiler builds the Windows std from source (-Zbuild-std, allowed on a stable
# compiler by RUSTC_BOOTSTRAP=1); rustup's proxies stay first on PATH, so both are named.
export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_PROFILE_DEV_DEBUG=0
test "$(/usr/bin/rustc --print sysroot)" = /usr
target_dir="${WINCHECK_TARGET_DIR:-target/wincheck}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$root/$target_dir" ;;
esac
build_dir="$target_dir/wine"
mkdir -p "$build_dir"

# The i686 windows-gnu target links Rust's own startup objects, which -Zbuild-std does not
# build; they are compiled once per compiler version from the std source.
rt_dir="$build_dir/rt-i686/$(/usr/bin/rustc --version | tr -c 'a-zA-Z0-9.\n' _)"
if ! [ -f "$rt_dir/rsend.o" ]; then
    mkdir -p "$rt_dir"
    for object in rsbegin rsend; do
        /usr/bin/rustc --target i686-pc-windows-gnu --emit=obj -C panic=abort -o "$rt_dir/$object.o" \
            /usr/lib/rustlib/src/rust/library/rtstartup/$object.rs
    done
fi
export CARGO_TARGET_I686_WIN7_WINDOWS_GNU_LINKER=i686-w64-mingw32-gcc
export CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc
# -Zub-checks=no: Wine's marshalling proxies hand QueryInterface unaligned IID pointers, which
# debug builds would otherwise abort on.
export CARGO_TARGET_I686_WIN7_WINDOWS_GNU_RUSTFLAGS="-Zub-checks=no -L native=$rt_dir"
export CARGO_TARGET_X86_64_WIN7_WINDOWS_GNU_RUSTFLAGS="-Zub-checks=no"

# The win7 targets' std does not need bcryptprimitives.dll, which Wine 8 lacks.
executable() { # target, cargo arguments...: builds and prints the one executable's path
    local target=$1
    shift
    /usr/bin/cargo build --locked --message-format=json-render-diagnostics --target "$target" \
        -Zbuild-std=std,panic_abort --target-dir "$build_dir" -p swyx-com "$@" \
        | grep -o '"executable":"[^"]*"' | cut -d'"' -f4
}
server_exe=$(executable i686-win7-windows-gnu --example clmgr_fake)
phase "build of the 32-bit server"
client_exe=$(executable x86_64-win7-windows-gnu --features fake-clmgr-events --example clmgr_wine)
phase "build of the 64-bit client"
test -f "$server_exe" && test -f "$client_exe"

# --- prefix and registration --------------------------------------------------------------
export WINEPREFIX="$build_dir/clmgr-prefix" WINEDEBUG=-all
unset DISPLAY
wine32=/usr/lib/wine/wine wine64=/usr/lib/wine/wine64 wineserver=/usr/lib/wine/wineserver
cleanup() {
    local status=$?
    # Ends the prefix's wineserver and with it every process running in the prefix.
    timeout 30 "$wineserver" -k 2>/dev/null || true
    timeout 30 "$wineserver" -w 2>/dev/null || true
    if [ -d "$WINEPREFIX" ]; then
        cp -f "$install_dir/clmgr_fake.log" "$build_dir/clmgr_fake.log" 2>/dev/null || true
        rm -rf "$WINEPREFIX"
    fi
    echo "wine-clmgr: total $(($(date +%s) - started)) s, exit $status"
}
install_dir="$WINEPREFIX/drive_c/Program Files (x86)/SwyxIt!"
timeout 30 "$wineserver" -k 2>/dev/null || true
rm -rf "$WINEPREFIX"
trap cleanup EXIT
if ! timeout 180 "$wine64" wineboot --init >"$build_dir/wineboot.log" 2>&1; then
    echo "wine-clmgr: creating the prefix failed:" >&2
    cat "$build_dir/wineboot.log" >&2
    exit 1
fi
# The session that creates a prefix does not start RpcSs reliably: let it end first.
if ! timeout 120 "$wineserver" -w; then
    echo "wine-clmgr: the wineserver that created the prefix did not end within 120 s" >&2
    exit 1
fi
phase "prefix creation"

mkdir -p "$install_dir"
cp "$server_exe" "$install_dir/CLMgr.exe"
/usr/lib/wine/widl -t -m32 -I /usr/include/wine/wine/windows \
    -L /usr/lib/i386-linux-gnu/wine/i386-windows \
    -o "$install_dir/clmgr_fake.tlb" crates/swyx-com/wine/clmgr_fake.idl
# As SwyxIt!'s installer would: the 32-bit server registers itself, so the class lands in the
# 32-bit registry view only.
timeout 60 "$wine32" 'C:\Program Files (x86)\SwyxIt!\CLMgr.exe' /RegServer
clsid='HKCR\CLSID\{F8E552F8-4C00-11D3-80BC-00105A653379}\LocalServer32'
timeout 60 "$wine64" reg query "$clsid" /reg:32 | grep -F 'CLMgr.exe'
if timeout 60 "$wine64" reg query "$clsid" /reg:64 >/dev/null 2>&1; then
    echo "wine-clmgr: the class is registered in the 64-bit view as well" >&2
    exit 1
fi
phase "type library and registration"

# --- the cases ----------------------------------------------------------------------------
status=0
# Through a pipe: Wine writing straight into a log file has left runs of NUL bytes over earlier
# output.
timeout 300 "$wine64" "$client_exe" "$@" 2>&1 | cat || status=$?
phase "cases"
if [ "$status" != 0 ]; then
    echo "wine-clmgr: the server's log:" >&2
    cat "$install_dir/clmgr_fake.log" >&2 || true
fi
exit "$status"
