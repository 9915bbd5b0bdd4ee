"""Escalation benchmark: Add people to Completed on both sides. Prints figures only.

On a private embedded Synapse, Alice and Bob (two engines, each with the real
ConversationWindow offscreen; Bob in a process of his own, as on his own
computer) share a two-party conversation; Alice clicks Add people…, types
Carol's ID and clicks Add (each run a fresh trio; Carol is only an account).
Reports, as medians over the runs:
- milliseconds from the click on Add to Completed (the escalation's progress
  event, the moment the engine publishes it) on Alice's side and on Bob's, and
  to each window showing the meeting (the window follows on that event);
- the raw protocol round trips the escalation needs, measured in the same run
  with plain matrix-nio clients of their own, one after the other: the
  lookup of the added person's profile (Add people… checks they exist), Alice's
  createRoom with the very request the engine sends (meeting_create_request),
  the peer's invite (the member event the engine puts, which carries the
  request) until Bob's waiting sync brings it, and Bob's join,
  both until its answer (Bob's Completed) and until Alice's waiting sync
  brings it (Alice's Completed);
- each side's ratio to its sum, the goal being 1.2x, and the median of each
  run's own ratio (a loaded machine slows both the engine and the raw steps).

Run: .venv/bin/python -m bench.escalation [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import secrets
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    JoinResponse,
    ProfileGetResponse,
    RoomCreateResponse,
    SyncResponse,
)
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from bench.harness import embedded_server, raw_meeting_request, run_on_qt_loop, wait_until
from engine.conference_models import AccessLevel
from engine.engine import Engine
from engine.escalation_models import ESCALATE_KEY, ESCALATED_FROM, ConferenceEscalationProgress
from engine.events import EscalationProgressChanged
from engine.homeserver import EmbeddedHomeserver
from ui.add_people_dialog import AddPeopleDialog
from ui.bridge import EngineBridge
from ui.conversation_window import ConversationWindow

COMPLETED = ConferenceEscalationProgress.COMPLETED


@dataclass
class Person:
    engine: Engine
    bridge: EngineBridge
    user_id: str
    password: str
    #: two-party room -> the perf_counter() moment the engine published Completed
    completed: dict[str, float]


def watch_completed(engine: Engine, completed: dict[str, float]) -> None:
    """Record when ``engine`` publishes Completed, per two-party room.

    Subscribed before the window's bridge: Completed is the engine's moment;
    the window turning into the meeting (a figure of its own) follows on it.
    """

    def watch(event: object) -> None:
        if isinstance(event, EscalationProgressChanged) and event.progress is COMPLETED:
            completed.setdefault(event.direct_room_id, time.perf_counter())

    engine.session.bus.subscribe(watch)


async def signed_in(server: EmbeddedHomeserver, name: str, folder: Path) -> Person:
    password = secrets.token_urlsafe(12)
    localpart = f"{name}{secrets.token_hex(3)}"
    user_id = await server.register_user(localpart, password, displayname=name.title())
    engine = Engine(folder / localpart)
    await engine.session.login(server.base_url, user_id, password, remember=False)
    completed: dict[str, float] = {}
    watch_completed(engine, completed)
    bridge = EngineBridge(engine.session.bus)
    await engine.session.start()
    return Person(engine, bridge, user_id, password, completed)


async def when(predicate: Callable[[], bool]) -> float:
    await wait_until(predicate, timeout=60, poll=0.001)
    return time.perf_counter()


async def sync_until(
    client: AsyncClient, since: str, seen: Callable[[SyncResponse], bool]
) -> tuple[float, str]:
    """Long-poll sync from ``since`` until ``seen``; the moment it answered, and the token."""
    while True:
        response = await client.sync(timeout=30_000, since=since)
        assert isinstance(response, SyncResponse), response
        since = response.next_batch
        if seen(response):
            return time.perf_counter(), since


def timeline_has(room_id: str, check: Callable[[dict[str, Any]], bool]) -> Callable[..., bool]:
    def seen(response: SyncResponse) -> bool:
        room = response.rooms.join.get(room_id)
        return room is not None and any(check(e.source) for e in room.timeline.events)

    return seen


def invited_to(room_id: str) -> Callable[[SyncResponse], bool]:
    return lambda response: room_id in response.rooms.invite


async def raw_round_trips(server: EmbeddedHomeserver) -> dict[str, float]:
    """Each protocol step of an escalation once, with plain clients, in seconds.

    Two accounts of their own with a two-party room of their own: the engines
    must not see (and follow) this escalation.
    """
    names: dict[str, tuple[str, str]] = {}
    for name in ("dave", "erin"):
        password = secrets.token_urlsafe(12)
        names[name] = (
            await server.register_user(f"{name}{secrets.token_hex(3)}", password),
            password,
        )
    (alice_id, alice_pw), (bob_id, bob_pw) = names["dave"], names["erin"]
    a, b = AsyncClient(server.base_url, alice_id), AsyncClient(server.base_url, bob_id)
    await a.login(alice_pw)
    await b.login(bob_pw)
    steps: dict[str, float] = {}
    try:
        room = await a.room_create(is_direct=True, invite=[bob_id])
        assert isinstance(room, RoomCreateResponse), room
        direct = room.room_id
        assert isinstance(await b.join(direct), JoinResponse)
        a_since = (await a.sync(timeout=0)).next_batch
        b_since = (await b.sync(timeout=0)).next_batch
        # Add people… first makes sure the added person exists (a profile lookup).
        start = time.perf_counter()
        profile = await a.get_profile(bob_id)
        steps["profile lookup"] = time.perf_counter() - start
        assert isinstance(profile, ProfileGetResponse), profile
        request = raw_meeting_request(
            alice_id, "Alice and Bob", AccessLevel.LOCKED, escalated_from=direct
        )
        start = time.perf_counter()
        created = await a.room_create(**request)
        steps["createRoom"] = time.perf_counter() - start
        assert isinstance(created, RoomCreateResponse), created
        conf = created.room_id

        path = (
            f"/_matrix/client/v3/rooms/{quote(conf, safe='')}/state/m.room.member/"
            f"{quote(bob_id, safe='')}"
        )
        # Bob's sync is waiting when the invite goes out, as the engine's is; his
        # Confero follows on the invite itself (the request message after it is
        # for other clients and is not on the way to Completed).
        bob_hears = asyncio.ensure_future(sync_until(b, b_since, invited_to(conf)))
        await asyncio.sleep(0.2)  # the long poll is at the server
        invite = {
            "membership": "invite",
            ESCALATED_FROM: direct,
            ESCALATE_KEY: {"conference_room": conf},
        }
        start = time.perf_counter()
        answer = await a.send(
            "PUT", path, json.dumps(invite), {"Authorization": f"Bearer {a.access_token}"}
        )
        async with answer:
            assert answer.status == 200, await answer.text()
        heard_at, _ = await bob_hears
        steps["invite, to Bob's sync"] = heard_at - start

        alice_hears = asyncio.ensure_future(
            sync_until(
                a,
                a_since,
                timeline_has(
                    conf,
                    lambda s: (
                        s.get("type") == "m.room.member"
                        and s.get("state_key") == bob_id
                        and s["content"].get("membership") == "join"
                    ),
                ),
            )
        )
        await asyncio.sleep(0.2)
        start = time.perf_counter()
        joined = await b.join(conf)
        steps["Bob's join"] = time.perf_counter() - start
        assert isinstance(joined, JoinResponse), joined
        heard_at, _ = await alice_hears
        steps["join, to Alice's sync"] = heard_at - start
        await a.room_leave(conf)
        await b.room_leave(conf)
        return steps
    finally:
        await a.close()
        await b.close()


class PeerProcess:
    """Bob in a process of his own, as on a computer of his own: his sync, his
    window and his UI work do not share Alice's event loop. Lines on his stdout
    carry time.perf_counter() moments (CLOCK_MONOTONIC: one clock for both)."""

    def __init__(self, server: EmbeddedHomeserver, folder: Path) -> None:
        self.password = secrets.token_urlsafe(12)
        self.localpart = f"bob{secrets.token_hex(3)}"
        self.folder = folder / self.localpart
        self._server = server
        self._lines: list[str] = []
        self.user_id = ""

    async def start(self) -> None:
        self.user_id = await self._server.register_user(
            self.localpart, self.password, displayname="Bob"
        )
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.escalation",
                "--peer",
                self._server.base_url,
                self.user_id,
                str(self.folder),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(self.password + "\n")  # a secret: not on the command line
        self._process.stdin.flush()
        threading.Thread(target=self._read, daemon=True).start()
        await self.expect("ready")

    def _read(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line.strip())

    def send(self, line: str) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(line + "\n")
        self._process.stdin.flush()

    async def expect(self, word: str) -> float:
        """The moment on the peer's line ``word [moment]`` (0 without one)."""
        await wait_until(
            lambda: (
                any(line.split()[:1] == [word] for line in self._lines)
                or self._process.poll() is not None
            ),
            timeout=60,
            poll=0.001,
        )
        found = next((line.split() for line in self._lines if line.split()[:1] == [word]), None)
        assert found is not None, f"the peer process ended (status {self._process.poll()})"
        return float(found[1]) if len(found) > 1 else 0.0

    async def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send("quit")
        await asyncio.to_thread(self._process.wait, 30)


