#!/usr/bin/env bash
# Runs every packaging smoke test and prints a PASS/FAIL summary; exits non-zero
# unless all passed. Builds the frozen bundle if it is missing (or with
# --rebuild), then the .deb and its smoke test (deb-smoke.sh: install, GUI
# smoke, purge; needs root) and the AppImage and its smoke test
# (appimage-smoke.sh: mounted with FUSE where FUSE works, and extracted).
# On a fresh machine (CI=true, as root) it first installs what they need: the
# apt packages below and Confero's packaging extra (scripts/setup makes .venv
# if it is missing). Logs go to build/smoke-logs/.
# Usage, from anywhere: packaging/smoke/run-all.sh [--rebuild]
set -uo pipefail
cd "$(dirname "$0")/../.."
python=${PYTHON:-.venv/bin/python}
export PYTHON=$python
logs=build/smoke-logs
mkdir -p "$logs"
started=$(date +%s)

# Build: compiler and the runtime's static libraries, SquashFS, dpkg-shlibdeps,
# the validators, Qt's Wayland libraries (for dpkg-shlibdeps). Smoke: Xvfb,
# xdotool, screenshots, curl, FUSE, a PulseAudio server for the audio check.
apt_packages=(build-essential binutils dpkg-dev appstream desktop-file-utils
    libwayland-client0 libwayland-cursor0 libwayland-egl1
    squashfs-tools fuse3 libsquashfuse-dev libfuse3-dev libzstd-dev zlib1g-dev
    liblzma-dev liblz4-dev liblzo2-dev
    xvfb xauth xdotool imagemagick curl procps pulseaudio pulseaudio-utils)
if [ "${CI:-}" = true ] && [ "$(id -u)" -eq 0 ]; then
    echo "==> Installing prerequisites (CI=true)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -q && apt-get install -y -q --no-install-recommends "${apt_packages[@]}"; } \
        >"$logs/prerequisites.log" 2>&1 || { tail -20 "$logs/prerequisites.log"; exit 1; }
    { [ -x "$python" ] || scripts/setup; } >>"$logs/prerequisites.log" 2>&1 &&
        "$python" -m pip install -q -e '.[packaging]' >>"$logs/prerequisites.log" 2>&1 ||
        { tail -20 "$logs/prerequisites.log"; exit 1; }
fi

results=()
failed=0
# step NAME COMMAND...: runs COMMAND with its output in build/smoke-logs/NAME.log.
step() {
    local name=$1 t0 status
    shift
    printf '==> %s\n' "$name"
    t0=$(date +%s)
    "$@" >"$logs/$name.log" 2>&1
    status=$?
    if [ $status -eq 0 ]; then
        results+=("PASS  $name ($(($(date +%s) - t0)) s)")
    else
        results+=("FAIL  $name ($(($(date +%s) - t0)) s; $logs/$name.log)")
        failed=1
        tail -15 "$logs/$name.log" | sed 's/^/    /'
    fi
    return $status
}
skip() { results+=("SKIP  $1 ($2)"); failed=1; }

bundle_ok=0
if [ "${1:-}" = --rebuild ] || [ ! -x dist/confero/confero ]; then
    step bundle packaging/bundle/build-bundle.sh && bundle_ok=1
else
    results+=("PASS  bundle (dist/confero/ present; --rebuild builds it again)")
    bundle_ok=1
fi
if [ $bundle_ok -eq 1 ]; then
    if step deb-build packaging/debian/build-deb.sh; then
        if [ "$(id -u)" -eq 0 ]; then
            step deb-smoke packaging/smoke/deb-smoke.sh /tmp/confero-run-all-deb.png
        else
            skip deb-smoke "needs root: it installs the package"
        fi
    else
        skip deb-smoke "no package"
    fi
    if step appimage-build packaging/appimage/build-appimage.sh; then
        step appimage-smoke packaging/smoke/appimage-smoke.sh "" /tmp/confero-run-all-appimage
    else
        skip appimage-smoke "no AppImage"
    fi
else
    skip "deb-build, deb-smoke, appimage-build, appimage-smoke" "no bundle"
fi

echo
echo "Packaging smoke tests ($(($(date +%s) - started)) s):"
printf '  %s\n' "${results[@]}"
if [ $failed -eq 0 ]; then echo "ALL PASSED"; else echo "NOT ALL PASSED"; fi
exit $failed
