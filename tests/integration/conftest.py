"""Fixtures shared by the integration tests (the session's Synapse is in tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from engine.engine import Engine
from tests.helpers.engines import signed_in_engine
from tests.helpers.users import TestUser

#: ``await people("Alice")``: a new account, signed in and syncing; ``people("Alice", user)``
#: signs an existing account in again (a second device, or after a restart).
People = Callable[..., Awaitable[Engine]]


@pytest.fixture
async def people(make_user: Callable[..., TestUser], tmp_path: Path) -> AsyncIterator[People]:
    """Signed-in engines on the session's Synapse, closed at teardown."""
    engines: list[Engine] = []

    async def person(name: str, user: TestUser | None = None) -> Engine:
        user = user or make_user(name.lower(), displayname=name)
        engine = await signed_in_engine(user, tmp_path / f"{name}-{len(engines)}")
        engines.append(engine)
        return engine

    yield person
    for engine in engines:
        await engine.session.close()
