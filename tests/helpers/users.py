"""Test accounts on the session homeserver."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TestUser:
    """An account registered on a test homeserver, with what a client needs to log in."""

    __test__ = False  # not a test class, despite the name (pytest would try to collect it)

    localpart: str
    user_id: str
    password: str
    homeserver_url: str
