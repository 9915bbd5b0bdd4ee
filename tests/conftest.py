"""Shared fixtures: one real Synapse per test session, plus fresh users per test.

No test touches the developer's own keyring or data folders: the XDG data,
config and state folders point into a temporary folder for the whole run (and
for every process the tests start), every test gets an in-memory keyring, and
reaching a real keyring backend fails the test.
"""

from __future__ import annotations

import os

# GUI tests run headless; must be set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import secrets
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from nio import AsyncClient, LoginResponse

from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from tests.helpers.keyrings import MemoryKeyring, guard_real_keyrings
from tests.helpers.pulse import PulseServer
from tests.helpers.users import TestUser

#: Stands in for the developer's home folders while the suite runs.
ISOLATED_HOME = Path(tempfile.mkdtemp(prefix="confero-tests-home-"))
for _variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME"):
    _folder = ISOLATED_HOME / _variable.lower()
    _folder.mkdir()
    os.environ[_variable] = str(_folder)
os.environ.pop("CONFERO_DATA_DIR", None)
# No notification reaches the developer's desktop: tests that check them start a
# private bus with a test server (tests/helpers/desktop_bus.py).
os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
# Processes started by tests (the app itself) get an in-memory keyring too.
os.environ["PYTHON_KEYRING_BACKEND"] = "tests.helpers.keyrings.MemoryKeyring"
# No test looks for meeting servers with multicast on this machine's real interfaces:
# the discovery tests run theirs inside network namespaces of their own.
os.environ["CONFERO_DISCOVERY"] = "off"

MakeUser = Callable[..., TestUser]


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(ISOLATED_HOME, ignore_errors=True)


@pytest.fixture(scope="session", autouse=True)
def real_keyring_hits() -> Iterator[list[str]]:
    """Every attempt to reach a real keyring in this run (there must be none)."""
    hits: list[str] = []
    with pytest.MonkeyPatch.context() as patch:
        guard_real_keyrings(patch, hits)
        keyring.set_keyring(MemoryKeyring())
        yield hits


@pytest.fixture(autouse=True)
def memory_keyring(real_keyring_hits: list[str]) -> Iterator[MemoryKeyring]:
    """Every test gets a fresh in-memory keyring; reaching a real one fails it."""
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(MemoryKeyring())
    hits, real_keyring_hits[:] = list(real_keyring_hits), []
    if hits:
        pytest.fail(f"the test reached the real keyring: {', '.join(hits)}")


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHomeserver]:
    """The Synapse shared by the whole session. Don't stop or restart it in a test."""
    server = EmbeddedHomeserver(
        tmp_path_factory.mktemp("synapse-session"), profile=HomeserverProfile.TEST
    )
    server.start_blocking()
    try:
        yield server
    finally:
        server.stop_blocking()


@pytest.fixture
def make_user(synapse: EmbeddedHomeserver) -> MakeUser:
    """``make_user(prefix="user", displayname=None) -> TestUser``: a fresh account each call."""

    def _make_user(prefix: str = "user", displayname: str | None = None) -> TestUser:
        localpart = f"{prefix}-{uuid.uuid4().hex[:12]}".lower()
        password = secrets.token_urlsafe(16)
        user_id = synapse.register_user_blocking(localpart, password, displayname=displayname)
        return TestUser(
            localpart=localpart,
            user_id=user_id,
            password=password,
            homeserver_url=synapse.base_url,
        )

    return _make_user


@pytest.fixture
def private_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedHomeserver]:
    """A Synapse of this test's own, free to stop and restart."""
    server = EmbeddedHomeserver(
        tmp_path_factory.mktemp("synapse-private"), profile=HomeserverProfile.TEST
    )
    server.start_blocking()
    try:
        yield server
    finally:
        server.stop_blocking()


@pytest.fixture(scope="session")
def pulse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseServer]:
    """One private sound server for the session; the code under test finds it by
    PULSE_SERVER, so the developer's own sound server is never touched."""
    server = PulseServer(tmp_path_factory.mktemp("pulse"))
    server.start()
    previous = os.environ.get("PULSE_SERVER")
    os.environ["PULSE_SERVER"] = server.server
    try:
        yield server
    finally:
        if previous is None:
            os.environ.pop("PULSE_SERVER", None)
        else:
            os.environ["PULSE_SERVER"] = previous
        server.stop()


@pytest.fixture
async def plain_client(make_user: MakeUser) -> AsyncIterator[Callable[..., Any]]:
    """``await plain_client("Bob", user=None)``: another Matrix client (not Confero), a
    bare matrix-nio AsyncClient signed in (a new account unless ``user`` is given)."""
    clients: list[AsyncClient] = []

    async def plain(name: str, user: TestUser | None = None) -> AsyncClient:
        user = user or make_user(name.lower(), displayname=name)
        client = AsyncClient(user.homeserver_url, user.user_id)
        assert isinstance(await client.login(user.password), LoginResponse)
        clients.append(client)
        return client

    yield plain
    for client in clients:
        await client.close()
