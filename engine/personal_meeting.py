"""The user's personal meeting: one permanent meeting with a fixed ID and link.

Like Lync's and Zoom's personal meeting ID (and Outlook reusing one conference
ID per organizer, seed 004): made in the background after the first sync of a
new account, then the same room every time, on every device. Its room is
recorded in the account data ``org.confero.personal_meeting``
(``{"room_id", "conference_id"}``), which the server keeps for the account, so
a restart or a second device finds it again. Leaving it keeps its room
(Conferences.leave: we organize it), so it is never lost that way.

If the recorded room is gone all the same (left from another Matrix client,
or its alias now points elsewhere) a new room is made. It keeps the old ID and
link when it can (the alias is still ours, or free), and the planned occasions
and options of the old room as we last saw them; only an ID taken by another
room makes a new ID.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Any
from urllib.parse import quote

from nio import RoomCreateResponse

from engine.conference_models import AccessLevel, PresenterPolicy
from engine.conferences import ACCESS_LEVEL_OF, meeting_create_request
from engine.errors import ConferoError, ServerRefused
from engine.ids import server_name_of
from engine.matrix_events import CONFERENCE_STATE, refusal_text
from engine.meeting_links import CONFERENCE_ID_DIGITS
from engine.meeting_schedule import OCCASIONS_KEY
from engine.sanitize import clean_name
from engine.session import Session

log = logging.getLogger(__name__)

PERSONAL_MEETING_DATA = "org.confero.personal_meeting"
# New random IDs tried when the preferred one is taken.
_ID_ATTEMPTS = 8
#: After a failed background ensure (offline, server refusing), the next try waits this long.
RETRY_AFTER_S = 60.0


class PersonalMeeting:
    """Finds, checks and (re)creates the user's personal meeting room."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._room_id: str | None = None
        # One ensure() at a time in this process: two clicks make one meeting.
        self._lock = asyncio.Lock()
        # The background ensure after sign-in: done once it succeeded.
        self._ensured = False
        self._next_try = 0.0
        #: The background ensure running now, if any (tests wait for it).
        self.ensuring: asyncio.Task[str] | None = None
        session.on_account_data(self._apply_account_data)
        session.on_synced(self._ensure_in_background)

    def room_id(self) -> str | None:
        """The recorded personal meeting (from sync or ensure()), not checked."""
        return self._room_id

    async def ensure(self) -> str:
        """The personal meeting's room ID: the recorded room if it still holds,
        else a new one (with the old ID where possible), recorded for next time."""
        running = self.ensuring
        if running is not None and running is not asyncio.current_task():
            # The one after sign-in is on its way: its answer first, then check it.
            with contextlib.suppress(Exception):
                await asyncio.shield(running)
        async with self._lock:
            record = await self._read_record()
            preferred_id: str | None = None
            kept: dict[str, Any] = {}
            if record is not None:
                room_id, conference_id = record
                if await self._still_holds(room_id, conference_id):
                    self._room_id = room_id
                    self._ensured = True
                    return room_id
                preferred_id = await self._reusable_id(room_id, conference_id)
                kept = await self._kept_from(room_id)
            room_id, conference_id = await self._create(preferred_id, kept)
            await self._write_record(room_id, conference_id)
            self._room_id = room_id
            self._ensured = True
            return room_id

    def _ensure_in_background(self) -> None:
        """After a sync: make sure the personal meeting exists (once per run, retried
        a while after a failure), so it is in My meetings from sign-in on."""
        if self._ensured or self.ensuring is not None or time.monotonic() < self._next_try:
            return
        self.ensuring = asyncio.ensure_future(self.ensure())
        self.ensuring.add_done_callback(self._ensured_in_background)

    def _ensured_in_background(self, task: asyncio.Task[str]) -> None:
        self.ensuring = None
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            self._next_try = time.monotonic() + RETRY_AFTER_S
            if not isinstance(error, ConferoError):
                log.error("could not make the personal meeting", exc_info=error)
            else:
                log.info("could not make the personal meeting yet: %r", error)

    # ------------------------------------------------------------ the record

    def _apply_account_data(self, event_type: str, content: dict[str, Any]) -> None:
        if event_type == PERSONAL_MEETING_DATA:
            room_id = content.get("room_id")
            self._room_id = room_id if _is_room_id(room_id) else None

    def _record_path(self) -> str:
        user_id = self._session.require_client().user_id
        return f"/_matrix/client/v3/user/{quote(user_id)}/account_data/{PERSONAL_MEETING_DATA}"

    async def _read_record(self) -> tuple[str, str] | None:
        """(room ID, conference ID) as the server has them: another device may have
        written them since our last sync."""
        content = await self._session.api("GET", self._record_path())
        if not isinstance(content, dict) or not _is_room_id(content.get("room_id")):
            return None
        conference_id = content.get("conference_id")
        if not (isinstance(conference_id, str) and _is_conference_id(conference_id)):
            conference_id = ""
        return content["room_id"], conference_id

    async def _write_record(self, room_id: str, conference_id: str) -> None:
        body = {"room_id": room_id, "conference_id": conference_id}
        answer = await self._session.api("PUT", self._record_path(), body)
        if isinstance(answer, dict) and "errcode" in answer:
            raise ServerRefused(str(answer.get("error") or "The server refused the request."))

    # ----------------------------------------------------- checking the room

    async def _still_holds(self, room_id: str, conference_id: str) -> bool:
        """We are in the room and its ID's alias points at it."""
        if not conference_id or not await self._joined(room_id):
            return False
        return await self._alias_target(conference_id) == room_id

    async def _joined(self, room_id: str) -> bool:
        own = self._session.require_client().user_id
        path = f"/_matrix/client/v3/rooms/{quote(room_id)}/state/m.room.member/{quote(own)}"
        member = await self._session.api("GET", path)
        return isinstance(member, dict) and member.get("membership") == "join"

    async def _alias_target(self, conference_id: str) -> str | None:
        """The room the ID's alias points at, None if the alias is free."""
        path = f"/_matrix/client/v3/directory/room/{quote(self._alias(conference_id))}"
        answer = await self._session.api("GET", path)
        room_id = answer.get("room_id") if isinstance(answer, dict) else None
        return room_id if _is_room_id(room_id) else None

    async def _reusable_id(self, old_room: str, conference_id: str) -> str | None:
        """The old meeting's ID if its alias is free, or still on the old room
        (then we free it): the link people have keeps working."""
        if not conference_id:
            return None
        target = await self._alias_target(conference_id)
        if target is None:
            return conference_id
        if target != old_room:
            return None  # the ID now belongs to another room
        path = f"/_matrix/client/v3/directory/room/{quote(self._alias(conference_id))}"
        answer = await self._session.api("DELETE", path)
        if isinstance(answer, dict) and "errcode" in answer:
            log.info("could not free the personal meeting's alias: %s", answer.get("errcode"))
            return None
        return conference_id

    # -------------------------------------------------------------- creating

    async def _kept_from(self, old_room: str) -> dict[str, Any]:
        """What the old room held that a new one must keep: its planned occasions,
        subject, presenter policy and access level (the server lets a former member
        read the state as it was when they left)."""
        kept: dict[str, Any] = {}
        room = quote(old_room)
        try:
            state = await self._session.api(
                "GET", f"/_matrix/client/v3/rooms/{room}/state/{CONFERENCE_STATE}"
            )
            rules = await self._session.api(
                "GET", f"/_matrix/client/v3/rooms/{room}/state/m.room.join_rules"
            )
        except ConferoError:
            return kept
        if isinstance(state, dict) and "errcode" not in state:
            for key in (OCCASIONS_KEY, "subject", "presenter_policy"):
                if key in state:
                    kept[key] = state[key]
        level = (
            ACCESS_LEVEL_OF.get(str(rules.get("join_rule"))) if isinstance(rules, dict) else None
        )
        if level is not None and level is not AccessLevel.SAME_ENTERPRISE:
            kept["access_level"] = level  # SameEnterprise needs its space: set_options's work
        return kept

    async def _create(self, preferred_id: str | None, kept: dict[str, Any]) -> tuple[str, str]:
        client = self._session.require_client()
        own = client.user_id
        subject = kept.get("subject")
        title = clean_name(
            subject
            if isinstance(subject, str) and subject.strip()
            else f"{self._session.own_display_name}'s personal meeting"
        )
        policy = kept.get("presenter_policy")
        if policy not in {p.value for p in PresenterPolicy}:
            policy = PresenterPolicy.EVERYONE.value
        access_level = kept.get("access_level", AccessLevel.INVITED)
        candidates = [preferred_id] if preferred_id else []
        candidates += [_random_conference_id() for _ in range(_ID_ATTEMPTS)]
        for conference_id in candidates:
            state = {
                "conference_id": conference_id,
                "subject": title,
                "organizer": own,
                "created_ts": int(time.time() * 1000),
                "presenter_policy": policy,
                "personal": True,
            }
            if isinstance(kept.get(OCCASIONS_KEY), list):
                state[OCCASIONS_KEY] = kept[OCCASIONS_KEY]
            request = meeting_create_request(own, conference_id, title, state, access_level)
            response = await self._session.call(client.room_create(**request))
            if isinstance(response, RoomCreateResponse):
                return response.room_id, conference_id
            if response.status_code != "M_ROOM_IN_USE":
                raise ServerRefused(refusal_text(response))
        raise ServerRefused("Could not find a free meeting ID. Please try again.")

    def _alias(self, conference_id: str) -> str:
        own = self._session.require_client().user_id
        return f"#{conference_id}:{server_name_of(own)}"


def _random_conference_id() -> str:
    low = 10 ** (CONFERENCE_ID_DIGITS - 1)
    return str(secrets.randbelow(9 * low) + low)


def _is_room_id(value: object) -> bool:
    return isinstance(value, str) and value.startswith("!") and ":" in value


def _is_conference_id(value: str) -> bool:
    return len(value) == CONFERENCE_ID_DIGITS and value.isdigit()
