"""A scheduled meeting's times: reading them from the meeting's state, checking new ones.

Pure functions (no server, no clock of their own) so every reader agrees on
what a usable schedule is, and the checks are unit-testable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.sanitize import clean_name
from engine.scheduling_errors import InvalidSchedule

#: org.confero.conference keys of a scheduled meeting (ms since the epoch, UTC).
START_KEY = "start_ts"
END_KEY = "end_ts"
#: The organizer ended it for everyone (written by My meetings).
ENDED_KEY = "ended_ts"
#: A start this far in the past is still accepted (the dialog was open a while).
PAST_START_GRACE_S = 5 * 60
MAX_SUBJECT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Schedule:
    start_ms: int
    end_ms: int


def schedule_of(state: Mapping[str, Any] | None) -> Schedule | None:
    """The schedule in a meeting's state, or None (not scheduled, or malformed)."""
    if not state:
        return None
    start, end = state.get(START_KEY), state.get(END_KEY)
    # bool is an int to Python; a schedule of True/False is malformed.
    if type(start) is not int or type(end) is not int or end <= start:
        return None
    return Schedule(start, end)


def is_ended(state: Mapping[str, Any] | None) -> bool:
    return bool(state) and type(state.get(ENDED_KEY)) is int  # type: ignore[union-attr]


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def check_schedule(subject: str, start: datetime, end: datetime, now_s: float) -> str:
    """The subject to use (cleaned); raises InvalidSchedule with words for the user."""
    title = clean_name(subject)[:MAX_SUBJECT_LENGTH]
    if not title:
        raise InvalidSchedule("The meeting needs a subject.")
    if start.tzinfo is None or start.utcoffset() is None:
        raise InvalidSchedule("The start time has no time zone.")
    if end.tzinfo is None or end.utcoffset() is None:
        raise InvalidSchedule("The end time has no time zone.")
    if end <= start:
        raise InvalidSchedule("The meeting must end after it starts.")
    if start.timestamp() < now_s - PAST_START_GRACE_S:
        raise InvalidSchedule("The start time is in the past.")
    return title
