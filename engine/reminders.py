"""Reminders: at a scheduled meeting's start, MeetingReminder on the bus.

For every scheduled meeting whose room I am a member of (the organizer, and
invitees who accepted), once per start: a meeting already under way when
Confero starts still gets its reminder, one that is over or was ended does not.
The personal meeting holds several occasions (engine/meeting_schedule.py):
each gets its own reminder, in turn.
Which ones fired is kept in the data folder, so a restart does not repeat them.
The clock and the sleep are attributes (set them before the session starts) so
tests can move time on instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from engine import events as ev
from engine.conference_models import SessionState
from engine.conferences import Conferences
from engine.matrix_events import CONFERENCE_STATE
from engine.meeting_schedule import (
    Occasion,
    Schedule,
    all_occasions,
    is_ended,
    next_occasion,
)
from engine.sanitize import clean_name
from engine.session import Session

log = logging.getLogger(__name__)

FIRED_FILE = "reminders_fired.json"
#: Fired reminders older than this are forgotten (their meetings are long over).
KEEP_FIRED_MS = 30 * 24 * 3600 * 1000


class Reminders:
    def __init__(
        self,
        session: Session,
        conferences: Conferences,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._session = session
        self._conferences = conferences
        self.clock = clock
        self.sleep = sleep
        # room -> (the meeting's subject, its occasions sorted by start)
        self._meetings: dict[str, tuple[str, list[Occasion]]] = {}
        self._fired: dict[str, int] = {}  # room -> the latest start it was reminded of
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        session.on_room_event(self._apply_room_event)
        session.on_started(self._start)
        session.on_close(self._close)

    # -------------------------------------------------------------- reading

    def scheduled(self) -> dict[str, Schedule]:
        """The scheduled, not ended meetings seen in sync (room -> times): a
        meeting's own times, or the personal meeting's next occasion."""
        now_ms = int(self.clock() * 1000)
        found: dict[str, Schedule] = {}
        for room_id, (_, occasions) in self._meetings.items():
            current = next_occasion(occasions, now_ms) or occasions[-1]
            found[room_id] = current.schedule
        return found

    def occasions(self, room_id: str) -> list[Occasion]:
        """A meeting's scheduled times, sorted (one, or the personal meeting's list)."""
        entry = self._meetings.get(room_id)
        return list(entry[1]) if entry else []

    def fired(self, room_id: str, start_ms: int | None = None) -> bool:
        """The reminder for the occasion at ``start_ms`` (default: the one
        scheduled() gives) was given."""
        if start_ms is None:
            current = self.scheduled().get(room_id)
            if current is None:
                return False
            start_ms = current.start_ms
        last = self._fired.get(room_id)
        return room_id in self._meetings and last is not None and last >= start_ms

    def track(self, room_id: str, subject: str, occasions: list[Occasion]) -> None:
        """A meeting just scheduled here: known now, not when sync brings it back."""
        if occasions:
            self._meetings[room_id] = (subject, sorted(occasions))
            self._changed.set()

    # ----------------------------------------------------------------- sync

    def _apply_room_event(self, room: Any, source: dict[str, Any], in_timeline: bool) -> None:
        kind = source.get("type")
        if kind == CONFERENCE_STATE and source.get("state_key") == "":
            content = source.get("content")
            state = content if isinstance(content, dict) else None
            occasions = all_occasions(state)
            if not occasions or is_ended(state):
                self._meetings.pop(room.room_id, None)
            else:
                assert state is not None
                subject = clean_name(str(state.get("subject") or "")) or "Meeting"
                self._meetings[room.room_id] = (subject, occasions)
            self._changed.set()
        elif kind == "m.room.member" and source.get("state_key") == self._session.user_id:
            self._changed.set()  # accepted (or left) a meeting: what is due changed

    # ------------------------------------------------------------- the loop

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._run())

    async def _close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None

    async def _run(self) -> None:
        self._fired = await asyncio.to_thread(self._load)
        while True:
            self._changed.clear()
            now_ms = int(self.clock() * 1000)
            due, next_ms = self._due(now_ms)
            for room_id, subject, start_ms in due:
                self._session.bus.publish(ev.MeetingReminder(room_id, subject, start_ms))
            if due:
                fired = self._kept(now_ms)
                try:
                    await asyncio.to_thread(self._save, fired)
                except OSError as exc:
                    log.warning("could not remember the reminders shown: %s", exc)
            await self._wait(next_ms)

    def _due(self, now_ms: int) -> tuple[list[tuple[str, str, int]], int | None]:
        """Reminders to give now, and when the next one falls due (ms), if any."""
        due: list[tuple[str, str, int]] = []
        next_ms: int | None = None
        for room_id, (subject, occasions) in self._meetings.items():
            if not self._conferences.is_member(room_id):
                continue  # not accepted (yet): a later join wakes the loop
            for occasion in occasions:  # sorted by start: reminded in turn
                last = self._fired.get(room_id)
                if (last is not None and occasion.start_ms <= last) or now_ms >= occasion.end_ms:
                    continue  # reminded already, or over
                if now_ms < occasion.start_ms:
                    start = occasion.start_ms
                    next_ms = start if next_ms is None else min(next_ms, start)
                    break
                session = self._conferences.session(room_id)
                if session is not None and session.state is SessionState.CONNECTED:
                    self._fired[room_id] = occasion.start_ms  # already in it: nothing to remind
                    continue
                due.append((room_id, occasion.subject or subject, occasion.start_ms))
                self._fired[room_id] = occasion.start_ms
        return due, next_ms

    async def _wait(self, until_ms: int | None) -> None:
        """Until ``until_ms`` on our clock, or what is due may have changed."""
        changed = asyncio.ensure_future(self._changed.wait())
        waits: set[asyncio.Future[Any]] = {changed}
        if until_ms is not None:
            # Measured now, not when the loop read the clock: saving the fired
            # ones took a while, and the clock went on meanwhile.
            delay_s = until_ms / 1000 - self.clock()
            waits.add(asyncio.ensure_future(self.sleep(max(0.0, delay_s))))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    # ------------------------------------------------------- the fired ones

    def _kept(self, now_ms: int) -> dict[str, int]:
        return {r: s for r, s in self._fired.items() if now_ms - s < KEEP_FIRED_MS}

    def _path(self) -> Path:
        return self._session.data_dir / FIRED_FILE

    def _load(self) -> dict[str, int]:
        try:
            data = json.loads(self._path().read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        fired = data.get("fired") if isinstance(data, dict) else None
        if not isinstance(fired, dict):
            return {}
        return {str(r): s for r, s in fired.items() if type(s) is int}

    def _save(self, fired: dict[str, int]) -> None:
        path = self._path()
        path.parent.mkdir(parents=True, exist_ok=True)
        scratch = path.with_suffix(".tmp")
        scratch.write_text(json.dumps({"fired": fired}), encoding="utf-8")
        scratch.replace(path)
