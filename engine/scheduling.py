"""Scheduling a meeting ahead of time (issue 9): the room now, the meeting later.

``schedule`` creates the meeting room at once, with its start and end in the
``org.confero.conference`` state, and invites the invitees with the
organizer's message; the invite carries the times (SCHEDULE_KEY) so the
invitee's toast can say when. Nobody is *in* the meeting until they join it:
the organizer and those who accept are members of its room, which is what the
reminders (engine/reminders.py) go by.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from nio import ErrorResponse, JoinResponse

from engine.conference_models import AccessLevel, PresenterPolicy
from engine.conferences import Conferences
from engine.errors import InvalidUserId, ServerRefused, UnknownConference
from engine.ids import parse_user_id
from engine.invitation_models import SCHEDULE_KEY
from engine.invitations import Invitations
from engine.matrix_events import refusal_text
from engine.meeting_schedule import END_KEY, START_KEY, Schedule, check_schedule, to_ms
from engine.reminders import Reminders
from engine.scheduling_errors import InvalidSchedule
from engine.session import Session

__all__ = ["CalendarEntry", "InvalidSchedule", "Scheduling"]


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """A scheduled meeting as engine/ics.py needs it (a ConferenceSummary will do too)."""

    room_id: str
    conference_id: str
    subject: str
    link: str
    start_ms: int
    end_ms: int


class Scheduling:
    def __init__(
        self,
        session: Session,
        conferences: Conferences,
        invitations: Invitations,
        reminders: Reminders,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._conferences = conferences
        self._invitations = invitations
        self._reminders = reminders
        self.clock = clock

    def calendar_entry(self, room_id: str) -> CalendarEntry | None:
        """A scheduled, not ended meeting I am a member of, for an .ics file."""
        details = self._conferences.details(room_id)
        schedule = self._reminders.scheduled().get(room_id)
        if details is None or schedule is None:
            return None
        return CalendarEntry(
            room_id,
            details.conference_id,
            details.subject,
            details.link,
            schedule.start_ms,
            schedule.end_ms,
        )

    async def schedule(
        self,
        subject: str,
        start: datetime,
        end: datetime,
        access_level: AccessLevel = AccessLevel.INVITED,
        presenter_policy: PresenterPolicy = PresenterPolicy.EVERYONE,
        invitees: Sequence[str] = (),
        message: str = "",
    ) -> str:
        """Create the meeting and invite ``invitees``; its room ID.

        Bad input raises InvalidSchedule before anything is created. An invitee
        the server turns down does not undo the meeting: their
        ConferenceInvitation says Failed (Invitations.invitations(room_id)).
        """
        title = check_schedule(subject, start, end, self.clock())
        people: list[str] = []
        for text in invitees:
            if not text.strip():
                continue
            try:
                person = parse_user_id(text)
            except InvalidUserId as exc:
                raise InvalidSchedule(exc.user_message) from exc
            if person not in people and person != self._session.user_id:
                people.append(person)
        times = {START_KEY: to_ms(start), END_KEY: to_ms(end)}
        room_id = await self._conferences.create_meeting(
            title, access_level=access_level, presenter_policy=presenter_policy, extra=times
        )
        self._reminders.track(room_id, title, Schedule(times[START_KEY], times[END_KEY]))
        if access_level is AccessLevel.SAME_ENTERPRISE:
            # The organisation's space goes into the join rule (set_options knows how).
            await self._conferences.set_options(room_id, access_level=access_level)
        # The invitation stays open until the meeting ends, not the usual two minutes.
        wait_s = max(self._invitations.timeout_s, times[END_KEY] / 1000 - self.clock())
        on_invite = {SCHEDULE_KEY: {"start_ts": times[START_KEY], "end_ts": times[END_KEY]}}
        await asyncio.gather(
            *(
                self._invitations.deliver(
                    room_id,
                    person,
                    message,
                    timeout_s=wait_s,
                    extra_content=on_invite,
                )
                for person in people
            )
        )
        return room_id

    async def accept(self, room_id: str) -> None:
        """Accept an invitation to a scheduled meeting: become a member of its
        room (the reminder comes at its start) without joining the meeting now."""
        client = self._session.require_client()
        response = await self._session.call(client.join(room_id))
        if isinstance(response, JoinResponse):
            return
        if isinstance(response, ErrorResponse) and response.status_code == "M_NOT_FOUND":
            raise UnknownConference("The meeting no longer exists.")
        raise ServerRefused(refusal_text(response))
