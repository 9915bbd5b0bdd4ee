"""The errors of scheduling a meeting (engine/scheduling.py)."""

from __future__ import annotations

from engine.errors import ConferoError


class InvalidSchedule(ConferoError):
    """The subject, start or end of a meeting to schedule cannot be used."""

    default_message = "The meeting's time is not valid."
