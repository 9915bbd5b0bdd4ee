"""The embedded server dies or hangs mid-conversation; the supervisor brings it back.

Each test has a private Synapse watched by a HomeserverSupervisor with short
timings, and engines wired as the app wires them (the supervisor's "recovered"
wakes the engine at once). Signals hit the Synapse process itself.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from engine import events as ev
from engine.conference_models import Membership, SessionState
from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.homeserver import EmbeddedHomeserver, HomeserverError, HomeserverProfile
from engine.homeserver_supervisor import HomeserverSupervisor, ServerState, SupervisorTiming
from engine.models import ConnectionState, MessageState
from tests.helpers.engines import eventually, expect_event, expect_on_bus
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.meetings import membership

pytestmark = pytest.mark.integration

FAST = SupervisorTiming(
    check_interval_s=0.2,
    check_timeout_s=0.5,
    failures_before_restart=3,
    backoff_s=(0.2, 0.5, 1.0, 2.0),
)

Person = Callable[[str], Awaitable[Engine]]


@pytest.fixture
async def supervisor(private_synapse: EmbeddedHomeserver) -> AsyncIterator[HomeserverSupervisor]:
    watcher = HomeserverSupervisor(private_synapse, timing=FAST)
    watcher.start()
    yield watcher
    await watcher.stop()


@pytest.fixture
async def people(
    private_synapse: EmbeddedHomeserver, supervisor: HomeserverSupervisor, tmp_path: Path
) -> AsyncIterator[Person]:
    """``await person("Alice")``: a signed-in engine on the private server, wired like the app."""
    engines: list[Engine] = []

    async def person(name: str) -> Engine:
        localpart = f"{name.lower()}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        await private_synapse.register_user(localpart, password, displayname=name)
        engine = Engine(tmp_path / localpart, CredentialStore(backend=MemoryKeyring()))
        await engine.session.login(private_synapse.base_url, localpart, password, remember=False)
        await engine.session.start()
        supervisor.bus.subscribe(
            lambda e: (
                engine.session.reconnect_now() if isinstance(e, ev.HomeserverRecovered) else None
            )
        )
        engines.append(engine)
        return engine

    yield person
    for engine in engines:
        await engine.session.close()


@pytest.fixture
def squatter() -> Iterator[socket.socket]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    yield sock
    sock.close()


def recovered(supervisor: HomeserverSupervisor) -> asyncio.Future[ev.EngineEvent]:
    return _expect(supervisor, lambda e: isinstance(e, ev.HomeserverRecovered), 60)


def _expect(
    supervisor: HomeserverSupervisor, predicate: Callable[[ev.EngineEvent], bool], timeout: float
) -> asyncio.Future[ev.EngineEvent]:
    return expect_on_bus(supervisor.bus, predicate, timeout)


def bodies(engine: Engine, room_id: str, prefix: str = "m") -> list[str]:
    return [m.body for m in engine.conversations.messages(room_id) if m.body.startswith(prefix)]


def sent_count(engine: Engine, room_id: str) -> int:
    # Room-change lines ("Alice joined") are not messages, whatever their state.
    return sum(
        m.state == MessageState.SENT and not m.changes
        for m in engine.conversations.messages(room_id)
    )


async def conversation(alice: Engine, bob: Engine) -> str:
    room_id = await alice.conversations.start_direct_conversation(bob.session.user_id)
    await eventually(lambda: bob.conversations.conversation(room_id) is not None)
    return room_id


async def send_all(engine: Engine, room_id: str, texts: list[str]) -> None:
    for text in texts:
        await engine.conversations.send_text(room_id, text)


async def full_history(engine: Engine, room_id: str) -> list[str]:
    """Everything the server has, read back through history loading (no sync gaps)."""
    while not await engine.conversations.load_older(room_id):
        pass
    return bodies(engine, room_id)


# -- killed ---------------------------------------------------------------------------


async def test_killed_server_restarts_and_every_message_arrives_once_in_order(
    private_synapse: EmbeddedHomeserver, supervisor: HomeserverSupervisor, people: Person
) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await conversation(alice, bob)
    port, first_pid = private_synapse.port, private_synapse.pid
    assert first_pid is not None
    expected = [f"m{i:02d}" for i in range(24)]

    back = recovered(supervisor)
    await send_all(alice, room_id, expected[:8])
    await eventually(lambda: sent_count(alice, room_id) >= 3)
    os.kill(first_pid, signal.SIGKILL)  # while the rest are on their way
    await send_all(alice, room_id, expected[8:16])
    await back
    assert supervisor.state is ServerState.RUNNING
    assert private_synapse.port == port and private_synapse.pid not in (None, first_pid)
    await send_all(alice, room_id, expected[16:])

    await eventually(lambda: sent_count(alice, room_id) == len(expected), 60)
    await eventually(lambda: bodies(bob, room_id) == expected, 60)
    assert await full_history(bob, room_id) == expected
    assert alice.session.connection is ConnectionState.CONNECTED
    assert supervisor.restarts == 1


# -- hung -----------------------------------------------------------------------------


async def test_hung_server_is_killed_and_restarted(
    private_synapse: EmbeddedHomeserver, supervisor: HomeserverSupervisor, people: Person
) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await conversation(alice, bob)
    hung_pid = private_synapse.pid
    assert hung_pid is not None
    expected = [f"m{i:02d}" for i in range(16)]

    restarting = _expect(
        supervisor,
        lambda e: isinstance(e, ev.HomeserverRestarting) and "answering" in e.cause,
        30,
    )
    back = recovered(supervisor)
    await send_all(alice, room_id, expected[:4])
    await eventually(lambda: sent_count(alice, room_id) >= 1)
    os.kill(hung_pid, signal.SIGSTOP)  # alive, but answers nothing
    await send_all(alice, room_id, expected[4:12])
    await restarting
    await back
    assert private_synapse.pid not in (None, hung_pid)
    assert not Path(f"/proc/{hung_pid}").exists(), "the hung process was killed"
    await send_all(alice, room_id, expected[12:])

    await eventually(lambda: sent_count(alice, room_id) == len(expected), 60)
    await eventually(lambda: bodies(bob, room_id) == expected, 60)
    assert await full_history(bob, room_id) == expected


async def test_a_short_stall_is_not_a_hang(
    private_synapse: EmbeddedHomeserver, people: Person, tmp_path: Path
) -> None:
    # A supervisor of its own with a higher threshold, so the stall is surely below it.
    patient = HomeserverSupervisor(
        private_synapse,
        timing=SupervisorTiming(
            check_interval_s=0.2, check_timeout_s=0.3, failures_before_restart=50
        ),
    )
    patient.start()
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await conversation(alice, bob)
    pid = private_synapse.pid
    assert pid is not None
    expected = [f"m{i:02d}" for i in range(10)]
    try:
        os.kill(pid, signal.SIGSTOP)
        await send_all(alice, room_id, expected)
        await eventually(lambda: patient.consecutive_failures >= 2)
        os.kill(pid, signal.SIGCONT)
        await eventually(lambda: patient.consecutive_failures == 0)
        await eventually(lambda: sent_count(alice, room_id) == len(expected), 60)
        await eventually(lambda: bodies(bob, room_id) == expected, 60)
        assert patient.restarts == 0 and patient.state is ServerState.RUNNING
        assert private_synapse.pid == pid
    finally:
        os.kill(pid, signal.SIGCONT)
        await patient.stop()


# -- meetings -------------------------------------------------------------------------


async def test_roster_and_lobby_are_right_after_a_restart(
    private_synapse: EmbeddedHomeserver, supervisor: HomeserverSupervisor, people: Person
) -> None:
    alice, bob, carol = await people("Alice"), await people("Bob"), await people("Carol")
    room_id = await alice.conferences.meet_now("Restart")
    cid = alice.conferences.details(room_id).conference_id
    await bob.conferences.join(cid)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING)
    pid = private_synapse.pid
    assert pid is not None

    lost = expect_event(
        alice,
        lambda e: (
            isinstance(e, ev.ConnectionStateChanged) and e.state is ConnectionState.RECONNECTING
        ),
    )
    back = recovered(supervisor)
    os.kill(pid, signal.SIGKILL)
    await lost
    await back
    await eventually(lambda: alice.session.connection is ConnectionState.CONNECTED, 30)
    await eventually(lambda: bob.session.connection is ConnectionState.CONNECTED, 30)

    # Bob still waits, and Alice's lobby still shows him; admitting works.
    assert bob.conferences.session(room_id).state is SessionState.IN_LOBBY
    assert membership(alice, room_id, bob.session.user_id) == Membership.KNOCKING
    await alice.conferences.admit(room_id, bob.session.user_id)
    await eventually(lambda: bob.conferences.session(room_id).state is SessionState.CONNECTED)
    await eventually(lambda: membership(alice, room_id, bob.session.user_id) == Membership.JOINED)

    # Someone new knocks after the restart and shows up in the lobby too.
    await carol.conferences.join(cid)
    await eventually(
        lambda: membership(alice, room_id, carol.session.user_id) == Membership.KNOCKING
    )
    await eventually(lambda: membership(bob, room_id, alice.session.user_id) == Membership.JOINED)


# -- repeated failure ------------------------------------------------------------------


async def test_repeated_failure_ends_failed_with_the_reason_then_try_again(
    private_synapse: EmbeddedHomeserver,
    supervisor: HomeserverSupervisor,
    people: Person,
    squatter: socket.socket,
) -> None:
    alice, bob = await people("Alice"), await people("Bob")
    room_id = await conversation(alice, bob)
    port, pid = private_synapse.port, private_synapse.pid
    assert port is not None and pid is not None

    failed = _expect(supervisor, lambda e: isinstance(e, ev.HomeserverFailed), 60)
    os.kill(pid, signal.SIGKILL)

    def take_port() -> bool:  # as soon as the dead server lets go of it
        try:
            squatter.bind(("127.0.0.1", port))
        except OSError:
            return False
        squatter.listen()
        return True

    await eventually(take_port)
    await alice.conversations.send_text(room_id, "m while failed")
    event = await failed
    assert isinstance(event, ev.HomeserverFailed)
    assert supervisor.state is ServerState.FAILED
    assert event.reason == supervisor.reason == f"Another program is using its port ({port})."
    assert event.log_path == str(private_synapse.log_path)
    assert not private_synapse.is_running
    # The supervisor still holds the data folder: no other process may start on it.
    other = EmbeddedHomeserver(private_synapse.data_dir, profile=HomeserverProfile.TEST)
    with pytest.raises(HomeserverError, match="locked"):
        await other.start()

    squatter.close()
    back = recovered(supervisor)
    supervisor.try_again()
    await back
    assert supervisor.state is ServerState.RUNNING and private_synapse.port == port
    await eventually(lambda: bodies(bob, room_id) == ["m while failed"], 60)
