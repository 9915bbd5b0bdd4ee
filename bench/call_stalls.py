"""UI-thread stalls during a call: does media stay off the UI thread? Prints figures only.

On an embedded Synapse and a private PulseAudio server, Alice has the real MainWindow
and a conversation window (offscreen); she clicks Call, Bob's engine answers through
engine.calls, and a steady tone plays into each microphone (virtual devices) while
the call runs. A 5 ms QTimer heartbeat on the UI thread (tests/helpers/stalls.py's
StallMeter, recording every beat) measures how late the UI loop turned:
- during the same seconds with the window open and no call (the baseline),
- from the click on Call until both sides are Connected,
- for ``--seconds`` of connected call with tones flowing (checked at Bob's ear).
Reported: the longest stall and the 99th percentile of the heartbeat's lateness.
Both engines share this UI thread (Bob has no window), so the figures are an upper
bound for one user's app.

Run: .venv/bin/python -m bench.call_stalls [--seconds 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from bench.harness import embedded_server, run_on_qt_loop, wait_until
from engine.calls.call_models import AvModalityState
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from tests.helpers.audio import TonePlayer, record, tone_amplitude
from tests.helpers.pulse import PulseServer
from tests.helpers.stalls import StallMeter
from ui.bridge import EngineBridge
from ui.main_window import MainWindow

HEARTBEAT_MS = 5


class Heartbeat(StallMeter):
    """StallMeter that also keeps every beat's lateness (interval minus the 5 ms)."""

    def __init__(self) -> None:
        super().__init__(HEARTBEAT_MS)
        self.lateness: list[float] = []

    def start(self) -> None:
        self.lateness = []
        super().start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, now - self._last - HEARTBEAT_MS / 1000))
        super()._tick()

    def figures(self) -> tuple[float, float]:
        """(longest stall, p99 lateness) in ms."""
        p99 = float(np.percentile(self.lateness, 99)) if self.lateness else 0.0
        return self.longest * 1000, p99 * 1000


async def signed_in(server: EmbeddedHomeserver, name: str, folder: Path) -> Engine:
    password = secrets.token_urlsafe(12)
    localpart = f"{name}{secrets.token_hex(3)}"
    user_id = await server.register_user(localpart, password, displayname=name.title())
    engine = Engine(folder / localpart)
    await engine.session.login(server.base_url, user_id, password, remember=False)
    await engine.session.start()
    return engine


async def measure(meter: Heartbeat, seconds: float) -> tuple[float, float]:
    meter.start()
    await asyncio.sleep(seconds)
    meter.stop()
    return meter.figures()


async def one_run(
    server: EmbeddedHomeserver, pulse: PulseServer, folder: Path, run: int, seconds: float
) -> dict[str, tuple[float, float]]:
    alice = await signed_in(server, "alice", folder)
    bob = await signed_in(server, "bob", folder)
    a_dev, b_dev = pulse.participant(f"alice{run}"), pulse.participant(f"bob{run}")
    bridge = EngineBridge(alice.session.bus)
    main = MainWindow(alice, bridge)
    # After the window, which applies the (default) Preferences devices.
    alice.media.choose_devices(a_dev.mic, a_dev.speaker)
    bob.media.choose_devices(b_dev.mic, b_dev.speaker)
    meter = Heartbeat()
    figures: dict[str, tuple[float, float]] = {}
    try:
        room_id = await alice.conversations.start_direct_conversation(bob.session.user_id or "")
        await wait_until(lambda: bob.conversations.conversation(room_id) is not None, 60)
        client = alice.session.client
        assert client is not None
        room = client.rooms[room_id]
        await wait_until(lambda: bob.session.user_id in room.users, 60)
        main.show()
        main.open_conversation(room_id)
        window = main.windows.find(room_id)
        assert window is not None and window.call_bar is not None
        button = window.call_bar.call_button
        await wait_until(lambda: button.isVisible() and button.isEnabled(), 60)
        await asyncio.sleep(1.0)
        figures["window open, no call"] = await measure(meter, seconds)

        with (
            TonePlayer(pulse.server, a_dev.mic_sink, 440.0),
            TonePlayer(pulse.server, b_dev.mic_sink, 660.0),
        ):
            meter.start()
            QTest.mouseClick(button, Qt.MouseButton.LeftButton)
            await wait_until(lambda: bob.calls.call_in(room_id) is not None, 60)
            ringing = bob.calls.call_in(room_id)
            assert ringing is not None
            call_id = ringing.call_id
            await bob.calls.answer(call_id)

            def both_connected() -> bool:
                mine, theirs = alice.calls.call(call_id), bob.calls.call(call_id)
                return (
                    mine is not None
                    and theirs is not None
                    and mine.state is AvModalityState.CONNECTED
                    and theirs.state is AvModalityState.CONNECTED
                )

            await wait_until(both_connected, 60)
            meter.stop()
            figures["click Call to Connected"] = meter.figures()
            await asyncio.sleep(1.0)  # the tones reach the ears
            meter.start()
            heard_task = asyncio.ensure_future(
                asyncio.to_thread(record, pulse.server, b_dev.speaker_monitor, 1000)
            )
            await asyncio.sleep(seconds)
            meter.stop()
            figures["connected, tones flowing"] = meter.figures()
            heard = await heard_task
            figures["_heard"] = (tone_amplitude(heard, 440.0), 0.0)
            await alice.calls.hang_up(call_id)
    finally:
        main.close_quietly()
        bridge.detach()
        await alice.session.close()
        await bob.session.close()
    return figures


async def run(runs: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-callstall-") as tmp:
        pulse = PulseServer(Path(tmp) / "pulse")
        pulse.start()
        previous = os.environ.get("PULSE_SERVER")
        os.environ["PULSE_SERVER"] = pulse.server  # never the developer's sound server
        try:
            async with embedded_server(Path(tmp) / "hs") as server:
                results = [
                    await one_run(server, pulse, Path(tmp), run, seconds) for run in range(runs)
                ]
        finally:
            if previous is None:
                os.environ.pop("PULSE_SERVER", None)
            else:
                os.environ["PULSE_SERVER"] = previous
            pulse.stop()
    print(
        f"UI-thread stalls during a call ({HEARTBEAT_MS} ms heartbeat; median of {runs} runs, "
        f"worst in brackets; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    for phase in ("window open, no call", "click Call to Connected", "connected, tones flowing"):
        longest = [r[phase][0] for r in results]
        p99 = [r[phase][1] for r in results]
        print(
            f"  {phase:26s} longest stall {statistics.median(longest):6.1f} ms "
            f"[{max(longest):6.1f}]   p99 lateness {statistics.median(p99):5.1f} ms "
            f"[{max(p99):5.1f}]"
        )
    amplitudes = ", ".join(f"{r['_heard'][0]:.2f}" for r in results)
    print(f"  Alice's 440 Hz tone at Bob's ear, amplitude per run: {amplitudes} (0.3 played)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    run_on_qt_loop(run(args.runs, args.seconds))


if __name__ == "__main__":
    main()
