#!/usr/bin/env bash
# Drives an installed or bundled Confero as a new user would, on a virtual display:
# starts it on a fresh data folder with the local meeting server, creates an
# account, starts a meeting (Ctrl+M), takes a screenshot, quits (Ctrl+Q), and
# checks that no process of it (app or homeserver) is left. Where pulseaudio is
# installed it also joins the meeting's audio on a private PulseAudio server (a
# null sink as speaker, a remapped one as microphone) and checks that Confero's
# streams reach it.
# Usage: xvfb-run -a -s '-screen 0 1280x800x24' packaging/smoke/gui-smoke.sh \
#            [CONFERO_EXECUTABLE] [SCREENSHOT.png]
# Needs xdotool, curl and imagemagick (import). Exit status 0 means it all worked.
set -euo pipefail
confero=${1:-dist/confero/confero}
shot=${2:-/tmp/confero-smoke.png}
data=$(mktemp -d /tmp/confero-smoke-XXXXXX)
out="$data/app.out"
pulse_pid=
trap '[ -z "$pulse_pid" ] || kill "$pulse_pid" 2>/dev/null; rm -rf "$data"' EXIT

say() { printf 'smoke: %s\n' "$*"; }
fail() { say "FAILED: $*"; [ -z "${SMOKE_KEEP:-}" ] || cp "$out" /tmp/confero-smoke-app.out; import -window root "${shot%.png}-failed.png" 2>/dev/null && say "screen at failure: ${shot%.png}-failed.png"; [ -f "$out" ] && tail -20 "$out" | sed 's/^/  app: /'; exit 1; }
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
# CPU time (clock ticks) of the app and its homeserver so far.
cpu_ticks() {
    local pid sum=0
    for pid in $(pgrep -f -- "$data/home"); do
        sum=$((sum + $(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
    done
    echo "$sum"
}
# Waits (up to 40 s) until they use next to no CPU for half a second: the page is
# laid out and waits for input (slower from a cold AppImage mount).
wait_idle() {
    local last now
    last=$(cpu_ticks)
    for _ in $(seq 80); do
        sleep 0.5
        now=$(cpu_ticks)
        [ $((now - last)) -gt 2 ] || return 0
        last=$now
    done
}
type_keys() { xdotool type --delay 30 "$1"; }
key() { xdotool key --clearmodifiers "$@"; }
focus() { xdotool windowfocus --sync "$(xdotool search --onlyvisible --name "$1" | tail -1)"; }
window_count() { xdotool search --onlyvisible --name '.' 2>/dev/null | wc -l; }
more_windows_than() { [ "$(window_count)" -gt "$1" ]; }
leftovers() { pgrep -f -- "$data/home" || true; } # the app and its Synapse, not our PulseAudio

start_pulse() {
    mkdir -p "$data/pulse"
    printf 'rlimit-nofile = 4096\n' >"$data/pulse/daemon.conf"
    HOME="$data/pulse" XDG_RUNTIME_DIR="$data/pulse" PULSE_RUNTIME_PATH="$data/pulse" \
        PULSE_CONFIG="$data/pulse/daemon.conf" DISPLAY= DBUS_SESSION_BUS_ADDRESS= \
        pulseaudio --daemonize=no -n --exit-idle-time=-1 --system=false --use-pid-file=no \
        --disable-shm=yes --log-target=stderr \
        --load="module-native-protocol-unix auth-anonymous=1 socket=$data/pulse/native" \
        >"$data/pulse/log" 2>&1 &
    pulse_pid=$!
    export PULSE_SERVER="unix:$data/pulse/native"
    for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.2; done
    pactl load-module module-null-sink sink_name=smoke_speaker rate=48000 channels=1 >/dev/null
    # A monitor is no microphone to Confero: a remapped source looks like a plugged-in one.
    pactl load-module module-null-sink sink_name=smoke_voice rate=48000 channels=1 >/dev/null
    pactl load-module module-remap-source source_name=smoke_mic master=smoke_voice.monitor \
        channels=1 >/dev/null
    pactl set-default-sink smoke_speaker
    pactl set-default-source smoke_mic
    say "private PulseAudio at $PULSE_SERVER"
}
# The microphone stream of the call (playback streams come with other people).
streams_of_confero() { pactl list source-outputs | grep -q 'application.name = "Confero"'; }
click_join_audio() {
    # "Join audio" sits at the right of the meeting header, left of "Leave".
    local window width
    window=$(xdotool search --onlyvisible --name "meeting" | tail -1)
    width=$(xdotool getwindowgeometry --shell "$window" | sed -n 's/^WIDTH=//p')
    xdotool mousemove --window "$window" $((width - 147)) 20 click 1
}
if command -v pulseaudio >/dev/null && command -v pactl >/dev/null; then start_pulse; fi

# Opus through PyAV, WebRTC, Synapse, Qt's ICU: what the bundle's size cuts could break.
"$confero" --self-check >"$data/self-check.out" 2>&1 || { cat "$data/self-check.out"; fail "self-check"; }
say "self-check: $(tail -1 "$data/self-check.out")"
CONFERO_BENCH=1 "$confero" --local --data-dir "$data/home" ${SMOKE_VERBOSE:+--verbose} >"$out" 2>&1 &
app=$!
wait_for 60 "first window" grep -q first_window_shown "$out"
wait_for 90 "local meeting server" server_answers
wait_for 30 "account page" xdotool search --onlyvisible --name '^Confero$'
sleep 1 # the page is shown just after the server answers
wait_idle
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
if [ -n "$pulse_pid" ]; then
    sleep 1 # the header is laid out just after the window appears
    click_join_audio
fi
sleep 2 # let the meeting window paint before the screenshot
import -window root "$shot"
say "screenshot in $shot"
if [ -n "$pulse_pid" ]; then
    # Alone in a call nothing is sent, so the microphone opens with a peer only;
    # Preferences' level meter opens it at once (pasimple and pulsectl on libpulse).
    focus '^Confero$'
    key ctrl+comma
    wait_for 30 "microphone stream of Confero in PulseAudio" streams_of_confero
    sleep 1
    import -window root "${shot%.png}-audio.png"
    say "screenshot of Preferences in ${shot%.png}-audio.png"
    key Escape
fi
focus '^Confero$' # with no window manager, a closed dialog leaves no focus behind
key ctrl+q
for _ in $(seq 150); do kill -0 "$app" 2>/dev/null || break; sleep 0.2; done
kill -0 "$app" 2>/dev/null && fail "Confero still runs 30 s after Ctrl+Q"
wait "$app" || fail "Confero exited with status $?"
[ -z "$(leftovers)" ] || fail "processes left behind: $(leftovers)"
say "quit cleanly; no process of it is left"