async def peer(base_url: str, user_id: str, folder: Path) -> None:
    """The peer process (see PeerProcess): opens the conversation it is told,
    prints when its engine is Completed and when its window is the meeting."""
    lines: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()

    def read_stdin() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line.strip())
        loop.call_soon_threadsafe(lines.put_nowait, "quit")

    threading.Thread(target=read_stdin, daemon=True).start()
    password = await lines.get()
    engine = Engine(folder)
    await engine.session.login(base_url, user_id, password, remember=False)
    completed: dict[str, float] = {}
    watch_completed(engine, completed)
    bridge = EngineBridge(engine.session.bus)
    await engine.session.start()
    print("ready", flush=True)
    window: ConversationWindow | None = None
    try:
        command = (await lines.get()).split()
        if command[:1] != ["open"]:
            return
        room_id = command[1]
        await wait_until(lambda: engine.conversations.conversation(room_id) is not None)
        window = ConversationWindow(engine, bridge, room_id)
        window.show()
        print("opened", flush=True)
        meeting_at = await when(lambda: window is not None and window.is_meeting)
        await when(lambda: room_id in completed)
        print(f"completed {completed[room_id]!r}", flush=True)
        print(f"window {meeting_at!r}", flush=True)
        while await lines.get() != "quit":
            pass
    finally:
        if window is not None:
            window.close()
        bridge.detach()
        await engine.session.close()


