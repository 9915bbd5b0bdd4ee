"""Roster benchmark: a 1,000-member meeting on the embedded server. Prints figures only.

Measures, in the real conversation window (offscreen):
- time from opening the window to a full roster (everyone shown), and to the
  full member list loaded from the server and applied,
- the longest UI-thread stall (a 5 ms heartbeat timer) while opening and loading,
- time to apply one membership change and one role change (engine event to
  updated model and view, all observers included), and the longest UI-thread
  stall while those arrive,
- resident memory before and after the roster is shown.

Run: .venv/bin/python -m bench.roster [--members N] [--profile] [--server-dir DIR]
(--profile prints where the UI thread spent its time while opening and during
the changes, from cProfile; the figures are slower with it. --server-dir keeps
the filled server in DIR and reuses it on the next run with the same N: filling
it with 10,000 people takes about a quarter of an hour.)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import aiohttp
import psutil

from bench.harness import embedded_server, run_on_qt_loop, wait_until
from engine import events as ev
from engine.conference_models import AccessLevel, Role
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver
from tests.helpers.stalls import StallMeter
from ui.bridge import EngineBridge
from ui.roster_model import RosterModel, Section
from ui.roster_view import RosterList, RosterPanel
from ui.window_registry import ConversationWindows


class RosterSteps:
    """The longest single piece of roster work on the UI thread since the last reset.

    The whole-window stall also holds the rest of the window (the transcript
    lays out its messages, one per join); this times only the roster's own
    steps: building the panel, each model update, and the list's layouts and
    paints. Wrapping the class attributes before any window exists makes
    Qt's virtual calls reach the timed versions.
    """

    def __init__(self) -> None:
        self.longest = 0.0
        self.name = ""
        for cls, names in (
            (RosterPanel, ("__init__",)),
            (RosterModel, ("reset", "upsert", "remove", "_drain_batch")),
            (RosterList, ("timerEvent", "paintEvent")),
        ):
            for name in names:
                setattr(cls, name, self._timed(cls, name))

    def reset(self) -> None:
        self.longest, self.name = 0.0, ""

    def _timed(self, cls: type, name: str) -> object:
        original = getattr(cls, name)
        steps = self

        def timed(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                took = time.perf_counter() - start
                if took > steps.longest:
                    steps.longest, steps.name = took, f"{cls.__name__}.{name}"

        return timed


class PublishTimer:
    """Times how long the bus takes to deliver matching events to every observer."""

    def __init__(self, engine: Engine) -> None:
        self.durations: dict[tuple[type, str], float] = {}
        self.resets: list[str] = []  # rooms whose full member list was published
        original = engine.session.bus.publish

        def timed(event: ev.EngineEvent) -> None:
            start = time.perf_counter()
            original(event)
            if isinstance(event, ev.ParticipantAdded | ev.ParticipantChanged):
                key = (type(event), event.participant.user_id)
                self.durations[key] = time.perf_counter() - start
            elif isinstance(event, ev.ParticipantsReset):
                self.resets.append(event.room_id)

        engine.session.bus.publish = timed  # type: ignore[method-assign]


async def add_member(
    http: aiohttp.ClientSession, server: EmbeddedHomeserver, room_id: str, localpart: str, name: str
) -> None:
    """Create a user and join them to the meeting through the admin API."""
    user_id = f"@{localpart}:{server.server_name}"
    async with http.put(
        f"/_synapse/admin/v2/users/{quote(user_id)}", json={"displayname": name}
    ) as response:
        response.raise_for_status()
    async with http.post(
        f"/_synapse/admin/v1/join/{quote(room_id)}", json={"user_id": user_id}
    ) as response:
        response.raise_for_status()


def admin_session(server: EmbeddedHomeserver, token: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(server.base_url, headers={"Authorization": f"Bearer {token}"})


async def populate(server: EmbeddedHomeserver, token: str, room_id: str, count: int) -> None:
    limit = asyncio.Semaphore(8)
    async with admin_session(server, token) as http:

        async def add(i: int) -> None:
            async with limit:
                await add_member(http, server, room_id, f"member{i:04d}", f"Member {i:04d}")

        await asyncio.gather(*(add(i) for i in range(count)))


def print_profile(profile: cProfile.Profile | None, title: str) -> None:
    if profile is None:
        return
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    print(f"--- where the time went: {title} (by own time) ---")
    print(out.getvalue())


async def organizer_password(server: EmbeddedHomeserver, fresh: bool) -> str:
    """The organizer's password for this run: a new one each time, never stored.

    A kept server gets it through a one-off admin account's password reset.
    """
    password = secrets.token_urlsafe(12)
    if fresh:
        await server.register_user("organizer", password, admin=True, displayname="Organizer")
        return password
    admin = f"benchadmin{secrets.token_hex(4)}"
    admin_password = secrets.token_urlsafe(12)
    await server.register_user(admin, admin_password, admin=True)
    async with aiohttp.ClientSession(server.base_url) as http:
        login = {"type": "m.login.password", "user": admin, "password": admin_password}
        async with http.post("/_matrix/client/v3/login", json=login) as response:
            token = (await response.json())["access_token"]
    async with admin_session(server, token) as http:
        user_id = quote(f"@organizer:{server.server_name}")
        body = {"new_password": password, "logout_devices": True}
        async with http.post(f"/_synapse/admin/v1/reset_password/{user_id}", json=body) as r:
            r.raise_for_status()
    return password


async def run(members: int, profiling: bool = False, server_dir: Path | None = None) -> None:
    process = psutil.Process()
    with tempfile.TemporaryDirectory(prefix="confero-roster-") as tmp:
        kept = server_dir / "bench-roster.json" if server_dir else None
        record = json.loads(kept.read_text()) if kept and kept.exists() else {}
        if record.get("members") != members:
            record = {}
            if server_dir is not None and server_dir.exists():
                shutil.rmtree(server_dir)
        async with embedded_server(server_dir or Path(tmp) / "hs") as server:
            password = await organizer_password(server, fresh=not record)
            # The UI thread also runs the engine: sign-in, sync and the member list
            # must not stall it either.
            before_window = StallMeter()
            before_window.start()
            engine = Engine(Path(tmp) / "app")
            await engine.session.login(server.base_url, "organizer", password, remember=False)
            await engine.session.start()
            if record:
                room_id = record["room_id"]
                print(f"reusing the meeting of {members} members in {server_dir}", flush=True)
                # Quitting the last run left the meeting; the organizer comes back as Leader.
                await engine.conferences.join(room_id)
                # As in a first run, the engine knows everyone before the window opens.
                await engine.conferences.load_participants(room_id)
            else:
                room_id = await engine.conferences.meet_now("All hands")
                await engine.conferences.set_options(room_id, access_level=AccessLevel.EVERYONE)
                print(f"adding {members} members…", flush=True)
                started = time.perf_counter()
                token = engine.session.require_client().access_token
                await populate(server, token, room_id, members)
                print(f"  (set-up took {time.perf_counter() - started:.1f} s)")
                if kept is not None:
                    kept.write_text(json.dumps({"members": members, "room_id": room_id}))
            await asyncio.sleep(3)  # let sync deliver the joins before measuring the window
            sign_in_stall = before_window.stop()

            bridge = EngineBridge(engine.session.bus)
            steps = RosterSteps()
            meter = StallMeter()
            rss_before = process.memory_info().rss
            timer = PublishTimer(engine)
            profile = cProfile.Profile() if profiling else None
            if profile is not None:
                profile.enable()
            meter.start()
            steps.reset()
            opened = time.perf_counter()
            window = ConversationWindows(engine, bridge).open(room_id)
            window.show()
            model = window.roster.model
            await wait_until(
                lambda: sum(model.count(s) for s in Section) >= members + 1, poll=0.001
            )
            full_roster = time.perf_counter() - opened
            # The window also loads the member list from the server: wait for it to be shown.
            await wait_until(lambda: room_id in timer.resets and not model.loading, poll=0.001)
            loaded = time.perf_counter() - opened
            await asyncio.sleep(0.3)
            open_stall = meter.stop()
            if profile is not None:
                profile.disable()
            print_profile(profile, "opening and loading")
            open_step, open_step_name = steps.longest, steps.name
            rss_after = process.memory_info().rss

            profile = cProfile.Profile() if profiling else None
            if profile is not None:
                profile.enable()
            meter.start()
            steps.reset()
            late = f"latecomer{secrets.token_hex(3)}"  # new on a kept server too
            async with admin_session(server, engine.session.require_client().access_token) as http:
                await add_member(http, server, room_id, late, "Late Comer")
            newcomer = (ev.ParticipantAdded, f"@{late}:{server.server_name}")
            await wait_until(lambda: newcomer in timer.durations, poll=0.001)
            changed_user = f"@member0000:{server.server_name}"
            # Flip their role (a kept server has it from the last run).
            was_presenter = model.section_of_user(changed_user) == Section.PRESENTERS
            role, section = (
                (Role.ATTENDEE, Section.ATTENDEES)
                if was_presenter
                else (Role.PRESENTER, Section.PRESENTERS)
            )
            await engine.conferences.set_role(room_id, changed_user, role)
            await wait_until(
                lambda: (ev.ParticipantChanged, changed_user) in timer.durations, poll=0.001
            )
            assert model.section_of_user(changed_user) == section
            await asyncio.sleep(0.2)
            change_stall = meter.stop()
            if profile is not None:
                profile.disable()
            print_profile(profile, "the changes")
            change_step, change_step_name = steps.longest, steps.name
            added = timer.durations[newcomer]
            changed = timer.durations[(ev.ParticipantChanged, changed_user)]

            print(f"Confero roster, {members + 1} people in the meeting, {os.cpu_count()} cores")
            print(
                "  longest UI stall while signing in, syncing and loading the member list"
                f" (before the window; adding the members on a new server included):"
                f" {sign_in_stall * 1000:.1f} ms"
            )
            print(f"  open window to full roster: {full_roster * 1000:.1f} ms")
            print(f"  open window to the server's member list applied: {loaded * 1000:.1f} ms")
            print(f"  longest UI stall while opening and loading: {open_stall * 1000:.1f} ms")
            print(
                f"    of which the longest roster step: {open_step * 1000:.1f} ms "
                f"({open_step_name})"
            )
            print(f"  one membership change applied: {added * 1000:.2f} ms")
            print(f"  one role change applied: {changed * 1000:.2f} ms")
            print(f"  longest UI stall during the changes: {change_stall * 1000:.1f} ms")
            print(
                f"    of which the longest roster step: {change_step * 1000:.1f} ms "
                f"({change_step_name})"
            )
            print(
                f"  resident memory: {rss_before / 2**20:.0f} MB before the window, "
                f"{rss_after / 2**20:.0f} MB with the roster shown"
            )
            window.close()
            bridge.detach()
            await engine.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary")
    parser.add_argument(
        "--server-dir", type=Path, help="keep the filled server here and reuse it next time"
    )
    args = parser.parse_args()
    run_on_qt_loop(run(args.members, args.profile, args.server_dir))


if __name__ == "__main__":
    main()
