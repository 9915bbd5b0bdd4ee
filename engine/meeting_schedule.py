"""A scheduled meeting's times: reading them from the meeting's state, checking new ones.

Pure functions (no server, no clock of their own) so every reader agrees on
what a usable schedule is, and the checks are unit-testable.

A meeting scheduled on its own holds one start and end (START_KEY, END_KEY).
The personal meeting is used again and again, so it holds a list of occasions
instead (OCCASIONS_KEY: ``[{start_ts, end_ts, subject}]``, sorted by start,
past ones pruned whenever one is added); it never gets START_KEY/END_KEY, so
it never counts as expired.
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
#: The personal meeting's scheduled occasions: [{start_ts, end_ts, subject}].
OCCASIONS_KEY = "occasions"
#: Occasions a personal meeting holds at most (its state stays small).
MAX_OCCASIONS = 50
#: The organizer ended it for everyone (written by My meetings).
ENDED_KEY = "ended_ts"
#: A start this far in the past is still accepted (the dialog was open a while).
PAST_START_GRACE_S = 5 * 60
MAX_SUBJECT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Schedule:
    start_ms: int
    end_ms: int


@dataclass(frozen=True, slots=True, order=True)
class Occasion:
    """One scheduled use of a meeting; ``subject`` is "" for a meeting's own schedule."""

    start_ms: int
    end_ms: int
    subject: str = ""

    @property
    def schedule(self) -> Schedule:
        return Schedule(self.start_ms, self.end_ms)

    def to_state(self) -> dict[str, Any]:
        return {START_KEY: self.start_ms, END_KEY: self.end_ms, "subject": self.subject}


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
    if end.timestamp() <= now_s:
        # Within the start's grace, but over already: nothing would be left of it.
        raise InvalidSchedule("The end time is in the past.")
    return title


def occasions_of(state: Mapping[str, Any] | None) -> list[Occasion]:
    """The personal meeting's occasions in its state, sorted; malformed ones are left out."""
    entries = state.get(OCCASIONS_KEY) if state else None
    if not isinstance(entries, list):
        return []
    found: set[Occasion] = set()
    for entry in entries[: MAX_OCCASIONS * 2]:  # a huge list from elsewhere: read a part
        schedule = schedule_of(entry if isinstance(entry, dict) else None)
        if schedule is None:
            continue
        subject = clean_name(str(entry.get("subject") or ""))[:MAX_SUBJECT_LENGTH]
        found.add(Occasion(schedule.start_ms, schedule.end_ms, subject))
    return sorted(found)


def all_occasions(state: Mapping[str, Any] | None) -> list[Occasion]:
    """Every scheduled time of a meeting, sorted: its own schedule and its occasions."""
    own = schedule_of(state)
    listed = occasions_of(state)
    return sorted({*listed, Occasion(own.start_ms, own.end_ms)} if own else listed)


def next_occasion(occasions: list[Occasion], now_ms: int) -> Occasion | None:
    """The first occasion not over at ``now_ms`` (going on or to come)."""
    return next((o for o in occasions if o.end_ms > now_ms), None)


def with_occasion(occasions: list[Occasion], new: Occasion, now_ms: int) -> list[Occasion]:
    """``occasions`` plus ``new``, sorted, without the ones over at ``now_ms``.

    Raises InvalidSchedule when the meeting already holds MAX_OCCASIONS to come.
    """
    kept = sorted({o for o in occasions if o.end_ms > now_ms} | {new})
    if len(kept) > MAX_OCCASIONS:
        raise InvalidSchedule(
            f"Your personal meeting already has {MAX_OCCASIONS} meetings planned."
        )
    return kept
