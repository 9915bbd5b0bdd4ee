"""Scheduling a meeting ahead of time (issue 9): the room now, the meeting later.

``schedule`` creates the meeting room at once, with its start and end in the
``org.confero.conference`` state, and invites the invitees with the
organizer's message; the invite carries the times (SCHEDULE_KEY) so the
invitee's toast can say when. Nobody is *in* the meeting until they join it:
the organizer and those who accept are members of its room, which is what the
reminders (engine/reminders.py) go by.

With ``use_personal_meeting`` no room is made: the user's personal meeting
(engine/personal_meeting.py) gets one more occasion in its state
(meeting_schedule.OCCASIONS_KEY), and the invitees are invited to it with the
occasion's time. Its ID, link and options (who gets in, who presents) stay
its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from nio import ErrorResponse, JoinResponse

from engine.conference_models import AccessLevel, PresenterPolicy
from engine.conferences import Conferences
from engine.errors import InvalidUserId, ServerRefused, UnknownConference
from engine.ids import parse_user_id
from engine.invitation_models import SCHEDULE_KEY
from engine.invitations import Invitations
from engine.matrix_events import CONFERENCE_STATE, refusal_text
from engine.meeting_schedule import (
    END_KEY,
    OCCASIONS_KEY,
    START_KEY,
    Occasion,
    all_occasions,
    check_schedule,
    next_occasion,
    occasions_of,
    to_ms,
    with_occasion,
)
from engine.personal_meeting import PersonalMeeting
from engine.reminders import Reminders
from engine.scheduling_errors import InvalidSchedule
from engine.session import Session

#: How long schedule() waits for sync to bring a just-made personal meeting's details.
DETAILS_WAIT_S = 10.0

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
        personal_meeting: PersonalMeeting | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._conferences = conferences
        self._invitations = invitations
        self._reminders = reminders
        self._personal_meeting = personal_meeting
        self.clock = clock

    def calendar_entry(self, room_id: str, start_ms: int | None = None) -> CalendarEntry | None:
        """A scheduled, not ended meeting I am a member of, for an .ics file: the
        occasion starting at ``start_ms`` if given (personal meeting), else the
        next one."""
        details = self._conferences.details(room_id)
        occasions = self._reminders.occasions(room_id)
        if start_ms is not None:
            chosen = next((o for o in occasions if o.start_ms == start_ms), None)
        else:
            chosen = next_occasion(occasions, int(self.clock() * 1000)) or (
                occasions[-1] if occasions else None
            )
        if details is None or chosen is None:
            return None
        return CalendarEntry(
            room_id,
            details.conference_id,
            chosen.subject or details.subject,
            details.link,
            chosen.start_ms,
            chosen.end_ms,
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
        use_personal_meeting: bool = False,
    ) -> str:
        """Create the meeting and invite ``invitees``; its room ID.

        With ``use_personal_meeting`` the personal meeting gets the occasion
        instead (its room ID is returned), and ``access_level`` and
        ``presenter_policy`` are not used: it keeps its own.

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
        occasion = Occasion(to_ms(start), to_ms(end), title)
        if use_personal_meeting:
            room_id = await self._add_to_personal_meeting(occasion)
        else:
            room_id = await self._create(title, occasion, access_level, presenter_policy)
        # The invitation stays open until the meeting ends, not the usual two minutes.
        wait_s = max(self._invitations.timeout_s, occasion.end_ms / 1000 - self.clock())
        when: dict[str, Any] = {"start_ts": occasion.start_ms, "end_ts": occasion.end_ms}
        if use_personal_meeting:
            when["subject"] = title  # the room's name is the personal meeting's
        on_invite = {SCHEDULE_KEY: when}
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

    async def _create(
        self,
        title: str,
        occasion: Occasion,
        access_level: AccessLevel,
        presenter_policy: PresenterPolicy,
    ) -> str:
        """A new room for one scheduled meeting."""
        room_id = await self._conferences.create_meeting(
            title,
            access_level=access_level,
            presenter_policy=presenter_policy,
            extra={START_KEY: occasion.start_ms, END_KEY: occasion.end_ms},
        )
        self._reminders.track(room_id, title, [Occasion(occasion.start_ms, occasion.end_ms)])
        if access_level is AccessLevel.SAME_ENTERPRISE:
            # The organisation's space goes into the join rule (set_options knows how).
            await self._conferences.set_options(room_id, access_level=access_level)
        return room_id

    async def _add_to_personal_meeting(self, occasion: Occasion) -> str:
        """One more occasion in the personal meeting's state: sorted, past ones pruned."""
        if self._personal_meeting is None:
            raise ServerRefused("The personal meeting is not available.")
        room_id = await self._personal_meeting.ensure()
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/{CONFERENCE_STATE}"
        # The server's copy: another device may have added an occasion since our last sync.
        state = await self._session.api("GET", path)
        if not isinstance(state, dict) or "errcode" in state:
            raise ServerRefused(str((state or {}).get("error") or "") or None)
        now_ms = int(self.clock() * 1000)
        occasions = with_occasion(occasions_of(state), occasion, now_ms)
        updated = {**state, OCCASIONS_KEY: [o.to_state() for o in occasions]}
        answer = await self._session.api("PUT", path, updated)
        if isinstance(answer, dict) and "errcode" in answer:
            raise ServerRefused(str(answer.get("error") or "") or None)
        subject = str(state.get("subject") or "") or "Meeting"
        self._reminders.track(room_id, subject, all_occasions(updated))
        await self._details_known(room_id)
        return room_id

    async def _details_known(self, room_id: str) -> None:
        """Until Conferences knows the meeting's ID and link (a personal meeting made
        just now arrives with the next sync); gives up quietly after DETAILS_WAIT_S."""
        if self._known(room_id):
            return
        arrived = asyncio.Event()

        def check(_event: object) -> None:
            if self._known(room_id):
                arrived.set()

        stop = self._session.bus.subscribe(check)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrived.wait(), DETAILS_WAIT_S)
        finally:
            stop()

    def _known(self, room_id: str) -> bool:
        details = self._conferences.details(room_id)
        return details is not None and bool(details.conference_id)

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
