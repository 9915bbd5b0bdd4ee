"""People on other computers join meetings on this computer's server (issue 10).

The host runs its own embedded Synapse with network access on, bound to a
non-loopback address of this machine; the guest engine reaches it only there,
over TLS with the certificate pinned by the guest link.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import ssl
import stat
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from engine import events as ev
from engine.conference_models import Membership, SessionState
from engine.credentials import SERVICE
from engine.engine import Engine
from engine.errors import InvitationNotValid, WrongServerCertificate
from engine.homeserver import EmbeddedHomeserver, HomeserverError, HomeserverProfile
from engine.homeserver_supervisor import HomeserverSupervisor, ServerState, SupervisorTiming
from engine.meeting_links import parse_guest_link
from engine.models import ConnectionLoss, ConnectionState, MessageState
from engine.network_hosting import (
    create_guest_link,
    guest_slot,
    join_as_guest,
    local_network_addresses,
)
from engine.server_certificate import format_fingerprint
from engine.session import SERVER_GONE
from engine.user_directory import search_users
from tests.helpers.engines import eventually, expect_event
from tests.helpers.keyrings import MemoryKeyring
from tests.helpers.meetings import membership, session_state

pytestmark = pytest.mark.integration

_ADDRESSES = local_network_addresses()
if not _ADDRESSES:
    pytest.skip(
        "this machine has no non-loopback IPv4 address for a guest to reach the host by",
        allow_module_level=True,
    )
LAN_ADDRESS = _ADDRESSES[0]


@dataclass
class Host:
    server: EmbeddedHomeserver
    engine: Engine


@pytest.fixture
def network_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHomeserver]:
    """A server of the test's own with network access on, on this machine's LAN address."""
    server = EmbeddedHomeserver(
        tmp_path_factory.mktemp("synapse-network"), profile=HomeserverProfile.TEST
    )
    server.set_network_access_blocking(True, address=LAN_ADDRESS)
    server.start_blocking()
    try:
        yield server
    finally:
        server.stop_blocking()


@pytest.fixture
async def host(network_server: EmbeddedHomeserver, tmp_path: Path) -> AsyncIterator[Host]:
    """The organizer, signed in on this computer through loopback."""
    password = secrets.token_urlsafe(16)
    user_id = network_server.register_user_blocking("host", password, displayname="Hannah")
    engine = Engine(tmp_path / "host")
    await engine.session.login(network_server.base_url, user_id, password, remember=False)
    await engine.session.start()
    yield Host(network_server, engine)
    await engine.session.close()


@pytest.fixture
async def guests(tmp_path: Path) -> AsyncIterator[list[Engine]]:
    """Engines not signed in yet (each one a Confero on "another computer")."""
    engines: list[Engine] = []
    yield engines
    for engine in engines:
        await engine.session.close()


def new_guest(guests: list[Engine], tmp_path: Path) -> Engine:
    engine = Engine(tmp_path / f"guest-{len(guests)}")
    guests.append(engine)
    return engine


async def meeting_and_link(host: Host, **link_options: float) -> tuple[str, str]:
    room_id = await host.engine.conferences.meet_now("Workshop")
    alias = host.engine.conferences.details(room_id).alias
    link = await create_guest_link(host.server, alias, host=LAN_ADDRESS, **link_options)
    return room_id, link


async def admitted_guest(host: Host, guests: list[Engine], tmp_path: Path) -> tuple[Engine, str]:
    room_id, link = await meeting_and_link(host)
    guest = new_guest(guests, tmp_path)
    knock = expect_event(host.engine, lambda e: isinstance(e, ev.LobbyKnock))
    assert await join_as_guest(guest, link, "Gustav") == room_id
    await knock
    await host.engine.conferences.admit(room_id, guest.session.user_id)
    await eventually(lambda: session_state(guest, room_id) == SessionState.CONNECTED)
    return guest, room_id


async def test_network_access_is_off_by_default_and_configured_only_when_on(tmp_path):
    server = EmbeddedHomeserver(tmp_path / "hs", profile=HomeserverProfile.TEST)
    assert not server.network_enabled and server.network_port is None
    assert server.network_fingerprint() is None
    server.start_blocking()
    try:
        config = json.loads((server.data_dir / "homeserver.yaml").read_text().split("\n", 1)[1])
        assert [listener["bind_addresses"] for listener in config["listeners"]] == [["127.0.0.1"]]
        assert config["enable_registration"] is False
        assert "registration_requires_token" not in config
        # The data folder remembers its server name from the first start on.
        assert (
            json.loads((server.data_dir / "state.json").read_text())["server_name"] == "localhost"
        )
    finally:
        server.stop_blocking()


async def test_network_listener_has_a_pinned_certificate_and_token_only_sign_up(
    network_server: EmbeddedHomeserver,
):
    config = json.loads((network_server.data_dir / "homeserver.yaml").read_text().split("\n", 1)[1])
    network = [listener for listener in config["listeners"] if listener["tls"]]
    assert [listener["bind_addresses"] for listener in network] == [[LAN_ADDRESS]]
    assert network[0]["port"] == network_server.network_port != network_server.port
    assert config["enable_registration"] is True
    assert config["registration_requires_token"] is True
    key = network_server.data_dir / "secrets" / "network_tls.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    fingerprint = network_server.network_fingerprint()
    assert fingerprint is not None
    shown = format_fingerprint(fingerprint)
    assert len(shown) == 95 and shown.count(":") == 31 and shown.upper() == shown
    # Without a token, nobody signs up (not even over loopback).
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{network_server.base_url}/_matrix/client/v3/register",
            json={"username": "intruder", "password": secrets.token_urlsafe(12)},
        ) as response,
    ):
        answer = await response.json()
    assert response.status == 401
    assert answer["flows"]  # every way in starts with an invitation token
    assert all(flow["stages"][0] == "m.login.registration_token" for flow in answer["flows"])


async def test_guest_joins_by_link_knocks_is_admitted_and_chats(
    host, guests, tmp_path, memory_keyring: MemoryKeyring
):
    room_id, link = await meeting_and_link(host)
    parsed = parse_guest_link(link)
    assert (parsed.host, parsed.port) == (LAN_ADDRESS, host.server.network_port)
    assert parsed.fingerprint == host.server.network_fingerprint()

    guest = new_guest(guests, tmp_path)
    knock = expect_event(host.engine, lambda e: isinstance(e, ev.LobbyKnock))
    assert await join_as_guest(guest, link, "  Gustav  ") == room_id
    assert guest.session.homeserver_url == f"https://{LAN_ADDRESS}:{host.server.network_port}"
    assert session_state(guest, room_id) == SessionState.IN_LOBBY
    knocked = await knock
    guest_id = guest.session.user_id
    assert membership(host.engine, room_id, guest_id) == Membership.KNOCKING
    assert knocked.participant.user_id == guest_id
    assert knocked.participant.display_name == "Gustav"  # the name given, nothing else

    await host.engine.conferences.admit(room_id, guest_id)
    await eventually(lambda: session_state(guest, room_id) == SessionState.CONNECTED)
    await guest.conversations.send_text(room_id, "hello from the next desk")
    await eventually(
        lambda: any(
            m.body == "hello from the next desk" and m.sender == guest_id
            for m in host.engine.conversations.messages(room_id)
        )
    )
    await host.engine.conversations.send_text(room_id, "welcome")
    await eventually(
        lambda: any(m.body == "welcome" for m in guest.conversations.messages(room_id))
    )

    # The guest's sign-in is kept like any other: in the keyring, with the pin.
    stored = json.loads(memory_keyring.get_password(SERVICE, guest_slot(parsed.fingerprint)))
    assert stored["user_id"] == guest_id
    assert stored["pinned_fingerprint"] == parsed.fingerprint.hex()
    # The server's own admin account is nobody people can find.
    assert not await search_users(host.engine.session, "confero-server-admin")


async def test_a_tampered_fingerprint_is_refused_and_the_invitation_kept(host, guests, tmp_path):
    room_id, link = await meeting_and_link(host)
    good = parse_guest_link(link).fingerprint.hex()
    bad = f"{(int(good[0], 16) ^ 1):x}{good[1:]}"
    with pytest.raises(WrongServerCertificate, match="not the meeting server"):
        await join_as_guest(new_guest(guests, tmp_path), link.replace(good, bad), "Mallory")
    # Nothing was sent to a server we could not trust: the invitation still works.
    assert await join_as_guest(new_guest(guests, tmp_path), link, "Gustav") == room_id


async def test_an_invitation_is_single_use(host, guests, tmp_path):
    room_id, link = await meeting_and_link(host)
    assert await join_as_guest(new_guest(guests, tmp_path), link, "First") == room_id
    with pytest.raises(InvitationNotValid):
        await join_as_guest(new_guest(guests, tmp_path), link, "Second")


async def test_an_expired_invitation_is_refused(host, guests, tmp_path):
    _, link = await meeting_and_link(host, valid_for_s=1.0)
    expires = time.time() + 1.0
    await eventually(lambda: time.time() > expires + 0.1)  # its expiry has passed
    with pytest.raises(InvitationNotValid, match="used or has expired"):
        await join_as_guest(new_guest(guests, tmp_path), link, "Latecomer")


async def test_turning_network_access_off_mid_meeting_cuts_guests_off_only(host, guests, tmp_path):
    guest, room_id = await admitted_guest(host, guests, tmp_path)
    lost = expect_event(
        guest,
        lambda e: (
            isinstance(e, ev.ConnectionStateChanged) and e.state == ConnectionState.RECONNECTING
        ),
        timeout=60,
    )
    loopback_port = host.server.port
    await host.server.set_network_access(False)
    assert not host.server.network_enabled and host.server.port == loopback_port
    went = await lost
    assert went.detail == SERVER_GONE and went.loss is ConnectionLoss.HOST_GONE
    # Nothing listens on the network port any more.
    assert host.server.network_port is not None
    with pytest.raises(OSError):
        await asyncio.open_connection(LAN_ADDRESS, host.server.network_port)
    # The host, on loopback, carries on in the same meeting.
    await eventually(lambda: host.engine.session.connection == ConnectionState.CONNECTED, 60)
    await host.engine.conversations.send_text(room_id, "still here")
    await eventually(
        lambda: any(
            m.body == "still here" and m.state == MessageState.SENT
            for m in host.engine.conversations.messages(room_id)
        ),
        60,
    )
    assert guest.session.connection == ConnectionState.RECONNECTING


async def test_guests_reconnect_by_themselves_when_the_host_is_back(host, guests, tmp_path):
    """Network access off and on again (or the host asleep and awake): the guest's
    session comes back without their doing anything, and what they wrote
    meanwhile arrives once."""
    guest, room_id = await admitted_guest(host, guests, tmp_path)
    lost = expect_event(
        guest,
        lambda e: (
            isinstance(e, ev.ConnectionStateChanged) and e.state == ConnectionState.RECONNECTING
        ),
        timeout=60,
    )
    await host.server.set_network_access(False)
    assert (await lost).loss is ConnectionLoss.HOST_GONE
    await guest.conversations.send_text(room_id, "written while cut off")
    assert guest.session.connection == ConnectionState.RECONNECTING

    back = expect_event(
        guest,
        lambda e: isinstance(e, ev.ConnectionStateChanged) and e.state == ConnectionState.CONNECTED,
        timeout=60,
    )
    await host.server.set_network_access(True, address=LAN_ADDRESS)
    assert (await back).loss is None
    await eventually(
        lambda: any(
            m.body == "written while cut off" for m in host.engine.conversations.messages(room_id)
        ),
        60,
    )
    # Once: the outbox sent it when the host was back, and not again.
    await host.engine.conversations.send_text(room_id, "good to have you back")
    await eventually(
        lambda: any(
            m.body == "good to have you back" for m in guest.conversations.messages(room_id)
        ),
        60,
    )
    bodies = [m.body for m in host.engine.conversations.messages(room_id)]
    assert bodies.count("written while cut off") == 1
    assert session_state(guest, room_id) == SessionState.CONNECTED


async def test_a_listener_that_cannot_start_leaves_the_server_as_it_was(
    network_server: EmbeddedHomeserver,
):
    loopback_port, network_port = network_server.port, network_server.network_port
    with pytest.raises(HomeserverError) as raised:
        # TEST-NET-1: an address no machine of ours has.
        await network_server.set_network_access(True, address="192.0.2.123")
    assert raised.value.user_message.startswith(
        "this computer cannot listen on the address 192.0.2.123"
    )
    assert network_server.is_running and not network_server.reconfiguring
    assert network_server.network_enabled and network_server.network_address == LAN_ADDRESS
    assert (network_server.port, network_server.network_port) == (loopback_port, network_port)
    _, writer = await asyncio.open_connection(LAN_ADDRESS, network_port)
    writer.close()


async def test_turning_network_access_on_and_off_is_no_crash_to_the_supervisor(
    network_server: EmbeddedHomeserver,
):
    watcher = HomeserverSupervisor(
        network_server,
        timing=SupervisorTiming(check_interval_s=0.05, check_timeout_s=0.5, backoff_s=(0.1,)),
    )
    seen: list[ev.EngineEvent] = []
    watcher.bus.subscribe(seen.append)
    watcher.start()
    try:
        pid = network_server.pid
        await network_server.set_network_access(False)
        assert network_server.pid != pid  # restarted, on purpose
        await network_server.set_network_access(True)
        assert network_server.network_enabled
        # The watcher looked many times while the server was down, and let it be.
        assert watcher.state == ServerState.RUNNING and watcher.restarts == 0
        assert not [e for e in seen if isinstance(e, ev.HomeserverRestarting)]
    finally:
        await watcher.stop()


async def test_a_guest_signs_in_again_from_the_keyring_with_the_pin(
    host, guests, tmp_path, memory_keyring: MemoryKeyring
):
    guest, room_id = await admitted_guest(host, guests, tmp_path)
    user_id = guest.session.user_id
    await guest.session.close()  # quitting Confero on the guest's computer

    again = new_guest(guests, tmp_path)
    slot = guest_slot(host.server.network_fingerprint() or b"")
    info = await again.session.restore(slot)
    assert info is not None and info.user_id == user_id
    await again.session.start()
    await eventually(lambda: again.session.connection == ConnectionState.CONNECTED)
    await eventually(lambda: room_id in {c.room_id for c in again.conversations.all()})

    # A different certificate at the same address is refused, never trusted.
    stored = json.loads(memory_keyring.get_password(SERVICE, slot) or "{}")
    stored["pinned_fingerprint"] = "00" * 32
    memory_keyring.set_password(SERVICE, slot, json.dumps(stored))
    with pytest.raises(WrongServerCertificate):
        await new_guest(guests, tmp_path).session.restore(slot)

        await new_guest(guests, tmp_path).session.restore("guest")


async def test_the_desktop_profile_rate_limits_people_on_other_computers(tmp_path):
    """The app's own profile (not TEST's lifted limits): a password guesser over the
    network listener is turned away with 429 after a few tries."""
    server = EmbeddedHomeserver(tmp_path / "hs", profile=HomeserverProfile.DESKTOP)
    await server.set_network_access(True, address=LAN_ADDRESS)
    await server.start()
    try:
        config = json.loads((server.data_dir / "homeserver.yaml").read_text().split("\n", 1)[1])
        strict = {"per_second": 0.17, "burst_count": 3}
        assert config["rc_login"] == {
            "address": strict,
            "account": strict,
            "failed_attempts": strict,
        }
        assert config["rc_registration"] == strict
        assert config["rc_message"]["burst_count"] < 100
        assert "bcrypt_rounds" not in config  # the real password hashing cost
        cert = server.data_dir / "secrets" / "network_tls.crt"
        pinned = ssl.create_default_context(cafile=str(cert))
        pinned.check_hostname = False  # the certificate is what guests pin, not a name
        url = f"{server.network_url(LAN_ADDRESS)}/_matrix/client/v3/login"
        statuses: list[int] = []
        async with aiohttp.ClientSession() as http:
            for attempt in range(6):
                login = {
                    "type": "m.login.password",
                    "identifier": {"type": "m.id.user", "user": "host"},
                    "password": f"guess {attempt}",
                }
                async with http.post(url, json=login, ssl=pinned) as response:
                    statuses.append(response.status)
                if response.status == 429:
                    break
        assert statuses[0] == 403 and statuses[-1] == 429, statuses
        assert len(statuses) <= 4  # the burst of three, then no more
    finally:
        await server.stop()
