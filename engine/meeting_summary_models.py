"""ConferenceSummary: one line of My meetings (seed 004's GetConferenceSummaries), as data."""

from __future__ import annotations

from dataclasses import dataclass

from engine.conference_models import AccessLevel
from engine.meeting_schedule import Occasion


@dataclass(frozen=True, slots=True)
class ConferenceSummary:
    room_id: str
    conference_id: str
    subject: str
    link: str
    matrix_uri: str
    access_level: AccessLevel
    organizer: str
    organized_by_me: bool
    #: Scheduled start and end (ms since the epoch, UTC); None when not scheduled.
    #: For the personal meeting: its next occasion's (see ``occasions``).
    start_ms: int | None
    end_ms: int | None
    created_ms: int
    #: The scheduled end has passed, or the organizer ended it (as of when it was read).
    expired: bool
    #: The organizer ended it for everyone.
    ended: bool
    #: The user's permanent personal meeting.
    personal: bool
    #: People in the meeting now (its room's members; you only while you are in it).
    people_here: int
    #: People in its call (MatrixRTC members); 0 if unknown.
    people_in_call: int
    #: Someone is in it: you (connected), someone else joined, or someone in its call.
    occupied: bool = False
    #: Going on now: occupied, started (if scheduled) and neither expired nor ended.
    live: bool = False
    #: The personal meeting's scheduled occasions, sorted (empty for other meetings).
    occasions: tuple[Occasion, ...] = ()
    #: You are in the meeting now (connected); a meeting you organize and left is listed
    #: with this False, and Join takes you back in.
    joined: bool = False

    def sort_key(self) -> tuple[int, int, int, int, str]:
        """Personal first, then the ones I organize, then others; live first in a
        group, then by start (or creation) time."""
        group = 0 if self.personal else 1 if self.organized_by_me else 2
        when = self.start_ms if self.start_ms is not None else self.created_ms
        return (group, 0 if self.live else 1, when, 0, self.room_id)
