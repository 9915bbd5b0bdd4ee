"""Reading a meeting's state from an engine, for tests that wait on it."""

from __future__ import annotations

from engine.conference_models import Membership, SessionState
from engine.engine import Engine


def session_state(engine: Engine, room_id: str) -> SessionState | None:
    """The engine's own session state in the meeting, if it has a session there."""
    session = engine.conferences.session(room_id)
    return session.state if session else None


def membership(engine: Engine, room_id: str, user_id: str) -> Membership | None:
    """How ``engine`` sees ``user_id`` in the meeting's roster (None: not in it)."""
    found = [p for p in engine.conferences.participants(room_id) if p.user_id == user_id]
    return found[0].membership if found else None
