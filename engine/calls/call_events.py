"""Engine events of the Calls service (engine/calls/two_party_calls.py).

Plain frozen dataclasses like those of engine/events.py, and part of its
EngineEvent union.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.calls.call_models import Call


@dataclass(frozen=True, slots=True)
class CallStateChanged:
    """A call's state, mute, hold or end reason changed (both directions)."""

    call: Call


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A call rings here (published once, after the sync that brought the invite)."""

    call: Call


@dataclass(frozen=True, slots=True)
class CallEventIgnored:
    """A call event from the server was not acted on (malformed, replayed, ...).

    For tests and diagnostics; ``reason`` is a short text for the log, not the UI.
    """

    room_id: str
    event_type: str
    sender: str
    reason: str
