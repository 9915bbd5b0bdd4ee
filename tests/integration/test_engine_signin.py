"""Signing in, remembering the sign-in in the keyring, and signing out, on the real Synapse."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest

from engine import events as ev
from engine.credentials import CredentialStore
from engine.engine import Engine
from engine.errors import (
    HomeserverUnreachable,
    InvalidHomeserverAddress,
    InvalidUserId,
    LoginFailed,
    SessionExpired,
)
from tests.helpers.keyrings import MemoryKeyring, NoKeyring

pytestmark = pytest.mark.integration


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(keyring_backend: MemoryKeyring) -> CredentialStore:
    return CredentialStore(backend=keyring_backend)


async def test_sign_in_with_user_name_or_full_id(make_user, tmp_path, store):
    user = make_user("dana")
    for login_name in (user.localpart, user.user_id, user.localpart.upper()):
        engine = Engine(tmp_path, store)
        info = await engine.session.login(
            user.homeserver_url, login_name, user.password, remember=False
        )
        assert info.user_id == user.user_id
        assert engine.session.user_id == user.user_id
        await engine.session.logout()


async def test_remembered_token_signs_in_without_password(
    make_user, tmp_path, store, keyring_backend
):
    user = make_user("erin")
    first = Engine(tmp_path, store)
    info = await first.session.login(
        user.homeserver_url, user.localpart, user.password, remember=True
    )
    assert info.remembered
    secret = next(iter(keyring_backend.entries.values()))
    assert user.password not in secret  # the token is stored, never the password
    await first.session.close()

    second = Engine(tmp_path, store)
    restored = await second.session.restore()
    assert restored is not None and restored.user_id == user.user_id
    await second.session.start()
    assert second.session.connection.value == "Connected"

    signed_out = asyncio.get_running_loop().create_future()
    second.session.bus.subscribe(
        lambda e: isinstance(e, ev.SignedOut) and not signed_out.done() and signed_out.set_result(e)
    )
    await second.session.logout()
    await asyncio.wait_for(signed_out, 5)
    assert keyring_backend.entries == {}
    assert await Engine(tmp_path, store).session.restore() is None


async def test_revoked_token_is_forgotten(make_user, tmp_path, store, keyring_backend):
    user = make_user("fay")
    first = Engine(tmp_path, store)
    await first.session.login(user.homeserver_url, user.localpart, user.password, remember=True)
    saved = dict(keyring_backend.entries)
    await first.session.logout()  # revokes the token on the server and forgets it
    keyring_backend.entries.update(saved)  # as if another copy of the app still had it
    with pytest.raises(SessionExpired):
        await Engine(tmp_path, store).session.restore()
    assert keyring_backend.entries == {}


async def test_no_keyring_still_signs_in_and_says_so(make_user, tmp_path):
    user = make_user("gus")
    engine = Engine(tmp_path, CredentialStore(backend=NoKeyring()))
    info = await engine.session.login(
        user.homeserver_url, user.localpart, user.password, remember=True
    )
    assert info.user_id == user.user_id
    assert not info.remembered
    assert "cannot remember" in info.remember_problem
    assert await Engine(tmp_path, CredentialStore(backend=NoKeyring())).session.restore() is None
    await engine.session.close()


async def test_wrong_password(make_user, tmp_path, store):
    user = make_user("hal")
    with pytest.raises(LoginFailed) as caught:
        await Engine(tmp_path, store).session.login(
            user.homeserver_url, user.localpart, "wrong", remember=False
        )
    assert caught.value.user_message == "The user name or password is wrong."
    with pytest.raises(LoginFailed):
        await Engine(tmp_path, store).session.login(
            user.homeserver_url, "no-such-user", "x", remember=False
        )


@pytest.mark.parametrize(
    "address",
    [
        "",
        "   ",
        "http://exa mple.org",
        "ftp://example.org",
        "https://example.org/some/path",
        "https://user:pw@example.org",
        "http://",
        "https://exa_mple..org",
        "javascript:alert(1)",
    ],
)
async def test_malformed_homeserver_address(address, tmp_path, store):
    with pytest.raises(InvalidHomeserverAddress):
        await Engine(tmp_path, store).session.login(address, "someone", "pw", remember=False)


async def test_unreachable_homeserver(tmp_path, store):
    with socket.socket() as sock:  # a port that is certainly closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HomeserverUnreachable) as caught:
        await Engine(tmp_path, store).session.login(
            f"http://127.0.0.1:{port}", "someone", "pw", remember=False
        )
    assert "cannot be reached" in caught.value.user_message


async def test_not_a_matrix_server(tmp_path, store):
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(HomeserverUnreachable, match="not a Matrix server"):
            await Engine(tmp_path, store).session.login(
                f"http://127.0.0.1:{port}", "x", "pw", remember=False
            )
    finally:
        server.close()


async def test_bare_domain_uses_well_known(make_user, tmp_path, store):
    """A server that only publishes .well-known points the client at the real homeserver."""
    user = make_user("ivy")
    body = json.dumps({"m.homeserver": {"base_url": user.homeserver_url}}).encode()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readline()
        while (await reader.readline()) not in (b"\r\n", b""):
            pass
        if b"/.well-known/matrix/client" in request:
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
            writer.write(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
        else:
            writer.write(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        engine = Engine(tmp_path, store)
        info = await engine.session.login(
            f"http://127.0.0.1:{port}", user.localpart, user.password, remember=False
        )
        assert info.homeserver_url == user.homeserver_url
        await engine.session.logout()
    finally:
        server.close()


@pytest.mark.parametrize("login_name", ["", "two words", "@bad id:localhost", "@:localhost", "ü"])
async def test_malformed_user_names(login_name, synapse, tmp_path, store):
    with pytest.raises(InvalidUserId):
        await Engine(tmp_path, store).session.login(
            synapse.base_url, login_name, "pw", remember=False
        )
