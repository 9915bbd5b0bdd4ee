#!/usr/bin/env bash
# Drives an installed or bundled Confero as a new user would, on a virtual display:
# starts it on a fresh data folder with the local meeting server, creates an
# account, starts a meeting (Ctrl+M), takes a screenshot, quits (Ctrl+Q), and
# checks that no process of it (app or homeserver) is left.
# Usage: xvfb-run -a -s '-screen 0 1280x800x24' packaging/smoke/gui-smoke.sh \
#            [CONFERO_EXECUTABLE] [SCREENSHOT.png]
# Needs xdotool, curl and imagemagick (import). Exit status 0 means it all worked.
set -euo pipefail
confero=${1:-dist/confero/confero}
shot=${2:-/tmp/confero-smoke.png}
data=$(mktemp -d /tmp/confero-smoke-XXXXXX)
out="$data/app.out"
trap 'rm -rf "$data"' EXIT

say() { printf 'smoke: %s\n' "$*"; }
fail() { say "FAILED: $*"; import -window root "${shot%.png}-failed.png" 2>/dev/null && say "screen at failure: ${shot%.png}-failed.png"; [ -f "$out" ] && tail -20 "$out" | sed 's/^/  app: /'; exit 1; }
# wait_for SECONDS DESCRIPTION COMMAND…: polls COMMAND until it succeeds.
wait_for() {
    local seconds=$1 what=$2 deadline
    shift 2
    deadline=$(($(date +%s) + seconds))
    until "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -lt "$deadline" ] || fail "no $what after ${seconds}s"
        kill -0 "$app" 2>/dev/null || fail "Confero exited while waiting for $what"
        sleep 0.2
    done
    say "$what"
}
server_answers() {
    local port
    port=$(sed -n 's/.*"port": *\([0-9]*\).*/\1/p' "$data/home/homeserver/state.json" | head -1)
    [ -n "$port" ] && curl -sf "http://127.0.0.1:$port/_matrix/client/versions"
}
type_keys() { xdotool type --delay 30 "$1"; }
key() { xdotool key --clearmodifiers "$@"; }
focus() { xdotool windowfocus --sync "$(xdotool search --onlyvisible --name "$1" | tail -1)"; }
window_count() { xdotool search --onlyvisible --name '.' 2>/dev/null | wc -l; }
more_windows_than() { [ "$(window_count)" -gt "$1" ]; }
leftovers() { pgrep -f -- "$data" || true; }

CONFERO_BENCH=1 "$confero" --local --data-dir "$data/home" >"$out" 2>&1 &
app=$!
wait_for 60 "first window" grep -q first_window_shown "$out"
wait_for 90 "local meeting server" server_answers
wait_for 30 "account page" xdotool search --onlyvisible --name '^Confero$'
sleep 1 # the page is shown just after the server answers
focus '^Confero$'
type_keys "Smoke Tester"; key Tab
type_keys "smoke"; key Tab
type_keys "smoke-password-1"; key Tab
type_keys "smoke-password-1"; key Tab
key space # Keep me signed in: off (no system keyring on a virtual display)
key Tab space # to Create account, and press it
wait_for 60 "signed in and synced" grep -q signed_in_synced "$out"
before=$(window_count)
focus '^Confero$'
key ctrl+m
wait_for 60 "meeting window" more_windows_than "$before"
sleep 2 # let the meeting window paint before the screenshot
import -window root "$shot"
say "screenshot in $shot"
key ctrl+q
for _ in $(seq 150); do kill -0 "$app" 2>/dev/null || break; sleep 0.2; done
kill -0 "$app" 2>/dev/null && fail "Confero still runs 30 s after Ctrl+Q"
wait "$app" || fail "Confero exited with status $?"
[ -z "$(leftovers)" ] || fail "processes left behind: $(leftovers)"
say "quit cleanly; no process of it is left"
