"""Mapping between the presence selector and Matrix presence.

Matrix has three states (online, unavailable, offline) plus a free-text status
message. Busy and Away are both ``unavailable``; the status message tells them
apart, and "In a conference call" (seed 002) counts as Busy.
"""

from __future__ import annotations

from engine.models import Presence

IN_A_CONFERENCE_CALL = "In a conference call"
BUSY_STATUS = "Busy"
AWAY_STATUS = "Away"


def to_matrix(presence: Presence, status_message: str | None = None) -> tuple[str, str]:
    """Return (Matrix presence state, status message) for a selector choice."""
    match presence:
        case Presence.AVAILABLE:
            return "online", status_message or ""
        case Presence.BUSY:
            return "unavailable", status_message or BUSY_STATUS
        case Presence.AWAY:
            return "unavailable", status_message or AWAY_STATUS
        case _:
            return "offline", ""


def from_matrix(state: str | None, status_message: str | None) -> Presence:
    status = (status_message or "").strip()
    match state:
        case "online":
            return Presence.AVAILABLE
        case "unavailable":
            return Presence.BUSY if status in (BUSY_STATUS, IN_A_CONFERENCE_CALL) else Presence.AWAY
        case "busy":  # MSC3026
            return Presence.BUSY
        case "offline":
            return Presence.OFFLINE
        case _:
            return Presence.UNKNOWN