async def one_run(server: EmbeddedHomeserver, folder: Path) -> dict[str, float]:
    alice = await signed_in(server, "alice", folder)
    bob = PeerProcess(server, folder)
    await bob.start()
    # Carol is only added: an account for Add people… to find, no client of hers.
    carol_id = await server.register_user(f"carol{secrets.token_hex(3)}", secrets.token_urlsafe(12))
    alice_window: ConversationWindow | None = None
    try:
        room_id = await alice.engine.conversations.start_direct_conversation(bob.user_id)
        bob.send(f"open {room_id}")
        await bob.expect("opened")
        await wait_until(lambda: alice.engine.conversations.conversation(room_id).member_count == 2)
        alice_window = ConversationWindow(alice.engine, alice.bridge, room_id)
        alice_window.show()
        await asyncio.sleep(0.5)  # both syncs are idle long polls again
        figures = await raw_round_trips(server)
        await asyncio.sleep(0.5)

        dialog = alice_window.add_people()
        assert isinstance(dialog, AddPeopleDialog)
        dialog.query_edit.setText(carol_id)
        start = time.perf_counter()
        QTest.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        window = alice_window
        alice_window_at = await when(lambda: window.is_meeting)
        await when(lambda: room_id in alice.completed)
        figures["alice"] = alice.completed[room_id] - start
        figures["bob"] = await bob.expect("completed") - start
        figures["alice window"] = alice_window_at - start
        figures["bob window"] = await bob.expect("window") - start
        await asyncio.sleep(0.5)  # Carol's invite goes out before closing
        return figures
    finally:
        if alice_window is not None:
            alice_window.close()
        await bob.stop()
        alice.bridge.detach()
        await alice.engine.session.close()


