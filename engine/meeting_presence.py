"""Busy, "In a conference call", while in a meeting; the presence from before after it.

Seed 002: everyone in a meeting shows Busy (from a second after it starts, see
BUSY_AFTER_S). The presence from before the meeting is kept (also on disk, see
own_presence.py) and put back when the last meeting ends, at quitting, or at
the next start after a crash. The user's own choice of presence comes through
here too: during a meeting it is what stays after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from engine.conference_models import ConferenceSession
from engine.conferences import Conferences
from engine.errors import ConferoError
from engine.models import Presence
from engine.own_presence import SavedPresence
from engine.presence import IN_A_CONFERENCE_CALL
from engine.presences import Presences
from engine.session import Session

log = logging.getLogger(__name__)

#: Busy goes up this long after a meeting starts, not at once. Starting or
#: joining a meeting is the busiest moment for the client and the server (the
#: new room's sync, the invites, the peer's join: what the user waits for), and
#: presence is not urgent; a presence write there makes the server also answer
#: everyone's sync of it. A meeting left sooner shows no Busy at all.
BUSY_AFTER_S = 1.0


class MeetingPresence:
    def __init__(self, session: Session, presences: Presences, conferences: Conferences) -> None:
        self._session = session
        self._presences = presences
        self._conferences = conferences
        # The presence to put back after the meeting (also on disk, see own_presence.py).
        self._presence_before: tuple[Presence, str] | None = None
        self._presence_loaded = False
        self._chosen_in_call = False  # the user picked a presence during the meeting
        self._lock = asyncio.Lock()  # one presence update at a time, in order
        self._store: SavedPresence | None = None
        self._busy_pending = False  # a Busy write waits for BUSY_AFTER_S
        conferences.on_session_changed(self._on_session_changed)
        presences.on_first_own(self._check_at_start)
        presences.on_change(self._on_presence_changed)
        # Registered after Conferences: the meetings are left first, then presence goes back.
        session.on_farewell(self._farewell)

    async def choose(self, presence: Presence, status_message: str | None) -> None:
        """The user's own choice; during a meeting it is also what stays after it."""
        async with self._lock:
            await self._presences.write(presence, status_message)
            if self._conferences.in_call():
                self._presence_before = (presence, self._presences.own_status)
                self._chosen_in_call = True
            else:
                self._presence_before = None
            self._presence_loaded = True
            await self._remember_presence_before()

    def _on_session_changed(self, session: ConferenceSession) -> None:
        if not self._conferences.in_call():
            self._session.spawn(self._update())  # the presence from before: at once
        elif not self._busy_pending:
            self._busy_pending = True
            self._session.spawn(self._busy_soon())

    async def _busy_soon(self) -> None:
        try:
            await asyncio.sleep(BUSY_AFTER_S)
        finally:
            self._busy_pending = False
        await self._update()  # as things are then: a meeting already left writes nothing

    def _on_presence_changed(self, user_id: str, presence: Presence) -> None:
        """Synapse turns "unavailable" back into "online" whenever we send something
        (a message, the escalation request): in a meeting, Busy goes back up."""
        if (
            user_id == self._session.user_id
            and presence != Presence.BUSY
            and not self._chosen_in_call
            and self._conferences.in_call()
        ):
            self._session.spawn(self._update())

    def _check_at_start(self) -> None:
        """The server told us our presence for the first time this run: set it right.

        After a quit (or crash) in a meeting, the server may still show "In a
        conference call"; the presence saved before the meeting goes back.
        """
        self._session.spawn(self._update())

    async def _farewell(self) -> None:
        """Quitting: after Conferences left the meetings, put the presence back."""
        if self._presence_before is not None or self._conferences.sessions():
            await self._update()

    def _saved_presence(self) -> SavedPresence:
        if self._store is None:
            directory = self._session.data_dir / "presence"
            self._store = SavedPresence(directory, self._session.user_id or "")
        return self._store

    async def _remember_presence_before(self) -> None:
        store = self._saved_presence()
        try:
            if self._presence_before is None:
                await asyncio.to_thread(store.clear)
            else:
                await asyncio.to_thread(store.save, *self._presence_before)
        except OSError as exc:  # a read-only data folder only loses the restore after a crash
            log.warning("could not keep the presence from before the meeting: %s", exc)

    async def _update(self) -> None:
        """Busy, "In a conference call", while in any meeting; the old presence after.

        Updates run one at a time and each looks at the sessions as they are when
        it runs, so quick session changes end in the presence of the last one.
        """
        async with self._lock:
            with contextlib.suppress(ConferoError):
                await self._apply()

    async def _apply(self) -> None:
        presences = self._presences
        if not self._presence_loaded:
            self._presence_loaded = True
            with contextlib.suppress(OSError):
                saved = await asyncio.to_thread(self._saved_presence().load)
                if self._presence_before is None:
                    self._presence_before = saved
        if self._conferences.in_call():
            if self._presence_before is None:
                before = (presences.own_presence, presences.own_status)
                if before[1] == IN_A_CONFERENCE_CALL or before[0] == Presence.UNKNOWN:
                    before = (Presence.AVAILABLE, "")  # left over from an earlier meeting
                self._presence_before = before
                await self._remember_presence_before()
            current = (presences.own_presence, presences.own_status)
            if not self._chosen_in_call and current != (Presence.BUSY, IN_A_CONFERENCE_CALL):
                await presences.write(Presence.BUSY, IN_A_CONFERENCE_CALL)
        elif self._presence_before is not None:
            presence, status = self._presence_before
            await presences.write(presence, status or None)
            self._presence_before = None
            self._chosen_in_call = False
            await self._remember_presence_before()
        elif presences.own_status == IN_A_CONFERENCE_CALL:
            # The server still shows a meeting we are not in (nothing saved to go back to).
            await presences.write(Presence.AVAILABLE, None)
