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
  run's own ratio (a loaded machine slows both the engine and the raw steps);
- the same requests made by plain clients that keep a sync loop running, as
  every Matrix client does (syncing_clients): the floor for any client on this
  server, since it also builds and answers each one's sync of every change on
  the way, and Confero's time over that floor.

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
from engine.session import SYNC_FILTER
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


@dataclass
class PlainPair:
    """Two plain matrix-nio clients of their own accounts, in a two-party room of
    their own (the engines must not see, and follow, their escalation)."""

    alice: AsyncClient
    bob: AsyncClient
    direct: str
    alice_since: str
    bob_since: str

    async def close(self) -> None:
        await self.alice.close()
        await self.bob.close()


async def plain_pair(server: EmbeddedHomeserver) -> PlainPair:
    clients = []
    for name in ("dave", "erin"):
        password = secrets.token_urlsafe(12)
        user_id = await server.register_user(f"{name}{secrets.token_hex(3)}", password)
        client = AsyncClient(server.base_url, user_id)
        await client.login(password)
        clients.append(client)
    a, b = clients
    room = await a.room_create(is_direct=True, invite=[b.user_id])
    assert isinstance(room, RoomCreateResponse), room
    assert isinstance(await b.join(room.room_id), JoinResponse)
    a_since = (await a.sync(timeout=0)).next_batch
    b_since = (await b.sync(timeout=0)).next_batch
    return PlainPair(a, b, room.room_id, a_since, b_since)


async def create_meeting(pair: PlainPair) -> str:
    """Alice's createRoom, with the very request the engine sends."""
    request = raw_meeting_request(
        pair.alice.user_id, "Alice and Bob", AccessLevel.LOCKED, escalated_from=pair.direct
    )
    created = await pair.alice.room_create(**request)
    assert isinstance(created, RoomCreateResponse), created
    return created.room_id


async def invite_peer(pair: PlainPair, conf: str) -> None:
    """The peer's invite as the engine puts it: the member event carries the request."""
    a, bob_id = pair.alice, pair.bob.user_id
    path = (
        f"/_matrix/client/v3/rooms/{quote(conf, safe='')}/state/m.room.member/"
        f"{quote(bob_id, safe='')}"
    )
    invite = {
        "membership": "invite",
        ESCALATED_FROM: pair.direct,
        ESCALATE_KEY: {"conference_room": conf},
    }
    answer = await a.send(
        "PUT", path, json.dumps(invite), {"Authorization": f"Bearer {a.access_token}"}
    )
    async with answer:
        assert answer.status == 200, await answer.text()


