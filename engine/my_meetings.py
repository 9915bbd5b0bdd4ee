"""My meetings: the user's meetings as ConferenceSummary rows, and ending one for everyone.

The headless equivalent of seed 004's GetConferenceSummaries. Built only from
what sync already delivered (no request per meeting): the rooms we are joined
to that carry ``org.confero.conference`` state, as Conferences read them, plus
the joined count of the room summary and the live ``m.call.member`` state.
Each sync refreshes only the rooms it brought, and publishes SummaryChanged or
SummaryRemoved for the ones whose line changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from nio import ErrorResponse, MatrixRoom
from nio.responses import RoomInfo

from engine import events as ev
from engine.calls.call_membership import CALL_MEMBER, CallMember, parse_membership
from engine.conference_models import Denial, SessionState
from engine.conferences import ENDED_REASON, Conferences
from engine.errors import NotPermitted, ServerRefused
from engine.matrix_events import CONFERENCE_STATE, refusal_text
from engine.meeting_schedule import next_occasion, occasions_of
from engine.meeting_summary_models import ConferenceSummary
from engine.personal_meeting import PERSONAL_MEETING_DATA
from engine.session import Session

log = logging.getLogger(__name__)

#: How often scheduled meetings are checked for having started or ended.
RECHECK_INTERVAL_S = 30.0
_KICKS_AT_ONCE = 8


class MyMeetings:
    """The user's meetings (ConferenceSummary per joined meeting) and End meeting for everyone."""

    def __init__(
        self,
        session: Session,
        conferences: Conferences,
        *,
        clock: Callable[[], float] = time.time,
        recheck_interval_s: float = RECHECK_INTERVAL_S,
    ) -> None:
        self._session = session
        self._conferences = conferences
        #: The time (seconds); tests move it on instead of waiting.
        self.clock = clock
        self._recheck_interval_s = recheck_interval_s
        self._summaries: dict[str, ConferenceSummary] = {}
        # room_id -> state_key -> the device's call membership (live or expired)
        self._call_members: dict[str, dict[str, CallMember]] = {}
        self._personal_room: str | None = None
        self._recheck_task: asyncio.Task[None] | None = None
        # After Conferences: its view of the room is up to date when these run.
        session.on_room_event(self._apply_room_event)
        session.on_joined_room(self._apply_joined_room)
        session.on_left_room(self._apply_left_room)
        session.on_account_data(self._apply_account_data)
        session.on_started(self._start_recheck)
        session.on_close(self._close)
        conferences.on_session_changed(lambda s: self._refresh(s.room_id))

    # -------------------------------------------------------------- reading

    def summaries(self, include_expired: bool = False) -> list[ConferenceSummary]:
        """The user's meetings, in the order My meetings shows them."""
        now_ms = self._now_ms()
        rows = [_at_time(s, now_ms) for s in self._summaries.values()]
        if not include_expired:
            rows = [s for s in rows if not s.expired]
        rows.sort(key=ConferenceSummary.sort_key)
        return rows

    def summary(self, room_id: str) -> ConferenceSummary | None:
        found = self._summaries.get(room_id)
        return _at_time(found, self._now_ms()) if found else None

    # ---------------------------------------------------------------- sync

    def _apply_room_event(
        self, room: MatrixRoom, source: dict[str, Any], in_timeline: bool
    ) -> None:
        if source.get("type") != CALL_MEMBER or "state_key" not in source:
            return
        parsed = parse_membership(source)
        members = self._call_members.setdefault(room.room_id, {})
        if isinstance(parsed, CallMember):
            members[str(source["state_key"])] = parsed
        else:
            members.pop(str(source["state_key"]), None)

    def _apply_joined_room(self, room: MatrixRoom, _info: RoomInfo) -> None:
        self._refresh(room.room_id)

    def _apply_left_room(self, room_id: str, _events: list[dict[str, Any]]) -> None:
        self._call_members.pop(room_id, None)
        self._remove(room_id)

    def _apply_account_data(self, event_type: str, content: dict[str, Any]) -> None:
        if event_type != PERSONAL_MEETING_DATA:
            return
        room_id = content.get("room_id")
        previous, self._personal_room = (
            self._personal_room,
            room_id if isinstance(room_id, str) else None,
        )
        for changed in {previous, self._personal_room} - {None}:
            assert changed is not None
            self._refresh(changed)

    # -------------------------------------------------------------- actions

    async def end_for_everyone(self, room_id: str) -> None:
        """End the meeting: nobody gets in any more, everyone is removed, then we leave.

        Only its organizer may. The meeting's state records it first, so the
        people removed learn why from the same sync that removes them.

        The personal meeting is permanent (Zoom's "End meeting for all" on a
        personal meeting ID): everyone is removed and we leave it, but its room,
        ID, link, options and planned occasions stay, ready for the next use.
        """
        own = self._session.user_id
        state = self._conferences.conference_state(room_id)
        if not own or state.get("organizer") != own:
            raise NotPermitted(Denial.ORGANIZER_ONLY)
        client = self._session.require_client()
        personal = room_id == self._personal_room or state.get("personal") is True
        if not personal:
            ended = {**state, "ended_ts": int(self.clock() * 1000), "ended_by": own}
            await self._put_state(room_id, CONFERENCE_STATE, ended)
            # Invite-only: knocks are refused and links no longer let anyone in.
            await self._put_state(room_id, "m.room.join_rules", {"join_rule": "invite"})
        others = [u for u in await self._members(room_id) if u != own]
        gate = asyncio.Semaphore(_KICKS_AT_ONCE)

        async def remove(user_id: str) -> None:
            async with gate:
                response = await self._session.call(
                    client.room_kick(room_id, user_id, ENDED_REASON)
                )
            if isinstance(response, ErrorResponse):
                log.info("could not remove %s at the end of %s: %s", user_id, room_id, response)

        await asyncio.gather(*(remove(user_id) for user_id in others))
        await self._conferences.leave(room_id)
        if personal:
            self._refresh(room_id)
        else:
            self._remove(room_id)

    # ------------------------------------------------------------ internals

    async def _members(self, room_id: str) -> list[str]:
        """Everyone joined, invited or knocking (sync's lazy loading does not bring all)."""
        answer = await self._session.api(
            "GET", f"/_matrix/client/v3/rooms/{quote(room_id)}/members?not_membership=leave"
        )
        chunk = answer.get("chunk") if isinstance(answer, dict) else None
        if not isinstance(chunk, list):
            raise ServerRefused(str((answer or {}).get("error") or "") or None)
        people = []
        for source in chunk:
            content = source.get("content") if isinstance(source, dict) else None
            if isinstance(content, dict) and content.get("membership") in (
                "join",
                "invite",
                "knock",
            ):
                people.append(str(source.get("state_key")))
        return people

    async def _put_state(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        client = self._session.require_client()
        response = await self._session.call(client.room_put_state(room_id, event_type, content))
        if isinstance(response, ErrorResponse):
            raise ServerRefused(refusal_text(response))

    def _refresh(self, room_id: str) -> None:
        """Rebuild one meeting's line; publish it if it changed (or went away)."""
        if not (self._conferences.is_conference(room_id) and self._conferences.is_member(room_id)):
            self._remove(room_id)
            return
        summary = self._build(room_id)
        if summary is None:
            self._remove(room_id)
        elif self._summaries.get(room_id) != summary:
            self._summaries[room_id] = summary
            self._session.bus.publish(ev.SummaryChanged(summary))

    def _remove(self, room_id: str) -> None:
        if self._summaries.pop(room_id, None) is not None:
            self._session.bus.publish(ev.SummaryRemoved(room_id))

    def _build(self, room_id: str) -> ConferenceSummary | None:
        details = self._conferences.details(room_id)
        state = self._conferences.conference_state(room_id)
        if details is None or not details.conference_id:
            return None  # sync has not brought the meeting's state yet
        own = self._session.user_id or ""
        start_ms, end_ms = _schedule(state.get("start_ts"), state.get("end_ts"))
        personal = room_id == self._personal_room or state.get("personal") is True
        created = state.get("created_ts")
        room = self._session.client.rooms.get(room_id) if self._session.client else None
        now_ms = self._now_ms()
        session = self._conferences.session(room_id)
        me_in = session is not None and session.state is SessionState.CONNECTED
        joined_count = room.joined_count if room is not None else 1
        # A member who is not in it (a meeting kept after leaving it, or accepted
        # ahead of its time) is not one of the people in it now.
        people_here = max(0, joined_count if me_in else joined_count - 1)
        people_in_call = len(
            {m.user_id for m in self._call_members.get(room_id, {}).values() if m.live(now_ms)}
        )
        summary = ConferenceSummary(
            room_id=room_id,
            conference_id=details.conference_id,
            subject=details.subject,
            link=details.link,
            matrix_uri=details.matrix_uri,
            access_level=details.access_level,
            organizer=details.organizer,
            organized_by_me=bool(own) and details.organizer == own,
            start_ms=start_ms,
            end_ms=end_ms,
            created_ms=created if _is_int(created) else 0,
            expired=False,
            ended=_is_int(state.get("ended_ts")),
            personal=personal,
            people_here=people_here,
            people_in_call=people_in_call,
            # Joined but not in it (a personal or scheduled meeting kept): not "here" now.
            occupied=people_in_call > 0 or people_here > 0,
            # The personal meeting's row shows its next occasion (_at_time picks it).
            occasions=tuple(occasions_of(state)) if personal else (),
            joined=me_in,
        )
        return _at_time(summary, now_ms)

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def _start_recheck(self) -> None:
        if self._recheck_task is None:
            self._recheck_task = asyncio.ensure_future(self._recheck_forever())

    async def _recheck_forever(self) -> None:
        """Scheduled meetings start and end with the clock, not with sync: look again."""
        while True:
            await asyncio.sleep(self._recheck_interval_s)
            for room_id in list(self._summaries):
                self._refresh(room_id)

    async def _close(self) -> None:
        if self._recheck_task is not None:
            self._recheck_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recheck_task
            self._recheck_task = None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _schedule(start: object, end: object) -> tuple[int | None, int | None]:
    """Start and end as the state holds them; malformed values are ignored."""
    start_ms = start if _is_int(start) else None
    end_ms = end if _is_int(end) else None
    if start_ms is not None and end_ms is not None and end_ms <= start_ms:
        return None, None  # an end before its start: not a schedule to trust
    return start_ms, end_ms  # type: ignore[return-value]


def _at_time(summary: ConferenceSummary, now_ms: int) -> ConferenceSummary:
    """The line's clock-dependent parts (expired, live, and the personal
    meeting's next occasion) as of ``now_ms``."""
    start_ms, end_ms = summary.start_ms, summary.end_ms
    if summary.personal:
        # Never expires with the clock; usable at any time, not only at an occasion.
        upcoming = next_occasion(list(summary.occasions), now_ms)
        start_ms, end_ms = (upcoming.start_ms, upcoming.end_ms) if upcoming else (None, None)
        expired = summary.ended
        started = True
    else:
        expired = summary.ended or (end_ms is not None and end_ms <= now_ms)
        started = start_ms is None or start_ms <= now_ms
    live = summary.occupied and started and not expired
    if (expired, live, start_ms, end_ms) == (
        summary.expired,
        summary.live,
        summary.start_ms,
        summary.end_ms,
    ):
        return summary
    return replace(summary, expired=expired, live=live, start_ms=start_ms, end_ms=end_ms)
