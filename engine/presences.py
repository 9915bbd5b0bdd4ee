"""Presence: everyone's as the server reports it, and the one writer of our own.

Our presence reaches the server only through ``Presences.write``: one write at a
time, the latest choice last. Other services learn of presence changes through
``on_change`` (rosters, the conversation list) and of our first presence of a
run through ``on_first_own`` (a meeting's presence may have outlived it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nio import ErrorResponse

from engine import events as ev
from engine import presence as presence_map
from engine.errors import ConferoError, ServerRefused
from engine.matrix_events import refusal_text
from engine.models import Presence
from engine.sanitize import clean_name
from engine.session import Session

log = logging.getLogger(__name__)

PresenceListener = Callable[[str, Presence], None]


class Presences:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._presence: dict[str, tuple[Presence, str]] = {}
        self._own_presence = Presence.AVAILABLE
        self._own_status = ""
        # Presence writes go out one at a time; a write overtaken by a newer
        # choice while it waited is skipped (the newer one carries the latest).
        self._lock = asyncio.Lock()
        self._wanted = 0  # generation of the latest choice
        self._written = 0  # generation the server last confirmed
        self._confirmed: tuple[Presence, str] = (Presence.AVAILABLE, "")
        self._checked = False
        self._listeners: list[PresenceListener] = []
        self._first_own_hooks: list[Callable[[], None]] = []
        session.on_presence(self._apply)
        session.provide_sync_presence(self._sync_state)

    # ------------------------------------------------------------ reading

    @property
    def own_presence(self) -> Presence:
        return self._own_presence

    @property
    def own_status(self) -> str:
        return self._own_status

    @property
    def writes_done(self) -> bool:
        """No write of our presence is waiting or on its way."""
        return self._written == self._wanted

    def presence_of(self, user_id: str) -> Presence:
        return self._presence.get(user_id, (Presence.UNKNOWN, ""))[0]

    # -------------------------------------------------------------- hooks

    def on_change(self, listener: PresenceListener) -> None:
        """Someone's presence (ours too) changed: (user_id, presence)."""
        self._listeners.append(listener)

    def on_first_own(self, hook: Callable[[], None]) -> None:
        """The server told us our own presence for the first time this run."""
        self._first_own_hooks.append(hook)

    # ------------------------------------------------------------ writing

    async def write(self, presence: Presence, status_message: str | None) -> None:
        """The one way our presence reaches the server: in order, the latest choice last."""
        client = self._session.require_client()
        state, status = presence_map.to_matrix(presence, status_message)
        self._wanted += 1
        generation = self._wanted
        # Take the new choice at once: a sync running meanwhile sends our
        # presence too, and must not put the old one back on the server.
        self._own_presence, self._own_status = presence, status
        async with self._lock:
            if generation != self._wanted:
                return  # overtaken by a newer choice, which is written next
            try:
                response = await self._session.call(client.set_presence(state, status))
                if isinstance(response, ErrorResponse):
                    raise ServerRefused(refusal_text(response))
            except ConferoError:
                if generation == self._wanted:
                    self._written = generation
                    self._own_presence, self._own_status = self._confirmed
                raise
            self._written = generation
            self._confirmed = (presence, status)
        self._presence[client.user_id] = (presence, status)
        self._notify(client.user_id, presence)
        self._session.bus.publish(ev.OwnPresenceChanged(presence, status))

    # ------------------------------------------------------- from the sync

    def _sync_state(self) -> str:
        return presence_map.to_matrix(self._own_presence, self._own_status)[0]

    def _apply(self, user_id: str, state: str, status: str) -> None:
        presence = presence_map.from_matrix(state, status)
        status = clean_name(status)
        own = user_id == self._session.user_id
        if own:
            if self._written != self._wanted:
                return  # the echo of an older write; ours is on its way
            ours = presence_map.to_matrix(self._own_presence, self._own_status)
            if ours == (state, status):
                presence = self._own_presence  # Busy with a status of its own reads as Away
            elif self._checked and status == ours[1]:
                # Only the state differs, and a sync cannot change the status message:
                # one of our own syncs, built before the last choice, carried the older
                # set_presence. Our next sync puts the choice back; don't adopt the echo.
                return
        if self._presence.get(user_id) == (presence, status):
            if own:
                self._check_own_once()
            return
        self._presence[user_id] = (presence, status)
        self._notify(user_id, presence)
        if own:
            self._own_presence, self._own_status = presence, status
            self._confirmed = (presence, status)
            self._session.bus.publish(ev.OwnPresenceChanged(presence, status))
            self._check_own_once()
            return
        self._session.bus.publish(ev.PresenceChanged(user_id, presence, status))

    def _notify(self, user_id: str, presence: Presence) -> None:
        for listener in self._listeners:
            listener(user_id, presence)

    def _check_own_once(self) -> None:
        """The first own presence of a run may be a meeting's that outlived it."""
        if not self._checked:
            self._checked = True
            for hook in self._first_own_hooks:
                hook()
