#!/usr/bin/env bash
# Smoke test of the AppImage (packaging/appimage/build-appimage.sh): its runtime
# options, the desktop files it carries (validated), then the GUI smoke
# (gui-smoke.sh: account on the embedded server, Meet Now, screenshot, Ctrl+Q,
# nothing left) on the AppImage mounted with FUSE where FUSE works here, and on
# it extracted (APPIMAGE_EXTRACT_AND_RUN=1, as in containers without FUSE) in
# any case. After each run no mount point, extracted folder or process of the
# runtime may be left. Needs what gui-smoke.sh needs, plus xvfb-run,
# desktop-file-validate and appstreamcli.
# Usage (from the repository root, after build-appimage.sh):
#   packaging/smoke/appimage-smoke.sh [APPIMAGE] [SCREENSHOT-PREFIX]
# writes SCREENSHOT-PREFIX-fuse.png and SCREENSHOT-PREFIX-extracted.png.
set -euo pipefail
cd "$(dirname "$0")/../.."
appimage=$(readlink -f "${1:-$(ls -t dist/Confero-*.AppImage | head -1)}")
shots=${2:-/tmp/confero-appimage-smoke}
say() { printf 'appimage-smoke: %s\n' "$*"; }
fail() { say "FAILED: $*"; exit 1; }

# The runtime mounts and extracts in $TMPDIR: a private one shows what it leaves.
tmp=$(mktemp -d /tmp/confero-appimage-tmp-XXXXXX)
marker=$(mktemp /tmp/confero-appimage-seen-XXXXXX)
cleanup() {
    local status=$? mount
    for mount in $(grep -o " $tmp/[^ ]*" /proc/mounts); do umount -l "$mount" 2>/dev/null || true; done
    rm -rf "$tmp" "$marker"
    exit $status
}
trap cleanup EXIT
export TMPDIR=$tmp

# Processes of the runtime (the FUSE server; the runtime waiting on an extracted
# app) run the AppImage file itself; fusermount3 names the mount point.
runtime_processes() {
    local proc
    for proc in /proc/[0-9]*; do
        [ "$(readlink "$proc/exe" 2>/dev/null)" != "$appimage" ] || echo "${proc#/proc/}"
    done
    pgrep -f -- "$tmp/" || true
}
left_behind() {
    grep -o " $tmp/[^ ]*" /proc/mounts || true
    find "$tmp" -mindepth 1 -maxdepth 1
    runtime_processes
}
# The FUSE server unmounts once the app and its homeserver have exited; it waits
# up to 10 s for files still in use.
expect_nothing_left() {
    local deadline=$(($(date +%s) + 15))
    while [ -n "$(left_behind)" ]; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "left behind after $1: $(left_behind | tr '\n' ' ')"
        sleep 0.2
    done
    say "$1: no mount point, extracted folder or runtime process left"
}

# --- The runtime's options and the AppImage's files ------------------------------
"$appimage" --appimage-version
offset=$("$appimage" --appimage-offset)
[ "$(dd if="$appimage" bs=1 skip="$offset" count=4 status=none)" = hsqs ] ||
    fail "no SquashFS image at --appimage-offset ($offset)"
[ "$(dd if="$appimage" bs=1 skip=8 count=3 status=none | od -An -tx1 | tr -d ' ')" = 414902 ] ||
    fail "no AppImage type-2 magic (AI\\x02) at byte 8"
mkdir "$tmp/x"
(cd "$tmp/x" && "$appimage" --appimage-extract 'usr/share/metainfo/*')
[ "$(cd "$tmp/x/squashfs-root" && find . -type f)" = ./usr/share/metainfo/org.confero.Confero.metainfo.xml ] ||
    fail "--appimage-extract PATTERN extracted other files: $(cd "$tmp/x" && find . -type f | head)"
(cd "$tmp/x" && "$appimage" --appimage-extract)
root=$tmp/x/squashfs-root
desktop-file-validate "$root/confero.desktop"
grep -qx 'MimeType=x-scheme-handler/matrix;' "$root/confero.desktop" ||
    fail "the desktop entry does not open matrix: links"
appstreamcli validate --no-net "$root/usr/share/metainfo/org.confero.Confero.metainfo.xml"
[ -s "$root/.DirIcon" ] || fail "no .DirIcon"
version=$("$root/AppRun" --version)
say "extracted: desktop entry and metainfo valid, $version runs from the extracted AppRun"
rm -rf "$tmp/x"

# --- Does FUSE work here? ----------------------------------------------------------
fuse=no
"$appimage" --appimage-mount >"$marker" 2>/dev/null &
mounter=$!
for _ in $(seq 50); do
    [ -s "$marker" ] || ! kill -0 "$mounter" 2>/dev/null && break
    sleep 0.2
done
if [ -s "$marker" ] && [ -x "$(head -1 "$marker")/AppRun" ]; then fuse=yes; fi
kill "$mounter" 2>/dev/null || true
wait "$mounter" 2>/dev/null || true
: >"$marker"
expect_nothing_left "--appimage-mount"
say "FUSE works here: $fuse ($(ls -l /dev/fuse 2>&1 | cut -c1-10), $(command -v fusermount3 || echo 'no fusermount3'))"

# --- The GUI smoke, mounted and extracted ----------------------------------------------
# gui-smoke.sh cannot tell how the app was started: a watcher notes the mount
# point or extracted folder while the app runs.
watch_for() {
    while sleep 0.2; do
        if grep -q " $tmp/.mount_" /proc/mounts; then echo fuse >"$marker"; fi
        if compgen -G "$tmp/appimage_extracted_*" >/dev/null; then echo extracted >"$marker"; fi
        [ ! -s "$marker" ] || break
    done
}
gui_smoke() {
    local mode=$1 watcher
    : >"$marker"
    watch_for &
    watcher=$!
    say "GUI smoke, $mode: $appimage"
    if [ "$mode" = extracted ]; then export APPIMAGE_EXTRACT_AND_RUN=1; else unset APPIMAGE_EXTRACT_AND_RUN; fi
    xvfb-run -a -s '-screen 0 1280x800x24' packaging/smoke/gui-smoke.sh "$appimage" "$shots-$mode.png" ||
        { kill "$watcher" 2>/dev/null; fail "GUI smoke ($mode)"; }
    unset APPIMAGE_EXTRACT_AND_RUN
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
    [ "$(cat "$marker")" = "$mode" ] || fail "the app did not run $mode (saw: $(cat "$marker"))"
    expect_nothing_left "GUI smoke, $mode"
}
if [ $fuse = yes ]; then gui_smoke fuse; fi
gui_smoke extracted
say "passed ($([ $fuse = yes ] && echo 'mounted with FUSE and extracted' || echo 'extracted only: no FUSE here'))"