def joined(user_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda source: (
        source.get("type") == "m.room.member"
        and source.get("state_key") == user_id
        and source["content"].get("membership") == "join"
    )


async def raw_round_trips(server: EmbeddedHomeserver) -> dict[str, float]:
    """Each protocol step of an escalation once, with plain clients, in seconds."""
    pair = await plain_pair(server)
    a, b = pair.alice, pair.bob
    steps: dict[str, float] = {}
    try:
        # Add people… first makes sure the added person exists (a profile lookup).
        start = time.perf_counter()
        profile = await a.get_profile(b.user_id)
        steps["profile lookup"] = time.perf_counter() - start
        assert isinstance(profile, ProfileGetResponse), profile
        start = time.perf_counter()
        conf = await create_meeting(pair)
        steps["createRoom"] = time.perf_counter() - start

        # Bob's sync is waiting when the invite goes out, as the engine's is; his
        # Confero follows on the invite itself (the request message after it is
        # for other clients and is not on the way to Completed).
        bob_hears = asyncio.ensure_future(sync_until(b, pair.bob_since, invited_to(conf)))
        await asyncio.sleep(0.2)  # the long poll is at the server
        start = time.perf_counter()
        await invite_peer(pair, conf)
        heard_at, _ = await bob_hears
        steps["invite, to Bob's sync"] = heard_at - start

        alice_hears = asyncio.ensure_future(
            sync_until(a, pair.alice_since, timeline_has(conf, joined(b.user_id)))
        )
        await asyncio.sleep(0.2)
        start = time.perf_counter()
        answer = await b.join(conf)
        steps["Bob's join"] = time.perf_counter() - start
        assert isinstance(answer, JoinResponse), answer
        heard_at, _ = await alice_hears
        steps["join, to Alice's sync"] = heard_at - start
        await a.room_leave(conf)
        await b.room_leave(conf)
        return steps
    finally:
        await pair.close()


class SyncLoop:
    """A plain client's sync loop, as every Matrix client keeps one running: it
    long-polls with Confero's filter and hands each answer to ``on_answer``."""

    def __init__(
        self, client: AsyncClient, since: str, on_answer: Callable[[SyncResponse], None]
    ) -> None:
        self._task = asyncio.ensure_future(self._run(client, since, on_answer))

    @staticmethod
    async def _run(
        client: AsyncClient, since: str, on_answer: Callable[[SyncResponse], None]
    ) -> None:
        while True:
            response = await client.sync(timeout=30_000, since=since, sync_filter=SYNC_FILTER)
            assert isinstance(response, SyncResponse), response
            since = response.next_batch
            on_answer(response)

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def syncing_clients(server: EmbeddedHomeserver) -> dict[str, float]:
    """The escalation's own requests by plain clients that keep syncing, in seconds.

    The floor for any Matrix client: the requests of the raw chain and nothing
    else (no presence, no window, no message for other clients), but each client
    keeps its sync loop running, so the server also builds each one's sync of
    every change on the way (Alice's of the new meeting and of her invite, Bob's
    of the invite and of the meeting he joined), as it does for any client.
    From the profile lookup to Bob's join answered and to Alice's sync bringing it.
    """
    pair = await plain_pair(server)
    a, b = pair.alice, pair.bob
    meeting: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    bob_joined: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    alice_heard: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    async def join(conf: str) -> None:
        answer = await b.join(conf)
        assert isinstance(answer, JoinResponse), answer
        bob_joined.set_result(time.perf_counter())

    joining: list[asyncio.Task[None]] = []  # Bob follows on the invite, once

    def bob_answer(response: SyncResponse) -> None:
        if not joining and meeting.done() and meeting.result() in response.rooms.invite:
            joining.append(asyncio.ensure_future(join(meeting.result())))

    def alice_answer(response: SyncResponse) -> None:
        heard = meeting.done() and timeline_has(meeting.result(), joined(b.user_id))(response)
        if heard and not alice_heard.done():
            alice_heard.set_result(time.perf_counter())

    loops = [SyncLoop(a, pair.alice_since, alice_answer), SyncLoop(b, pair.bob_since, bob_answer)]
    try:
        await asyncio.sleep(0.5)  # both long polls are at the server
        start = time.perf_counter()
        assert isinstance(await a.get_profile(b.user_id), ProfileGetResponse)
        conf = await create_meeting(pair)
        meeting.set_result(conf)  # before the invite: Bob's sync cannot bring it earlier
        await invite_peer(pair, conf)
        figures = {
            "plain bob": await asyncio.wait_for(bob_joined, 60) - start,
            "plain alice": await asyncio.wait_for(alice_heard, 60) - start,
        }
        await a.room_leave(conf)
        await b.room_leave(conf)
        return figures
    finally:
        for loop in loops:
            await loop.stop()
        await pair.close()


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
        figures |= await syncing_clients(server)
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

    def ratio(key: str, steps: tuple[str, ...]) -> float:
        """The median of each run's own ratio: a loaded machine moves both sides."""
        return statistics.median(r[key] / sum(r[s] for s in steps) for r in results)

    raw_bob = statistics.median(sum(r[s] for s in _BOB_STEPS) for r in results)
    raw_alice = statistics.median(sum(r[s] for s in _ALICE_STEPS) for r in results)
    alice, bob = median("alice"), median("bob")
    plain_alice, plain_bob = median("plain alice"), median("plain bob")
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
    print("  the same requests by plain clients that keep syncing (the floor for any client):")
    print(f"    initiator: {plain_alice * 1000:7.1f}  = {plain_alice / raw_alice:.2f}x the raw sum")
    print(f"    peer:      {plain_bob * 1000:7.1f}  = {plain_bob / raw_bob:.2f}x the raw sum")
    print(
        "  median of each run's ratio to the raw sum: "
        f"Confero initiator {ratio('alice', _ALICE_STEPS):.2f}x, "
        f"peer {ratio('bob', _BOB_STEPS):.2f}x; "
        f"plain syncing clients initiator {ratio('plain alice', _ALICE_STEPS):.2f}x, "
        f"peer {ratio('plain bob', _BOB_STEPS):.2f}x"
    )
    print(
        "  Confero over the syncing floor, median of each run's: "
        f"initiator {statistics.median(r['alice'] / r['plain alice'] for r in results):.2f}x, "
        f"peer {statistics.median(r['bob'] / r['plain bob'] for r in results):.2f}x"
    )
    print(
        "  each run, Alice/Bob/plain Alice/raw Alice ms: "
        + ", ".join(
            f"{r['alice'] * 1000:.0f}/{r['bob'] * 1000:.0f}/{r['plain alice'] * 1000:.0f}/"
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
