"""My meetings benchmark: 500 meetings on the embedded server. Prints figures only.

Measures, with the real My meetings view (offscreen):
- how long the first sync takes to bring every meeting into My meetings,
  and the longest UI-thread stall meanwhile (the view is live, fed by events),
- the time to show My meetings (build the view from the engine's list and
  paint it), median of several runs, and the longest UI stall while doing it,
- the time to toggle "Show past meetings" (median) and the engine's summaries() call,
- resident memory before and after the view is shown.

Run: .venv/bin/python -m bench.my_meetings [--meetings N] [--runs R]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
import psutil
from PySide6.QtWidgets import QApplication

from bench.harness import embedded_server, run_on_qt_loop, wait_until
from engine.conference_models import AccessLevel
from engine.conferences import meeting_create_request
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from tests.helpers.stalls import StallMeter
from ui.bridge import EngineBridge
from ui.my_meetings_view import MyMeetingsView

HOUR_MS = 3_600_000


def meeting_request(organizer: str, i: int, now_ms: int) -> dict[str, object]:
    """A mix: a third unscheduled, a third in the future, a third already over."""
    conference_id = str(2_000_000 + i)
    state: dict[str, object] = {
        "conference_id": conference_id,
        "subject": f"Meeting {i:03d}",
        "organizer": organizer,
        "created_ts": now_ms - i * 1000,
        "presenter_policy": "Everyone",
    }
    if i % 3 == 1:
        state |= {"start_ts": now_ms + i * HOUR_MS, "end_ts": now_ms + (i + 1) * HOUR_MS}
    elif i % 3 == 2:
        state |= {"start_ts": now_ms - (i + 2) * HOUR_MS, "end_ts": now_ms - (i + 1) * HOUR_MS}
    request = meeting_create_request(
        organizer, conference_id, str(state["subject"]), state, AccessLevel.INVITED
    )
    request["preset"] = request["preset"].value
    request["room_alias_name"] = request.pop("alias")
    request["power_level_content_override"] = request.pop("power_level_override")
    return request


async def create_meetings(server: EmbeddedHomeserver, token: str, user_id: str, count: int) -> None:
    """Straight createRoom calls (the same request Meet Now sends), a few at a time."""
    now_ms = int(time.time() * 1000)
    limit = asyncio.Semaphore(6)
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession(server.base_url, headers=headers) as http:

        async def create(i: int) -> None:
            async with (
                limit,
                http.post(
                    "/_matrix/client/v3/createRoom", json=meeting_request(user_id, i, now_ms)
                ) as response,
            ):
                response.raise_for_status()

        await asyncio.gather(*(create(i) for i in range(count)))


def show_once(engine: Engine, bridge: EngineBridge) -> tuple[float, MyMeetingsView]:
    started = time.perf_counter()
    view = MyMeetingsView(engine, bridge)
    view.resize(420, 640)
    view.show()
    view.list_view.viewport().repaint()  # the rows on screen, painted now
    return time.perf_counter() - started, view


async def run(meetings: int, runs: int) -> None:
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="confero-meetings-") as tmp:
        async with embedded_server(Path(tmp) / "hs") as server:
            password = secrets.token_urlsafe(12)
            await server.register_user("organizer", password, admin=True, displayname="Organizer")
            maker = Engine(Path(tmp) / "maker")
            await maker.session.login(server.base_url, "organizer", password, remember=False)
            user_id = maker.session.user_id or ""
            print(f"creating {meetings} meetings…", flush=True)
            started = time.perf_counter()
            token = maker.session.require_client().access_token
            await create_meetings(server, token, user_id, meetings)
            print(f"  (set-up took {time.perf_counter() - started:.1f} s)")
            await maker.session.close()

            # A fresh sign-in: the first sync brings every meeting, the view is live.
            engine = Engine(Path(tmp) / "app")
            await engine.session.login(server.base_url, "organizer", password, remember=False)
            bridge = EngineBridge(engine.session.bus)
            live_view = MyMeetingsView(engine, bridge)
            live_view.show()
            meter = StallMeter()
            meter.start()
            synced = time.perf_counter()
            await engine.session.start()
            await wait_until(
                lambda: len(engine.my_meetings.summaries(include_expired=True)) >= meetings,
                poll=0.001,
            )
            sync_time = time.perf_counter() - synced
            await asyncio.sleep(0.3)
            sync_stall = meter.stop()
            shown_rows = live_view.model.rowCount()
            live_view.close()
            live_view.deleteLater()
            await asyncio.sleep(0.1)

            started = time.perf_counter()
            for _ in range(20):
                engine.my_meetings.summaries(include_expired=True)
            summaries_ms = (time.perf_counter() - started) / 20 * 1000

            rss_before = process.memory_info().rss
            show_times, toggle_times, stalls = [], [], []
            views: list[MyMeetingsView] = []
            for _ in range(runs):
                meter.start()
                took, view = show_once(engine, bridge)
                show_times.append(took)
                await asyncio.sleep(0.05)
                stalls.append(meter.stop())
                started = time.perf_counter()
                view.show_past_check.setChecked(True)
                view.list_view.viewport().repaint()
                toggle_times.append(time.perf_counter() - started)
                views.append(view)
            rss_after = process.memory_info().rss
            for view in views:
                view.close()
                view.deleteLater()
            QApplication.processEvents()

            ms = 1000
            print(f"My meetings with {meetings} meetings on the embedded server ({runs} runs):")
            print(
                f"  first sync to all {meetings} listed: {sync_time * ms:.0f} ms "
                f"({shown_rows} rows shown, past ones hidden); "
                f"longest UI stall meanwhile: {sync_stall * ms:.0f} ms"
            )
            print(f"  engine summaries(include_expired=True): {summaries_ms:.1f} ms")
            print(
                f"  time to show My meetings: median {statistics.median(show_times) * ms:.1f} ms "
                f"(min {min(show_times) * ms:.1f}, max {max(show_times) * ms:.1f})"
            )
            print(f"  longest UI stall while showing: {max(stalls) * ms:.0f} ms")
            print(f"  Show past meetings on: median {statistics.median(toggle_times) * ms:.1f} ms")
            before, after = rss_before / 2**20, rss_after / 2**20
            print(
                f"  resident memory: +{(after - before) / runs:.1f} MB per view "
                f"({before:.0f} MB before, {after:.0f} MB with {runs} views)"
            )
            bridge.detach()
            await engine.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meetings", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    run_on_qt_loop(run(args.meetings, args.runs))


if __name__ == "__main__":
    main()