#: The chain each side's Completed waits for (the join is one step or the other).
_COMMON = ("profile lookup", "createRoom", "invite, to Bob's sync")
_BOB_STEPS = (*_COMMON, "Bob's join")
_ALICE_STEPS = (*_COMMON, "join, to Alice's sync")
_RAW_STEPS = (*_BOB_STEPS, _ALICE_STEPS[-1])


async def run(runs: int) -> None:
    with TemporaryDirectory(prefix="confero-bench-") as tmp:
        async with embedded_server(Path(tmp) / "hs") as server:
            await one_run(server, Path(tmp))  # warm-up, not counted
            results = [await one_run(server, Path(tmp)) for _ in range(runs)]

    def median(key: str) -> float:
        return statistics.median(r[key] for r in results)

    raw_bob = statistics.median(sum(r[s] for s in _BOB_STEPS) for r in results)
    raw_alice = statistics.median(sum(r[s] for s in _ALICE_STEPS) for r in results)
    alice, bob = median("alice"), median("bob")
    print(f"escalation, median of {runs} runs on the embedded server (ms):")
    print("  raw round trips, plain clients, same run:")
    for step in _RAW_STEPS:
        print(f"    {step:<24} {median(step) * 1000:7.1f}")
    print(f"    sum for Bob (all but the last):     {raw_bob * 1000:7.1f}")
    print(f"    sum for Alice (all but Bob's join): {raw_alice * 1000:7.1f}")
    print("  click on Add to Completed:")
    print(f"    initiator (Alice): {alice * 1000:7.1f}  = {alice / raw_alice:.2f}x (goal 1.2x)")
    print(f"    peer (Bob):        {bob * 1000:7.1f}  = {bob / raw_bob:.2f}x (goal 1.2x)")
    print("  click on Add to the window showing the meeting:")
    print(f"    initiator (Alice): {median('alice window') * 1000:7.1f}")
    print(f"    peer (Bob):        {median('bob window') * 1000:7.1f}")
    # Each run's engine time over its own raw sum: the machine's load moves both.
    ratio_alice = statistics.median(r["alice"] / sum(r[s] for s in _ALICE_STEPS) for r in results)
    ratio_bob = statistics.median(r["bob"] / sum(r[s] for s in _BOB_STEPS) for r in results)
    print(f"  median of each run's ratio: initiator {ratio_alice:.2f}x, peer {ratio_bob:.2f}x")
    print(
        "  each run, Alice/Bob/raw Alice ms: "
        + ", ".join(
            f"{r['alice'] * 1000:.0f}/{r['bob'] * 1000:.0f}/"
            f"{sum(r[s] for s in _ALICE_STEPS) * 1000:.0f}"
            for r in results
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--peer", nargs=3, metavar=("URL", "USER", "FOLDER"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.peer:
        url, user, folder = args.peer
        run_on_qt_loop(peer(url, user, Path(folder)))
    else:
        run_on_qt_loop(run(args.runs))


if __name__ == "__main__":
    main()
