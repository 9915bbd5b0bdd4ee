"""Shared fixtures: one real Synapse per test session, plus fresh users per test."""

from __future__ import annotations

import os

# GUI tests run headless; must be set before anything imports Qt.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import secrets
import uuid
from collections.abc import Callable, Iterator

import pytest

from engine.homeserver import EmbeddedHomeserver, HomeserverProfile
from tests.helpers.users import TestUser

MakeUser = Callable[..., TestUser]


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
