"""Meet Now benchmark: click to a meeting window showing its link. Prints figures only.

On an embedded Synapse, one signed-in user with the real MainWindow (offscreen)
clicks Meet Now several times. Reports, as medians over the runs:
- (a) a raw ``createRoom`` round trip with the very request Confero sends
  (engine.conferences.meeting_create_request), same server, same user, through
  a plain matrix-nio client of its own;
- (b) from the click on Meet Now to the meeting's conversation window being
  visible and showing the meeting link;
- (b) / (a), the goal being 2x;
- the longest UI-thread stall during (b) (tests/helpers/stalls.py StallMeter).

The raw and the clicked runs alternate, after one warm-up of each.

Run: .venv/bin/python -m bench.meet_now [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

from nio import AsyncClient, RoomCreateResponse
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from bench.harness import embedded_server, raw_meeting_request, run_on_qt_loop, wait_until
from engine.conference_models import AccessLevel
from engine.engine import Engine
from engine.matrix_events import CONFERENCE_STATE
from tests.helpers.stalls import StallMeter
from ui.bridge import EngineBridge
from ui.conversation_window import ConversationWindow
from ui.main_window import MainWindow


async def raw_create_room(client: AsyncClient) -> float:
    """One createRoom with Confero's request body; seconds for the round trip."""
    request = raw_meeting_request(client.user_id, "Raw meeting", AccessLevel.INVITED)
    assert request["initial_state"][0]["type"] == CONFERENCE_STATE
    start = time.perf_counter()
    response = await client.room_create(**request)
    elapsed = time.perf_counter() - start
    assert isinstance(response, RoomCreateResponse), response
    return elapsed


def showing_link(main: MainWindow, before: set[int]) -> ConversationWindow | None:
    """A new meeting window on screen whose header shows the link, if there is one."""
    for window in main.windows.all():
        header = window.meeting_header
        if (
            id(window) not in before
            and window.isVisible()
            and header is not None
            and header.link_edit.isVisible()
            and header.link_edit.text().startswith("https://matrix.to/#/")
        ):
            return window
    return None


async def click_to_link(main: MainWindow, meter: StallMeter) -> tuple[float, float]:
    """Click Meet Now; seconds until the window shows the link, and the longest stall."""
    before = {id(w) for w in main.windows.all()}
    meter.start()
    start = time.perf_counter()
    QTest.mouseClick(main.meet_now_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: showing_link(main, before) is not None, timeout=60, poll=0.001)
    elapsed = time.perf_counter() - start
    stall = meter.stop()
    window = showing_link(main, before)
    assert window is not None
    await asyncio.sleep(1.0)  # let sync bring the room and the roster fill before closing
    window.close()
    await wait_until(main.meet_now_button.isEnabled)
    return elapsed, stall


async def run(runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="confero-meetnow-") as tmp:
        async with embedded_server(Path(tmp) / "hs") as server:
            password = secrets.token_urlsafe(12)
            user_id = await server.register_user("organizer", password, displayname="Organizer")
            engine = Engine(Path(tmp) / "app")
            info = await engine.session.login(server.base_url, user_id, password, remember=False)
            bridge = EngineBridge(engine.session.bus)
            main = MainWindow(engine, bridge)
            await engine.session.start()
            main.show_session(info)
            main.show()
            raw_client = AsyncClient(server.base_url, user_id)
            await raw_client.login(password)
            meter = StallMeter()
            raw: list[float] = []
            clicked: list[float] = []
            stalls: list[float] = []
            try:
                await asyncio.sleep(1.0)  # first sync done
                await raw_create_room(raw_client)  # warm-up, not counted
                await click_to_link(main, meter)
                for _ in range(runs):
                    raw.append(await raw_create_room(raw_client))
                    elapsed, stall = await click_to_link(main, meter)
                    clicked.append(elapsed)
                    stalls.append(stall)
            finally:
                await raw_client.close()
                main.close_quietly()
                bridge.detach()
                await engine.session.close()
    a, b = statistics.median(raw), statistics.median(clicked)
    print(f"Meet Now, median of {runs} runs on the embedded server:")
    print(f"  (a) raw createRoom (Confero's request):  {a * 1000:7.1f} ms")
    print(f"  (b) click to window showing the link:    {b * 1000:7.1f} ms")
    print(f"  (b) / (a): {b / a:.2f}x (goal 2x)")
    print(
        "  each run, (a) / (b) ms: "
        + ", ".join(f"{r * 1000:.0f}/{c * 1000:.0f}" for r, c in zip(raw, clicked, strict=True))
    )
    print(
        f"  longest UI stall during (b): median {statistics.median(stalls) * 1000:.1f} ms, "
        f"worst {max(stalls) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    run_on_qt_loop(run(parser.parse_args().runs))


if __name__ == "__main__":
    main()
