"""Fixtures for the call tests: real engines on the session's Synapse, each calling
through its own ``engine.calls`` with real media on virtual devices of the test
session's private sound server (tests/helpers/pulse.py)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from engine.calls.call_events import CallEventIgnored, CallStateChanged, IncomingCall
from engine.calls.call_models import AvModalityState, Call
from engine.calls.media_port import CallMediaPeer
from engine.calls.meeting_call_events import MeetingAudioStateChanged
from engine.calls.two_party_calls import Calls
from engine.engine import Engine
from tests.helpers.engines import eventually, signed_in_engine
from tests.helpers.proxy import FaultyProxy
from tests.helpers.pulse import Participant, PulseServer
from tests.helpers.users import TestUser


@dataclass
class Phone:
    """One signed-in device: its engine, its Calls service and what it published."""

    engine: Engine
    calls: Calls
    devices: Participant  # play into devices.mic_sink to speak; its speaker is recorded
    server: str
    account: TestUser
    peers: list[CallMediaPeer] = field(default_factory=list)  # every peer its calls made
    changes: list[Call] = field(default_factory=list)
    rings: list[Call] = field(default_factory=list)
    ignored: list[CallEventIgnored] = field(default_factory=list)
    #: Two-party calls' and meeting audio's AV modality states, in the order published:
    #: ("call", call_id, state) or ("meeting", room_id, state).
    modality: list[tuple[str, str, AvModalityState]] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return self.engine.session.user_id or ""

    def observe(self, event: Any) -> None:
        if isinstance(event, MeetingAudioStateChanged):
            self.modality.append(("meeting", event.room_id, event.state))
        if isinstance(event, CallStateChanged):
            self.changes.append(event.call)
            self.modality.append(("call", event.call.call_id, event.call.state))
        elif isinstance(event, IncomingCall):
            self.rings.append(event.call)
        elif isinstance(event, CallEventIgnored):
            self.ignored.append(event)

    def states(self, call_id: str) -> list[AvModalityState]:
        seen: list[AvModalityState] = []
        for call in self.changes:
            if call.call_id == call_id and (not seen or seen[-1] != call.state):
                seen.append(call.state)
        return seen

    def meeting_states(self, room_id: str) -> list[AvModalityState]:
        return [
            state for kind, room, state in self.modality if (kind, room) == ("meeting", room_id)
        ]

    def modality_of(self, *ids: str) -> list[tuple[str, AvModalityState]]:
        """(kind, state) of those calls and meetings in order, repeats of a state dropped."""
        seen: list[tuple[str, AvModalityState]] = []
        last: dict[str, AvModalityState] = {}
        for kind, key, state in self.modality:
            if key in ids and last.get(key) is not state:
                last[key] = state
                seen.append((kind, state))
        return seen

    async def reaches(self, call_id: str, state: AvModalityState, timeout: float = 20.0) -> Call:
        await eventually(
            lambda: (c := self.calls.call(call_id)) is not None and c.state is state, timeout
        )
        call = self.calls.call(call_id)
        assert call is not None
        return call

    async def rings_for(self, timeout: float = 20.0) -> Call:
        await eventually(lambda: bool(self.rings), timeout)
        return self.rings[-1]


Phones = Callable[..., Any]


@pytest.fixture
async def phones(
    make_user: Callable[..., TestUser], tmp_path: Path, pulse_server: PulseServer
) -> AsyncIterator[Phones]:
    """``await phones("Alice")``: a new account with calls; ``phones("Bob", user=...)``
    signs the same account in on another device; ``lifetime_ms`` for short invites;
    ``via`` talks to the server through a FaultyProxy (tests/helpers/proxy.py)."""
    made: list[Phone] = []

    async def phone(
        name: str,
        *,
        user: TestUser | None = None,
        lifetime_ms: int = 60_000,
        via: FaultyProxy | None = None,
    ) -> Phone:
        user = user or make_user(name.lower(), displayname=name)
        login_as = replace(user, homeserver_url=via.base_url) if via is not None else user
        engine = await signed_in_engine(login_as, tmp_path / f"{name}-{len(made)}")
        devices = pulse_server.participant(f"{name.lower()}{len(made)}")
        engine.media.choose_devices(devices.mic, devices.speaker)
        engine.calls.lifetime_ms = lifetime_ms
        result = Phone(engine, engine.calls, devices, pulse_server.server, user)
        new_peer = engine.media.new_peer

        def recorded_peer() -> CallMediaPeer:  # watch what the calls make, change nothing
            peer = new_peer()
            result.peers.append(peer)
            return peer

        engine.media.new_peer = recorded_peer  # type: ignore[method-assign]
        engine.session.bus.subscribe(result.observe)
        made.append(result)
        return result

    yield phone
    for made_phone in made:
        await made_phone.engine.session.close()


async def two_party(caller: Phone, callee: Phone) -> str:
    """A two-party conversation both have joined (the callee's engine accepts it itself)."""
    room_id = await caller.engine.conversations.start_direct_conversation(callee.user_id)
    client = caller.engine.session.client
    assert client is not None
    room = client.rooms[room_id]
    await eventually(
        lambda: callee.user_id in room.users and callee.user_id not in room.invited_users
    )
    callee_client = callee.engine.session.client
    assert callee_client is not None
    await eventually(lambda: room_id in callee_client.rooms)
    return room_id


async def plain_member(leader: Phone, room_id: str, plain_client: Any, name: str) -> Any:
    """Another Matrix client (not Confero) joined to the meeting, once the leader sees it."""
    other = await plain_client(name)
    await other.join(room_id)
    client = leader.engine.session.client
    assert client is not None
    await eventually(lambda: other.user_id in client.rooms[room_id].users)
    return other


#: Membership expiry in meeting-audio tests: short, so a crash shows without long waits.
TEST_EXPIRY_MS = 5_000


async def meeting_of(leader: Phone, *others: Phone) -> str:
    """A meeting anyone may join (everyone a presenter), the others joined to it, and a
    short membership expiry on every engine."""
    from engine.conference_models import AccessLevel

    room_id = await leader.engine.conferences.meet_now("Audio", access_level=AccessLevel.EVERYONE)
    for other in others:
        await other.engine.conferences.join(room_id)
    for phone in (leader, *others):
        phone.engine.meeting_calls.expiry_ms = TEST_EXPIRY_MS
        client = phone.engine.session.client
        assert client is not None
        await eventually(
            lambda c=client: (
                room_id in c.rooms
                and all(p.user_id in c.rooms[room_id].users for p in (leader, *others))
            )
        )
    return room_id


@dataclass
class PeerProcess:
    """A participant running in its own OS process (tests/helpers/peer_process.py)."""

    process: asyncio.subprocess.Process
    account: TestUser
    devices: Participant  # play into devices.mic_sink to speak
    server: str
    log_path: Path

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def ready(self, timeout: float = 90.0) -> None:
        """Until it prints READY (its audio is connected); its log tail if it dies first."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        except TimeoutError:
            line = b""
        if line.strip() != b"READY":
            tail = self.log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(f"the peer process did not get ready:\n{tail}")

    async def kill(self) -> None:
        """SIGKILL: no hangup, no leaving the call, no last sync. Network loss."""
        self.process.kill()
        await self.process.wait()


#: The repository's root, for the peer process's import path.
_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def peer_processes(
    make_user: Callable[..., TestUser], tmp_path: Path, pulse_server: PulseServer
) -> AsyncIterator[Callable[..., Any]]:
    """``await peer_processes("Dave", room_id)``: Dave joins the meeting's audio from a
    process of his own (``mode="call"``: he calls in a conversation instead); await
    ``.ready()`` on the result. The account is made first with ``make_user`` if not
    given. Its password goes by environment, never on a command line or in output."""
    started: list[PeerProcess] = []

    async def start(
        name: str,
        room_id: str,
        *,
        user: TestUser | None = None,
        mode: str = "meeting",
        expiry_ms: int = TEST_EXPIRY_MS,
    ) -> PeerProcess:
        user = user or make_user(name.lower(), displayname=name)
        devices = pulse_server.participant(f"{name.lower()}proc{len(started)}")
        data_dir = tmp_path / f"{name}-process-{len(started)}"
        data_dir.mkdir()
        log_path = tmp_path / f"{name}-process-{len(started)}.log"
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")])),
            "CONFERO_PEER_URL": user.homeserver_url,
            "CONFERO_PEER_USER": user.user_id,
            "CONFERO_PEER_PASSWORD": user.password,
        }
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.helpers.peer_process",
                str(data_dir),
                room_id,
                devices.mic,
                devices.speaker,
                str(expiry_ms),
                mode,
                cwd=_ROOT,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=log,
            )
        peer = PeerProcess(process, user, devices, pulse_server.server, log_path)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        if peer.process.returncode is None:
            await peer.kill()


async def crash(phone: Phone) -> None:
    """The device stops dead: no more syncing or refreshing, media gone, nothing sent."""
    engine = phone.engine
    task = engine.session._sync_task  # a crash is not a public operation
    if task is not None:
        task.cancel()
    audios = engine.meeting_calls._audio
    for audio in audios.values():
        if audio.task is not None:
            audio.task.cancel()
    audios.clear()
    await engine.media.close()


#: The AV modality states each side of a two-party call goes through (seed names).
CALLER_SEQUENCE = [AvModalityState.CONNECTING, AvModalityState.JOINING, AvModalityState.CONNECTED]
CALLEE_SEQUENCE = [AvModalityState.NOTIFIED, *CALLER_SEQUENCE]
#: Joining a meeting's audio goes the caller's way; invited to a live one, the callee's.
JOIN_AUDIO_SEQUENCE = CALLER_SEQUENCE
INVITED_AUDIO_SEQUENCE = CALLEE_SEQUENCE


async def connected_call(alice: Phone, bob: Phone) -> tuple[str, str]:
    """Alice calls Bob and Bob answers: (room, call ID), both sides Connected."""
    room_id = await two_party(alice, bob)
    call = await alice.calls.place_call(room_id)
    ringing = await bob.rings_for()
    assert ringing.call_id == call.call_id
    await bob.calls.answer(call.call_id)
    await alice.reaches(call.call_id, AvModalityState.CONNECTED)
    await bob.reaches(call.call_id, AvModalityState.CONNECTED)
    return room_id, call.call_id
